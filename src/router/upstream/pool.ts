import net from 'node:net';
import { ChunkedDecoder } from './chunked.ts';
import { headEnd, MalformedResponse, parseResponseHead, type ResponseHead } from './head.ts';

// Keep-alive HTTP/1.1 connections to one backend, and the exchanges on them. This replaces
// http.request + http.Agent on the router's hot path: those cost ~45 µs of CPU per request
// (a ClientRequest, a parser taken from a pool, half a dozen listeners added to and removed from
// the socket, the agent's bookkeeping), here a connection keeps its listeners for its lifetime and
// a request is one latin1 write. Only node:net; the server side stays node:http.

/** What the router does with one request's answer. Called at most once each, in this order. */
export interface Exchange {
  /** The final head (1xx interim answers are skipped). */
  onHead(head: ResponseHead): void;
  onBody(data: Buffer): void;
  /** The answer is complete; `last` is its final piece of body (a string is latin1), if it arrived with the end. */
  onEnd(last: Buffer | string | undefined): void;
  /** No complete answer; `stage` says how far the exchange got. */
  onError(err: NodeJS.ErrnoException, stage: Stage): void;
}

export type RequestBody = 'none' | 'length' | 'chunked';

/**
 * Where an exchange failed:
 * - `connect`: no connection to the backend could be made (the only stage that says the instance is gone);
 * - `reused`: a connection that had served before failed before any answer (the backend closed an
 *   idle connection as it was reused: safe to retry anywhere);
 * - `sent`: a fresh connection failed before any answer (the request may have been acted on);
 * - `answered`: the head was passed on, the body was not complete.
 */
export type Stage = 'connect' | 'reused' | 'sent' | 'answered';

/** Idle connections are closed after this, before the backend's own keep-alive timeout would (Node's is 5 s). */
const IDLE_MS = 4_000;
const MAX_IDLE = 256;
/** Response heads remembered per backend (see UpstreamPool.parse). */
const MAX_HEADS = 16;
/** Up to this size a final piece of body is passed on as a latin1 string. */
const SMALL = 4096;
const LAST_CHUNK = '0\r\n\r\n';
/**
 * Every upstream read lands here (one at a time: reads are handled synchronously), so whatever
 * must outlive the read is copied out: a partial head, and body handed to the client response,
 * which node:http may queue.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

// Where a connection is in reading an answer (numbers: Node's type stripping has no enums).
const HEAD = 0, LENGTH = 1, CHUNKED = 2, CLOSE = 3, IDLE = 4;

function upstreamError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

export class UpstreamPool {
  private readonly idle: Connection[] = [];
  private readonly busy = new Set<Connection>();
  private readonly heads = new Map<string, ResponseHead>();

  readonly host: string;
  readonly port: number;

  constructor(host: string, port: number) {
    this.host = host;
    this.port = port;
  }

  /** Sends a request head on a free (or new) connection; the body, if any, follows via write/end. */
  send(method: string, head: string, body: RequestBody, exchange: Exchange, now: number): Connection {
    let conn = this.idle.pop();
    while (conn && now - conn.lastActive > IDLE_MS) {
      conn.destroy();
      conn = this.idle.pop();
    }
    conn ??= new Connection(this);
    this.busy.add(conn);
    conn.begin(method, head, body, exchange, now);
    return conn;
  }

  /** Fails exchanges silent for longer than `timeoutMs`, and closes connections idle too long. */
  sweep(now: number, timeoutMs: number): void {
    for (const conn of this.busy) conn.check(now, timeoutMs);
    for (let i = this.idle.length - 1; i >= 0; i--) if (now - this.idle[i].lastActive > IDLE_MS) this.idle[i].destroy();
  }

  destroy(): void {
    for (const conn of [...this.idle, ...this.busy]) conn.destroy();
  }

  /**
   * @internal parses a response head, remembering the last few: a backend sends the same head
   * again and again (only Date changes, once a second), and parsing is the router's largest
   * share of CPU per request. The fields array is copied: the router appends to it.
   */
  parse(text: string, method: string): ResponseHead {
    if (method === 'HEAD') return parseResponseHead(text, method);
    let head = this.heads.get(text);
    if (!head) {
      head = parseResponseHead(text, method);
      if (this.heads.size >= MAX_HEADS) this.heads.clear();
      this.heads.set(text, head);
    }
    return { ...head, fields: head.fields.slice() };
  }

  /** @internal the connection finished an exchange and can serve another. */
  release(conn: Connection): void {
    this.busy.delete(conn);
    if (this.idle.length >= MAX_IDLE) conn.destroy();
    else this.idle.push(conn);
  }

  /** @internal the connection is gone. */
  forget(conn: Connection): void {
    this.busy.delete(conn);
    const at = this.idle.indexOf(conn);
    if (at !== -1) this.idle.splice(at, 1);
  }
}

