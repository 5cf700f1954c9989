import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { requestHead } from './request-head.ts';
import { UpstreamPool, type Connection, type Exchange, type RequestBody, type Stage } from './upstream/pool.ts';
import type { ResponseHead } from './upstream/head.ts';
import { openTunnel } from './upstream/tunnel.ts';
import { available, chooseGroup, pickBackend, type Backend, type Candidate, type Choice, type Group, type Observation, type RouteSpec } from './traffic.ts';

export type { Backend, Observation, RouteSpec } from './traffic.ts';

// The data plane, on Node's own modules only: this is the hot path of every request, so no
// framework, and no per-request work beyond what proxying and measuring need. node:http serves
// the clients; backends are reached over keep-alive node:net connections (upstream/pool.ts),
// because http.request and its Agent cost as much CPU per request as everything else together.

/** Upper bounds (ms) of the latency histogram kept per backend; the last bucket is +Inf. */
export const LATENCY_BUCKETS_MS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000];

interface LiveBackend extends Candidate {
  pool: UpstreamPool;
  inFlight: number;
  requests: number;
  errors: number;
  latencySumMs: number;
  latencyCounts: number[];
}

interface Route {
  groups: Group<LiveBackend>[];
  /** The whole choice when one group of one release takes everything (the common case). */
  only: Choice<LiveBackend> | undefined;
  rules: RouteSpec['rules'];
  observe: boolean;
  retries: number;
}

export interface BackendStats {
  id: string;
  release: string;
  requests: number;
  errors: number;
  latencySumMs: number;
  latencyCounts: number[];
  inFlight: number;
}

const RETRYABLE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);
const SUFFIX = '.localhost';
/** By default, a backend that holds a request this long without a byte is treated as hung (504). */
const UPSTREAM_TIMEOUT_MS = 60_000;
/** Per group and interval; beyond this the judge has plenty and memory stays bounded. */
const MAX_OBSERVATIONS = 100_000;

export interface RouterOptions {
  /** Told synchronously on a connection error so the control plane can stop routing there. */
  onBackendError?: (id: string, error: Error) => void;
  /** A backend silent this long in the middle of an exchange gets the request a 504. */
  upstreamTimeoutMs?: number;
}

export class Router {
  private readonly routes = new Map<string, Route>();
  private readonly backends = new Map<string, LiveBackend>();
  private readonly onBackendError: (id: string, error: Error) => void;
  /** @internal */
  readonly upstreamTimeoutMs: number;
  private server: http.Server | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  /** Client connections handed over for a protocol switch: node:http no longer closes them. */
  private readonly tunnels = new Set<Duplex>();

  constructor(opts: RouterOptions = {}) {
    this.onBackendError = opts.onBackendError ?? (() => {});
    this.upstreamTimeoutMs = opts.upstreamTimeoutMs ?? UPSTREAM_TIMEOUT_MS;
  }

  /** Replaces what `<app>.<env>.localhost` reaches: a plain list of backends, or weighted groups. */
  setRoute(app: string, env: string, spec: Backend[] | RouteSpec): void {
    const key = `${app}.${env}`;
    const groupsIn = Array.isArray(spec) ? [{ name: 'stable', release: '', weight: 100, backends: spec }] : spec.groups;
    const previous = this.routes.get(key);
    const groups = groupsIn.map((g) => {
      const before = previous?.groups.find((p) => p.name === g.name);
      const backends = g.backends.map((b) => this.liveBackend(b));
      const mixed = backends.some((b) => b.release !== backends[0].release);
      return { name: g.name, release: g.release, weight: g.weight, backends, next: before?.next ?? 0, observations: before?.observations ?? [], mixed };
    });
    const observe = !Array.isArray(spec) && spec.observe === true;
    if (!observe) for (const g of groups) g.observations = [];
    const retries = groups.reduce((n, g) => n + g.backends.length, 0);
    const only = groups.length === 1 && !groups[0].mixed ? { group: groups[0] } : undefined;
    this.routes.set(key, { groups, only, rules: Array.isArray(spec) ? undefined : spec.rules, observe, retries });
    this.collect();
  }

  removeRoute(app: string, env: string): void {
    this.routes.delete(`${app}.${env}`);
    this.collect();
  }

  /** Requests an instance is still answering: draining waits for this to reach zero. */
  inFlight(id: string): number {
    return this.backends.get(id)?.inFlight ?? 0;
  }

  /** Hands over (and forgets) the per-request observations recorded per group since the last call. */
  takeObservations(app: string, env: string): Record<string, Observation[]> {
    const out: Record<string, Observation[]> = {};
    for (const g of this.routes.get(`${app}.${env}`)?.groups ?? []) {
      out[g.name] = g.observations;
      g.observations = [];
    }
    return out;
  }

