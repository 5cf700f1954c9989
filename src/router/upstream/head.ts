// Reading a backend's response head (status line and header fields, RFC 9112 §4–6), strictly:
// whatever this accepts is handed to node:http's ServerResponse, which throws on a bad token or
// value, so a malformed answer must be rejected here, as a 502, and never reach the client.

/** How the body that follows a head is delimited. */
export type Framing =
  | { kind: 'none' }
  | { kind: 'length'; length: number }
  | { kind: 'chunked' }
  | { kind: 'close' }; // read until the backend closes the connection

export interface ResponseHead {
  status: number;
  reason: string;
  /** Field names and values, alternating, in the order received. */
  rawHeaders: string[];
  framing: Framing;
  /** The backend asked to close the connection after this response. */
  close: boolean;
}

export class MalformedResponse extends Error {
  readonly code = 'EUPSTREAMPROTO';
}

const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: ([^\r\n]*))?$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// What node:http refuses in a header value (and so must never be handed to it).
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const DIGITS = /^\d{1,15}$/;

/**
 * Parses `text`: a head without its final blank line, decoded as latin1. `method` is the
 * request's (a HEAD request's response has no body whatever its fields say).
 */
export function parseResponseHead(text: string, method: string): ResponseHead {
  const lines = text.split('\r\n');
  const status = STATUS_LINE.exec(lines[0]);
  if (!status) throw new MalformedResponse(`bad status line ${JSON.stringify(lines[0].slice(0, 80))}`);
  const code = Number(status[2]);
  const reason = status[3] ?? '';
  if (BAD_VALUE.test(reason)) throw new MalformedResponse('bad reason phrase');
  const rawHeaders: string[] = [];
  let length: string | undefined;
  let chunked = false;
  let encoded = false;
  let close = status[1] === '0';
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!TOKEN.test(name)) throw new MalformedResponse(`bad header line ${JSON.stringify(line.slice(0, 80))}`);
    const value = line.slice(colon + 1).trim();
    if (BAD_VALUE.test(value)) throw new MalformedResponse(`bad value in header ${name}`);
    rawHeaders.push(name, value);
    switch (name.length === 10 || name.length === 14 || name.length === 17 ? name.toLowerCase() : '') {
      case 'content-length':
        if (!DIGITS.test(value) || (length !== undefined && length !== value)) throw new MalformedResponse(`bad content-length ${JSON.stringify(value)}`);
        length = value;
        break;
      case 'transfer-encoding':
        encoded = true;
        // Only a final `chunked` delimits the body; any other coding runs to the close.
        chunked = /(?:^|,)\s*chunked\s*$/i.test(value);
        break;
      case 'connection':
        if (/(?:^|,)\s*close\s*(?:,|$)/i.test(value)) close = true;
        else if (status[1] === '0' && /(?:^|,)\s*keep-alive\s*(?:,|$)/i.test(value)) close = false;
        break;
    }
  }
  return { status: code, reason, rawHeaders, framing: framingOf(code, method, encoded, chunked, length), close };
}

function framingOf(status: number, method: string, encoded: boolean, chunked: boolean, length: string | undefined): Framing {
  if (method === 'HEAD' || status < 200 || status === 204 || status === 304) return { kind: 'none' };
  // A transfer coding overrides any length (RFC 9112 §6.3).
  if (encoded) return chunked ? { kind: 'chunked' } : { kind: 'close' };
  if (length !== undefined) return Number(length) === 0 ? { kind: 'none' } : { kind: 'length', length: Number(length) };
  return { kind: 'close' };
}