export class Connection {
  /** When the exchange began, bytes last arrived (as seen by the sweep), or the connection fell idle. */
  lastActive = 0;
  /**
   * Counts reads and body writes, so that the hot path never reads the clock and the sweep can
   * tell progress (a slow upload to a backend is not a backend that hangs).
   */
  private activity = 0;
  private activitySeen = 0;
  private exchange: Exchange | undefined;
  private method = 'GET';
  private answered = false;
  private connected = false;
  private paused = false;
  private requestDone = true;
  private chunkedRequest = false;
  private mode: number = IDLE;
  private remaining = 0;
  private decoder: ChunkedDecoder | undefined;
  private closeAfter = false;
  private pending: Buffer | undefined;
  private served = 0;
  private closed = false;

  readonly socket: net.Socket;
  private readonly pool: UpstreamPool;

  constructor(pool: UpstreamPool) {
    this.pool = pool;
    // Reads land in one shared buffer and come straight to onData, without the stream machinery
    // of 'data' events (7% of the router's throughput in bench/router/ab.ts).
    const socket = net.connect({ host: pool.host, port: pool.port, noDelay: true, onread: { buffer: READ_BUFFER, callback: (n: number) => { this.onData(READ_BUFFER.subarray(0, n)); return true; } } });
    this.socket = socket;
    socket.once('connect', () => { this.connected = true; });
    socket.on('end', () => this.onEnd());
    socket.on('error', (err: NodeJS.ErrnoException) => this.fail(err));
    socket.on('close', () => this.onClose());
  }

  /** @internal */
  begin(method: string, head: string, body: RequestBody, exchange: Exchange, now: number): void {
    this.exchange = exchange;
    this.method = method;
    this.answered = false;
    this.requestDone = body === 'none';
    this.chunkedRequest = body === 'chunked';
    this.mode = HEAD;
    this.closeAfter = false;
    this.lastActive = now;
    this.socket.write(head, 'latin1');
  }

  /** Request body bytes; false means wait for the socket's 'drain'. */
  write(data: Buffer): boolean {
    if (this.closed || data.length === 0) return true;
    this.activity++;
    if (!this.chunkedRequest) return this.socket.write(data);
    this.socket.write(`${data.length.toString(16)}\r\n`, 'latin1');
    this.socket.write(data);
    return this.socket.write('\r\n', 'latin1');
  }

  /** The request body is complete. */
  end(): void {
    if (this.closed || this.requestDone) return;
    this.requestDone = true;
    if (this.chunkedRequest) this.socket.write(LAST_CHUNK, 'latin1');
  }

  pause(): void {
    this.paused = true;
    this.socket.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.socket.resume();
  }

  /** Drops the exchange (the client left): the connection cannot be reused mid-answer. */
  abort(): void {
    this.exchange = undefined;
    this.destroy();
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.pool.forget(this);
    this.socket.destroy();
  }

  /** @internal fails an exchange that has not had a byte for `timeoutMs`. */
  check(now: number, timeoutMs: number): void {
    if (this.activity !== this.activitySeen) {
      this.activitySeen = this.activity;
      this.lastActive = now;
    } else if (now - this.lastActive > timeoutMs) {
      this.fail(upstreamError('ETIMEDOUT', `no answer within ${timeoutMs} ms`));
    }
  }

  /** @internal ends the exchange in progress with an error and the connection with it. */
  fail(err: NodeJS.ErrnoException): void {
    const exchange = this.exchange;
    this.exchange = undefined;
    this.destroy();
    exchange?.onError(err, this.answered ? 'answered' : !this.connected ? 'connect' : this.served > 0 ? 'reused' : 'sent');
  }