  /** Counters per backend since it first appeared (for metrics). */
  stats(): BackendStats[] {
    return [...this.backends.values()].map((b) => ({
      id: b.id, release: b.release, requests: b.requests, errors: b.errors, latencySumMs: b.latencySumMs, latencyCounts: [...b.latencyCounts], inFlight: b.inFlight,
    }));
  }

  listen(port: number, host: string): Promise<number> {
    const server = http.createServer({ keepAliveTimeout: 65_000, shouldUpgradeCallback: isWebSocket }, (req, res) => this.handle(req, res));
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, early: Buffer) => this.upgrade(req, socket, early));
    this.server = server;
    this.sweeper = setInterval(() => {
      const now = performance.now();
      for (const b of this.backends.values()) b.pool.sweep(now, this.upstreamTimeoutMs);
    }, Math.min(1_000, this.upstreamTimeoutMs / 4)).unref(); // hung exchanges and long-idle connections
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    clearInterval(this.sweeper);
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
      for (const socket of this.tunnels) socket.destroy();
    });
    for (const b of this.backends.values()) b.pool.destroy();
  }

  private liveBackend(b: Backend): LiveBackend {
    const existing = this.backends.get(b.id);
    if (existing && existing.port === b.port && existing.host === b.host) {
      existing.down = false;
      existing.release = b.release;
      return existing;
    }
    // Same id on a new port (a restarted instance): requests still running finish on the old
    // object and its connections, which is dropped only when idle; the new one starts at zero in flight.
    if (existing && existing.inFlight === 0) existing.pool.destroy();
    const live: LiveBackend = {
      ...b, down: false, pool: new UpstreamPool(b.host, b.port),
      inFlight: 0, requests: existing?.requests ?? 0, errors: existing?.errors ?? 0,
      latencySumMs: existing?.latencySumMs ?? 0, latencyCounts: existing?.latencyCounts ?? new Array(LATENCY_BUCKETS_MS.length + 1).fill(0),
    };
    this.backends.set(b.id, live);
    return live;
  }

  /** Drops pooled sockets of backends no route uses any more, once they have nothing in flight. */
  private collect(): void {
    const used = new Set<string>();
    for (const route of this.routes.values()) for (const g of route.groups) for (const b of g.backends) used.add(b.id);
    for (const [id, b] of this.backends) {
      if (!used.has(id) && b.inFlight === 0) {
        b.pool.destroy();
        this.backends.delete(id);
      }
    }
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const head = requestHead(req.method ?? 'GET', req.url ?? '/', req.rawHeaders, req.socket.remoteAddress ?? '');
    const target = this.resolve(head.host, req);
    if (typeof target === 'string') return reply(res, target === NO_ROUTE ? 404 : 503, reason(target, head.host));
    const retries = head.body === 'none' && RETRYABLE.has(req.method ?? '') ? target.route.retries : 0;
    const p = new Proxied(this, req, res, target.route, target.choice, target.name, head.text, head.body, retries);
    res.on('close', () => p.clientClosed());
    this.forward(p, undefined);
  }

  /** The route and group a request's Host leads to, or why there is none. */
  private resolve(rawHost: string, req: http.IncomingMessage): { name: string; route: Route; choice: Choice<LiveBackend> } | typeof NO_ROUTE | typeof NO_INSTANCE {
    const name = hostName(rawHost);
    const route = name.endsWith(SUFFIX) ? this.routes.get(name.slice(0, -SUFFIX.length)) : undefined;
    if (!route) return NO_ROUTE;
    const choice = route.only ? (available(route.only.group) ? route.only : undefined) : chooseGroup(route.groups, route.rules, req.headers, newClientId);
    return choice ? { name, route, choice } : NO_INSTANCE;
  }

  /**
   * A WebSocket handshake: routed like any request, then tunnelled. It counts as in flight on
   * its instance until it closes, so draining waits for it up to the drain timeout.
   */
  private upgrade(req: http.IncomingMessage, socket: Duplex, early: Buffer): void {
    // node:http has handed the connection over with no error listener left: a client reset must
    // not become an uncaught error (the router runs inside the server).
    socket.on('error', () => socket.destroy());
    const head = requestHead(req.method ?? 'GET', req.url ?? '/', req.rawHeaders, req.socket.remoteAddress ?? '', true);
    const target = this.resolve(head.host, req);
    if (typeof target === 'string') return rawReply(socket, target === NO_ROUTE ? 404 : 503, reason(target, head.host));
    const { name, route, choice } = target;
    const started = performance.now();
    this.tunnels.add(socket);
    socket.once('close', () => this.tunnels.delete(socket));
    const attempt = (failed: LiveBackend | undefined, triesLeft: number): void => {
      const b = pickBackend(choice.group, failed, choice.release) ?? pickBackend(choice.group, failed);
      if (!b) return rawReply(socket, 503, reason(NO_INSTANCE, head.host));
      b.inFlight++;
      openTunnel(socket, early, b.host, b.port, head.text, b.release, this.upstreamTimeoutMs, {
        onAnswer: (status) => this.measure(route, choice.group, b, status, performance.now() - started),
        onFail: (err, connected) => {
          b.inFlight--;
          // As for requests: only a connection that cannot be made puts the instance out, and
          // only then is the handshake tried elsewhere (it never reached this instance).
          if (!connected) {
            this.backendFailed(b, err);
            if (triesLeft > 0) return attempt(b, triesLeft - 1);
          }
          const status = err.code === 'ETIMEDOUT' ? 504 : 502;
          this.measure(route, choice.group, b, status, performance.now() - started);
          const what = err.code === 'EUPSTREAMPROTO' ? `sent a malformed answer (${err.message})` : `failed to answer (${err.code ?? err.message})`;
          rawReply(socket, status, `${name}: the instance ${what}\n`);
        },
        onClose: (answered) => {
          b.inFlight--;
          if (!answered) this.measure(route, choice.group, b, 499, performance.now() - started);
        },
      });
    };
    attempt(undefined, route.retries);
  }

  /** @internal sends `p` to a backend of its group (or, if none is left there, of any group). */
  forward(p: Proxied, failed: LiveBackend | undefined): void {
    let backend = pickBackend(p.group, failed, p.release) ?? pickBackend(p.group, failed);
    if (!backend) {
      for (const g of p.route.groups) {
        backend = pickBackend(g, failed);
        if (backend) { p.group = g; break; }
      }
    }
    if (!backend) return reply(p.res, 503, noInstance(p.name));
    backend.inFlight++;
    p.backend = backend;
    p.settled = false;
    p.conn = backend.pool.send(p.req.method ?? 'GET', p.head, p.body, p, performance.now());
    if (p.body !== 'none') p.sendBody();
  }

  /** @internal a connection to `b` failed: it is out until a health probe passes. */
  backendFailed(b: LiveBackend, err: Error): void {
    b.down = true;
    this.onBackendError(b.id, err);
  }

  /** @internal */
  measure(route: Route, group: Group<LiveBackend>, b: LiveBackend, status: number, ms: number): void {
    const error = status >= 500;
    b.requests++;
    if (error) b.errors++;
    b.latencySumMs += ms;
    let i = 0;
    while (i < LATENCY_BUCKETS_MS.length && ms > LATENCY_BUCKETS_MS[i]) i++;
    b.latencyCounts[i]++;
    if (route.observe && group.observations.length < MAX_OBSERVATIONS) group.observations.push({ latencyMs: ms, error });
  }
}

