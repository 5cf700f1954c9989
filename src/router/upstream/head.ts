// Reading a backend's response head (status line and header fields, RFC 9112 §4–6), strictly:
// whatever this accepts is handed to node:http's ServerResponse, which throws on a bad token or
// value, so a malformed answer must be rejected here, as a 502, and never reach the client.

/** How the body that follows a head is delimited; `close`: read until the backend closes. */
export type Framing = 'none' | 'length' | 'chunked' | 'close';

export interface ResponseHead {
  status: number;
  reason: string;
  /**
   * End-to-end field names and values, alternating, in the order received: what a proxy passes
   * on. Hop-by-hop fields are left out, and so is X-Slipway-Release, which the router sets.
   */
  fields: string[];
  framing: Framing;
  /** The body's length when `framing` is 'length'. */
  length: number;
  /** The backend asked to close the connection after this response. */
  close: boolean;
}

export class MalformedResponse extends Error {
  readonly code = 'EUPSTREAMPROTO';
}

/** The largest response head accepted (status line plus fields). */
const MAX_HEAD = 64 * 1024;
const CRLFCRLF = Buffer.from('\r\n\r\n');

/**
 * Where the head that starts at `from` ends (the index of its blank line), or -1 while more bytes
 * are needed; throws once a head grows past what any real backend sends.
 */
export function headEnd(buf: Buffer, from: number): number {
  const end = buf.indexOf(CRLFCRLF, from);
  if ((end === -1 ? buf.length : end) - from > MAX_HEAD) throw new MalformedResponse(`response head larger than ${MAX_HEAD} bytes`);
  return end;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// What node:http refuses in a header value (and so must never be handed to it).
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const DIGITS = /^\d{1,15}$/;
/** Fields a proxy must not pass on (RFC 9110 §7.6.1). */
export const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade'];
/**
 * Also dropped from answers: Transfer-Encoding, because node:http frames the body for its client
 * itself (chunked, or to the close for HTTP/1.0), and the release field, which the router sets.
 */
const DROPPED = new Set([...HOP_BY_HOP, 'transfer-encoding', 'x-slipway-release']);
/** Only names of these lengths can be a framing or a dropped field: the others skip toLowerCase. */
const INTERESTING = new Set(['content-length', 'transfer-encoding', ...DROPPED].map((n) => n.length));
const SP = 32;
const HTAB = 9;

/**
 * Parses `text`: a head without its final blank line, decoded as latin1. `method` is the
 * request's (a HEAD request's response has no body whatever its fields say). Written with
 * indexOf and char codes rather than split and regexes: it runs for every proxied request.
 */
export function parseResponseHead(text: string, method: string): ResponseHead {
  let eol = text.indexOf('\r\n');
  if (eol === -1) eol = text.length;
  const code = statusOf(text, eol);
  const reason = eol > 13 ? text.slice(13, eol) : '';
  if (BAD_VALUE.test(reason)) throw new MalformedResponse('bad reason phrase');
  const http10 = text.charCodeAt(7) === 48; // HTTP/1.0
  const fields: string[] = [];
  let length: string | undefined;
  let lengthAt = -1;
  let chunked = false;
  let close = http10;
  for (let at = eol + 2; at < text.length;) {
    let end = text.indexOf('\r\n', at);
    if (end === -1) end = text.length;
    const colon = text.indexOf(':', at);
    const name = colon > at && colon < end ? text.slice(at, colon) : '';
    if (!TOKEN.test(name)) throw new MalformedResponse(`bad header line ${JSON.stringify(text.slice(at, Math.min(end, at + 80)))}`);
    // Optional whitespace around the value is spaces and tabs only (String.trim takes more).
    let from = colon + 1;
    let to = end;
    while (from < to && (text.charCodeAt(from) === SP || text.charCodeAt(from) === HTAB)) from++;
    while (to > from && (text.charCodeAt(to - 1) === SP || text.charCodeAt(to - 1) === HTAB)) to--;
    const value = text.slice(from, to);
    if (BAD_VALUE.test(value)) throw new MalformedResponse(`bad value in header ${name}`);
    at = end + 2;
    const lower = INTERESTING.has(name.length) ? name.toLowerCase() : '';
    switch (lower) {
      case 'content-length':
        if (!DIGITS.test(value) || (length !== undefined && length !== value)) throw new MalformedResponse(`bad content-length ${JSON.stringify(value)}`);
        if (length === undefined) lengthAt = fields.length;
        else continue; // the same length twice is allowed, and passed on once
        length = value;
        break;
      case 'transfer-encoding':
        // Only plain `chunked`: another coding (gzip, …) would reach the client undeclared once
        // the body is re-framed, so such an answer is refused rather than passed on wrong.
        if (chunked || value.toLowerCase() !== 'chunked') throw new MalformedResponse(`unsupported transfer-encoding ${JSON.stringify(value)}`);
        chunked = true;
        break;
      case 'connection':
        if (/(?:^|,)\s*close\s*(?:,|$)/i.test(value)) close = true;
        else if (http10 && /(?:^|,)\s*keep-alive\s*(?:,|$)/i.test(value)) close = false;
        break;
    }
    if (lower === '' || !DROPPED.has(lower)) fields.push(name, value);
  }
  // A length beside chunked is wrong and ignored (RFC 9112 §6.3): it must not reach the client.
  if (chunked && lengthAt !== -1) fields.splice(lengthAt, 2);
  const framing = framingOf(code, method, chunked, length);
  return { status: code, reason, fields, framing, length: framing === 'length' ? Number(length) : 0, close };
}

/** "HTTP/1.x NNN" then a space or the end of the line. */
function statusOf(text: string, eol: number): number {
  const d1 = text.charCodeAt(9) - 48;
  const d2 = text.charCodeAt(10) - 48;
  const d3 = text.charCodeAt(11) - 48;
  const minor = text.charCodeAt(7);
  const ok = eol >= 12 && text.startsWith('HTTP/1.') && (minor === 48 || minor === 49) && text.charCodeAt(8) === SP
    && d1 >= 1 && d1 <= 9 && d2 >= 0 && d2 <= 9 && d3 >= 0 && d3 <= 9 && (eol === 12 || text.charCodeAt(12) === SP);
  if (!ok) throw new MalformedResponse(`bad status line ${JSON.stringify(text.slice(0, Math.min(eol, 80)))}`);
  return d1 * 100 + d2 * 10 + d3;
}

function framingOf(status: number, method: string, chunked: boolean, length: string | undefined): Framing {
  if (method === 'HEAD' || status < 200 || status === 204 || status === 304) return 'none';
  // Chunked overrides any length (RFC 9112 §6.3).
  if (chunked) return 'chunked';
  if (length !== undefined) return Number(length) === 0 ? 'none' : 'length';
  return 'close';
}