  private onData(chunk: Buffer): void {
    if (!this.exchange) {
      // Bytes nobody asked for: the connection's framing can no longer be trusted.
      if (this.mode === IDLE) this.destroy();
      return;
    }
    this.activity++;
    try {
      this.consume(chunk);
    } catch (err) {
      this.fail(err instanceof MalformedResponse ? err : upstreamError('EUPSTREAMPROTO', String(err)));
    }
  }

  private consume(input: Buffer): void {
    let buf = input;
    let pos = 0;
    while (pos < buf.length && this.exchange) {
      const exchange: Exchange = this.exchange;
      switch (this.mode) {
        case HEAD: {
          if (this.pending) {
            buf = Buffer.concat([this.pending, buf.subarray(pos)]);
            pos = 0;
            this.pending = undefined;
          }
          const end = headEnd(buf, pos);
          if (end === -1) {
            this.pending = Buffer.from(buf.subarray(pos));
            return;
          }
          const head = this.pool.parse(buf.toString('latin1', pos, end), this.method);
          pos = end + 4;
          if (head.status === 101) throw new MalformedResponse('the backend switched protocols, which the router does not forward');
          if (head.status < 200) continue; // 100 Continue, 103 Early Hints: interim, not forwarded
          this.answered = true;
          this.closeAfter = head.close;
          exchange.onHead(head);
          if (head.framing === 'none') this.complete(undefined, pos < buf.length);
          else if (head.framing === 'length') { this.mode = LENGTH; this.remaining = head.length; }
          else if (head.framing === 'chunked') { this.mode = CHUNKED; this.decoder = new ChunkedDecoder(); }
          else { this.mode = CLOSE; this.closeAfter = true; }
          break;
        }
        case LENGTH: {
          const end = Math.min(buf.length, pos + this.remaining);
          this.remaining -= end - pos;
          // A small last piece is handed over as a latin1 string (the same bytes), which
          // node:http sends joined to the head in one write instead of a writev of two.
          if (this.remaining > 0) exchange.onBody(Buffer.from(buf.subarray(pos, end)));
          else this.complete(end - pos <= SMALL ? buf.toString('latin1', pos, end) : Buffer.from(buf.subarray(pos, end)), end < buf.length);
          pos = end;
          break;
        }
        case CHUNKED: {
          // The last piece is held back so that it can go out with the end in one write.
          let held: Buffer | undefined;
          const at = this.decoder!.push(buf, pos, (data) => {
            if (held) exchange.onBody(held);
            held = Buffer.from(data);
          });
          if (at === -1) {
            if (held) exchange.onBody(held);
            return;
          }
          pos = at;
          this.complete(held, pos < buf.length);
          break;
        }
        case CLOSE:
          exchange.onBody(Buffer.from(pos === 0 ? buf : buf.subarray(pos)));
          return;
        default:
          return;
      }
    }
  }

  /** The answer is complete: the connection goes back to the pool if nothing forbids it. */
  private complete(last: Buffer | string | undefined, trailingBytes: boolean): void {
    const exchange = this.exchange!;
    this.exchange = undefined;
    this.mode = IDLE;
    this.decoder = undefined;
    this.served++;
    this.lastActive = performance.now();
    // Bytes after the answer (we never pipeline), a request body still being sent, or the
    // backend saying so: this connection's framing is done for.
    if (this.closeAfter || trailingBytes || !this.requestDone) this.destroy();
    else {
      // A slow client may have paused the read that finished the answer: the next exchange on
      // this connection must not inherit that.
      this.resume();
      this.pool.release(this);
    }
    exchange.onEnd(last);
  }

  private onEnd(): void {
    if (this.exchange && this.mode === CLOSE) return this.complete(undefined, false);
    if (this.exchange) {
      const where = this.answered ? 'in the middle of its answer' : 'before answering';
      return this.fail(upstreamError('ECONNRESET', `the backend closed the connection ${where}`));
    }
    this.destroy();
  }

  private onClose(): void {
    if (this.exchange) this.fail(upstreamError('ECONNRESET', 'the connection to the backend closed'));
    else this.destroy();
  }
}