function newClientId(): string {
  return randomBytes(9).toString('base64url');
}

/**
 * Only WebSocket handshakes are tunnelled. Anything else that asks to switch (curl --http2 sends
 * `Upgrade: h2c`) is served as the plain request it also is, without the Upgrade field.
 */
function isWebSocket(req: http.IncomingMessage): boolean {
  return req.headers.upgrade?.toLowerCase() === 'websocket';
}

const NO_ROUTE = 'no route';
const NO_INSTANCE = 'no instance';

/** The Host field without its port, lowercased. */
function hostName(rawHost: string): string {
  const host = rawHost.toLowerCase();
  const colon = host.lastIndexOf(':');
  return colon > host.lastIndexOf(']') && colon !== -1 ? host.slice(0, colon) : host;
}

const noRoute = (name: string) => `no app is routed at host "${name || '(none)'}": use <app>.<env>.localhost\n`;
const noInstance = (name: string) => `${name} has no healthy instance right now: check \`slipway status\`\n`;

function reason(why: typeof NO_ROUTE | typeof NO_INSTANCE, rawHost: string): string {
  return why === NO_ROUTE ? noRoute(hostName(rawHost)) : noInstance(hostName(rawHost));
}

/** An answer on a connection node:http has handed over (an upgrade request), which then closes. */
function rawReply(socket: Duplex, status: number, text: string): void {
  const body = Buffer.from(text);
  socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${text}`);
}

/** `close`: part of an upload is unread, so the connection cannot carry another request. */
function reply(res: http.ServerResponse, status: number, text: string, close = false): void {
  if (res.headersSent) return void res.destroy();
  const headers: http.OutgoingHttpHeaders = { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) };
  if (close) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(text);
}

/** One request on its way through: the answer's handler, kept across retries on other backends. */
class Proxied implements Exchange {
  readonly started = performance.now();
  readonly release: string | undefined;
  readonly cookie: string | undefined;
  group: Group<LiveBackend>;
  backend!: LiveBackend;
  conn: Connection | undefined;
  /** This attempt is accounted for (measured, or handed to a retry). */
  settled = false;
  private waitingForDrain = false;
  private status = 0;

  readonly req: http.IncomingMessage;
  readonly res: http.ServerResponse;
  readonly route: Route;
  readonly name: string;
  readonly head: string;
  readonly body: RequestBody;
  private readonly router: Router;
  private retriesLeft: number;

  constructor(router: Router, req: http.IncomingMessage, res: http.ServerResponse, route: Route, choice: Choice<LiveBackend>, name: string, head: string, body: RequestBody, retries: number) {
    this.router = router;
    this.req = req;
    this.res = res;
    this.route = route;
    this.group = choice.group;
    this.release = choice.release;
    this.cookie = choice.setCookie;
    this.name = name;
    this.head = head;
    this.body = body;
    this.retriesLeft = retries;
  }

  onHead(head: ResponseHead): void {
    this.status = head.status;
    // The backend's end-to-end fields, the release, and for a new client during a traffic
    // split the sticky cookie beside any the backend set.
    const fields = head.fields;
    fields.push('x-slipway-release', this.backend.release);
    if (this.cookie) fields.push('set-cookie', this.cookie);
    // An answer before the whole upload (413, 401, …): node:http stops reading the rest, so the
    // client's connection is closed after the answer rather than left hanging mid-upload.
    if (this.uploading()) fields.push('connection', 'close');
    this.res.writeHead(head.status, head.reason, fields);
  }

  onBody(data: Buffer): void {
    // The same backpressure as a pipe: the backend waits while the client is slow to read.
    if (!this.res.write(data) && !this.waitingForDrain) {
      const conn = this.conn!;
      this.waitingForDrain = true;
      conn.pause();
      this.res.once('drain', () => {
        this.waitingForDrain = false;
        conn.resume();
      });
    }
  }

  onEnd(last: Buffer | string | undefined): void {
    this.stopSending();
    if (last) this.res.end(last, 'latin1');
    else this.res.end();
    this.done(this.status);
  }

  onError(err: NodeJS.ErrnoException, stage: Stage): void {
    // Already accounted for: the client left and we dropped this exchange ourselves.
    if (this.settled) return;
    const { res, name } = this;
    const close = this.uploading();
    this.stopSending();
    if (stage === 'answered' || res.headersSent) {
      this.done(502);
      return void res.destroy();
    }
    if (err.code === 'ETIMEDOUT') {
      this.done(504);
      return reply(res, 504, `${name}: the instance did not answer within ${this.router.upstreamTimeoutMs / 1000}s\n`, close);
    }
    if (err.code === 'EUPSTREAMPROTO') {
      this.done(502);
      return reply(res, 502, `${name}: the instance sent a malformed response (${err.message})\n`, close);
    }
    // Only a connection that cannot be made says the instance is gone; a reset after connecting
    // can be the app's own doing (it may close connections it does not like) and must not let one
    // client take every instance out. A crashed instance refuses the next connection anyway.
    if (stage === 'connect') this.router.backendFailed(this.backend, err);
    if (this.retriesLeft > 0) {
      this.retriesLeft--;
      this.settled = true;
      this.backend.inFlight--;
      // A stale keep-alive connection says nothing about its instance: any instance will do.
      return this.router.forward(this, stage === 'reused' ? undefined : this.backend);
    }
    this.done(502);
    reply(res, 502, `${name}: the instance failed to answer (${err.code ?? err.message})\n`, close);
  }

  /** Streams the client's body to the backend (only requests without one are ever retried). */
  sendBody(): void {
    const conn = this.conn!;
    this.req.on('data', (chunk: Buffer) => {
      if (!conn.write(chunk)) {
        this.req.pause();
        conn.socket.once('drain', () => this.req.resume());
      }
    });
    this.req.on('end', () => conn.end());
  }

  /**
   * The exchange is over while the client may still be uploading (an early answer, a failure):
   * the rest of its body is read and dropped, as node:http does for any unread body.
   */
  private stopSending(): void {
    if (!this.uploading()) return;
    this.req.removeAllListeners('data');
    this.req.resume();
  }

  private uploading(): boolean {
    return this.body !== 'none' && !this.req.complete;
  }

  clientClosed(): void {
    if (this.res.writableFinished || this.settled) return;
    this.conn?.abort();
    this.done(499);
  }

  private done(status: number): void {
    if (this.settled) return;
    this.settled = true;
    this.backend.inFlight--;
    this.router.measure(this.route, this.group, this.backend, status, performance.now() - this.started);
  }
}
