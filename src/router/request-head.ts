import { HOP_BY_HOP } from './upstream/head.ts';
import type { RequestBody } from './upstream/pool.ts';

// The head of the request the router sends a backend, built in one pass over the client's raw
// header list (node:http's lazily built `req.headers` object is never needed on the common path).

/**
 * Request fields not copied from the client: hop-by-hop ones, those the router sets itself, and
 * `expect` (node:http has already told the client to go on; the backend gets the body outright).
 */
const NOT_FORWARDED = new Set([...HOP_BY_HOP, 'host', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'expect']);

export interface RequestHead {
  /** The Host field as sent (with any port), or '' without one. */
  host: string;
  /** The whole head, request line to blank line, ready to write as latin1. */
  text: string;
  body: RequestBody;
}

/**
 * With `upgrade`, the client's Upgrade field is kept, with `Connection: upgrade`.
 * node:http has validated every name and value already (llhttp is strict), and rejects a request
 * that carries both Content-Length and Transfer-Encoding, so the framing fields pass as they are.
 */
export function requestHead(method: string, url: string, raw: string[], remoteAddress: string, upgrade = false): RequestHead {
  let host: string | undefined;
  let forwardedFor = '';
  let fields = '';
  let body: RequestBody = 'none';
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const value = raw[i + 1];
    const lower = name.toLowerCase();
    if (NOT_FORWARDED.has(lower)) {
      if (lower === 'host') host ??= value;
      else if (lower === 'x-forwarded-for') forwardedFor = forwardedFor ? `${forwardedFor}, ${value}` : value;
      // A protocol switch (WebSocket) is the one hop-by-hop request a backend must see.
      else if (upgrade && lower === 'upgrade') fields += `${name}: ${value}\r\nconnection: upgrade\r\n`;
      continue;
    }
    if (lower === 'transfer-encoding') body = 'chunked';
    else if (lower === 'content-length' && value !== '0' && body === 'none') body = 'length';
    fields += `${name}: ${value}\r\n`;
  }
  const forwarded = `x-forwarded-for: ${forwardedFor ? `${forwardedFor}, ${remoteAddress}` : remoteAddress}\r\n`;
  const hostFields = host === undefined ? '' : `host: ${host}\r\n`;
  const forwardedHost = host === undefined ? '' : `x-forwarded-host: ${host}\r\n`;
  const text = `${method} ${url} HTTP/1.1\r\n${hostFields}${fields}${forwarded}${forwardedHost}x-forwarded-proto: http\r\n\r\n`;
  return { host: host ?? '', text, body };
}
