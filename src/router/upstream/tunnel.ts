import net from 'node:net';
import type { Duplex } from 'node:stream';
import { ChunkedDecoder } from './chunked.ts';
import { headEnd, type MalformedResponse, parseResponseHead, type ResponseHead } from './head.ts';

// A protocol switch (WebSocket) through the router: the handshake goes to the backend on a
// connection of its own. If the backend switches (101), the bytes flow both ways untouched until
// either side closes. If it refuses, its answer is passed on and the client's connection closed,
// so that nothing the client sends next bypasses routing. The connection never returns to a pool.

export interface TunnelEvents {
  /** The backend answered the handshake (101, or a refusal the client gets as sent). */
  onAnswer(status: number): void;
  /**
   * No answer. Nothing has been written to the client and the tunnel has let go of it, so the
   * client can be told why, or sent elsewhere. `connected`: the handshake reached the backend.
   */
  onFail(err: NodeJS.ErrnoException, connected: boolean): void;
  /** The end: both sides closed after an answer, or the client left before one. Called once. */
  onClose(answered: boolean): void;
}

/** After one side closes, how long the other may take to finish before it is cut. */
const LINGER_MS = 10_000;

const failure = (code: string, message: string): NodeJS.ErrnoException => Object.assign(new Error(message), { code });

/**
 * Sends `head` (and `early`, the bytes the client sent after it) to host:port and, on an
 * answer, joins the two connections. `release` is added to the answer as X-Slipway-Release.
 */
export function openTunnel(client: Duplex, early: Buffer, host: string, port: number, head: string, release: string, timeoutMs: number, events: TunnelEvents): void {
  const upstream = net.connect({ host, port, noDelay: true });
  let state: 'waiting' | 'open' | 'done' = 'waiting';
  let pending: Buffer | undefined;
  let connected = false;
  upstream.once('connect', () => { connected = true; });

  const ignore = () => {};
  const clientLeft = () => {
    if (state !== 'waiting') return;
    state = 'done';
    upstream.destroy();
    events.onClose(false);
  };
  const letGoOfClient = () => {
    client.off('close', clientLeft);
    client.off('error', ignore);
  };
  const fail = (err: NodeJS.ErrnoException) => {
    if (state !== 'waiting') return;
    state = 'done';
    letGoOfClient();
    upstream.destroy();
    events.onFail(err, connected);
  };

  const open = (text: string, rest: Buffer, status: number) => {
    state = 'open';
    letGoOfClient();
    upstream.off('data', onData);
    upstream.setTimeout(0);
    // The head as the backend sent it: its Connection, Upgrade and Sec-WebSocket-* fields are
    // the handshake the client checks.
    client.write(`${text}\r\nx-slipway-release: ${release}\r\n\r\n`, 'latin1');
    if (rest.length) client.write(rest);
    let closed = 0;
    const oneClosed = (other: Duplex) => () => {
      // The other side may still be flushing what it was sent: end it, and cut it if it lingers.
      other.end();
      setTimeout(() => other.destroy(), LINGER_MS).unref();
      if (++closed === 2) {
        state = 'done';
        events.onClose(true);
      }
    };
    client.on('error', () => client.destroy());
    upstream.on('error', () => upstream.destroy());
    client.on('close', oneClosed(upstream));
    upstream.on('close', oneClosed(client));
    upstream.pipe(client);
    client.pipe(upstream);
    events.onAnswer(status);
  };

  /** A refusal (401, 404, 426, …): passed on with `Connection: close`, body and all, then the end. */
  const refused = (answer: ResponseHead, text: string, rest: Buffer) => {
    state = 'open';
    letGoOfClient();
    upstream.off('data', onData);
    upstream.setTimeout(timeoutMs, () => finish());
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      state = 'done';
      upstream.destroy();
      client.end();
      events.onClose(true);
    };
    client.on('error', () => client.destroy());
    client.on('close', finish);
    upstream.on('close', finish);
    const fields: string[] = [];
    for (let i = 0; i < answer.fields.length; i += 2) fields.push(`${answer.fields[i]}: ${answer.fields[i + 1]}\r\n`);
    if (answer.framing === 'chunked') fields.push('transfer-encoding: chunked\r\n');
    const eol = text.indexOf('\r\n');
    const statusLine = eol === -1 ? text : text.slice(0, eol);
    client.write(`${statusLine}\r\n${fields.join('')}x-slipway-release: ${release}\r\nconnection: close\r\n\r\n`, 'latin1');
    events.onAnswer(answer.status);
    // The body goes through as it comes (still chunked, if it was), up to where its framing ends.
    let remaining = answer.framing === 'length' ? answer.length : Infinity;
    const decoder = answer.framing === 'chunked' ? new ChunkedDecoder() : undefined;
    const forward = (data: Buffer) => {
      let end = data.length;
      if (decoder) {
        try {
          const at = decoder.push(data, 0, () => {});
          if (at !== -1) end = at;
        } catch {
          end = 0;
          remaining = 0;
        }
      } else end = Math.min(end, remaining);
      if (end > 0) client.write(data.subarray(0, end));
      if (answer.framing === 'length') remaining -= end;
      if (answer.framing === 'none' || remaining === 0 || decoder?.done) finish();
    };
    if (answer.framing === 'none') return finish();
    upstream.on('data', forward);
    if (rest.length) forward(rest);
  };

  const onData = (chunk: Buffer) => {
    let buf = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = undefined;
    for (;;) {
      let end: number;
      let text: string;
      let answer: ResponseHead;
      try {
        end = headEnd(buf, 0);
        if (end === -1) {
          pending = buf;
          return;
        }
        text = buf.toString('latin1', 0, end);
        answer = parseResponseHead(text, 'GET'); // validates the whole head
      } catch (err) {
        return fail(err as MalformedResponse);
      }
      buf = buf.subarray(end + 4);
      if (answer.status === 101) return open(text, buf, 101);
      if (answer.status >= 200) return refused(answer, text, buf);
      // An interim answer (100, 103) before the real one: skipped.
    }
  };

  client.on('close', clientLeft);
  client.on('error', ignore);
  upstream.on('data', onData);
  upstream.setTimeout(timeoutMs, () => fail(failure('ETIMEDOUT', `no answer within ${timeoutMs} ms`)));
  upstream.on('error', (err: NodeJS.ErrnoException) => fail(err));
  upstream.on('end', () => fail(failure('ECONNRESET', 'the backend closed the connection before answering')));
  upstream.write(head, 'latin1');
  if (early.length) upstream.write(early);
}
