import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { chooseGroup, pickBackend, type Backend, type Candidate, type Group, type Observation, type RouteSpec } from './traffic.ts';

export type { Backend, Observation, RouteSpec } from './traffic.ts';

// The data plane. Plain node:http on purpose: this is the hot path of every request, so no
// framework, and no per-request work beyond what proxying and measuring need.

/** Upper bounds (ms) of the latency histogram kept per backend; the last bucket is +Inf. */
export const LATENCY_BUCKETS_MS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000];

interface LiveBackend extends Candidate {
  agent: http.Agent;
  inFlight: number;
  requests: number;
  errors: number;
  latencySumMs: number;
  latencyCounts: number[];
}

/** One request on its way through: what forward() needs again when it retries elsewhere. */
interface Proxied {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  route: Route;
  group: Group<LiveBackend>;
  release: string | undefined;
  cookie: string | undefined;
  name: string;
  started: number;
}

interface Route {
  groups: Group<LiveBackend>[];
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
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade'];
/** Request headers not copied from the client: hop-by-hop ones, and those the router sets itself. */
const NOT_FORWARDED = new Set([...HOP_BY_HOP, 'host', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto']);
/** Response headers not copied from the backend. */
const NOT_RETURNED = new Set([...HOP_BY_HOP, 'x-slipway-release']);
const SUFFIX = '.localhost';
/** A backend that holds a request this long without a byte is treated as hung (504). */
const UPSTREAM_IDLE_TIMEOUT_MS = 60_000;
/** Per group and interval; beyond this the judge has plenty and memory stays bounded. */
const MAX_OBSERVATIONS = 100_000;

export interface RouterOptions {
  /** Told synchronously on a connection error so the control plane can stop routing there. */
  onBackendError?: (id: string, error: Error) => void;
}

export class Router {
  private readonly routes = new Map<string, Route>();
  private readonly backends = new Map<string, LiveBackend>();
  private readonly onBackendError: (id: string, error: Error) => void;
  private server: http.Server | undefined;

  constructor(opts: RouterOptions = {}) {
    this.onBackendError = opts.onBackendError ?? (() => {});
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
    this.routes.set(key, { groups, rules: Array.isArray(spec) ? undefined : spec.rules, observe, retries });
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
    const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => this.handle(req, res));
    this.server = server;
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
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    for (const b of this.backends.values()) b.agent.destroy();
  }

  private liveBackend(b: Backend): LiveBackend {
    const existing = this.backends.get(b.id);
    if (existing && existing.port === b.port && existing.host === b.host) {
      existing.down = false;
      existing.release = b.release;
      return existing;
    }
    // Same id on a new port (a restarted instance): requests still running finish on the old
    // object and its pool, which is dropped only when idle; the new one starts at zero in flight.
    if (existing && existing.inFlight === 0) existing.agent.destroy();
    const live: LiveBackend = {
      ...b, down: false, agent: new http.Agent({ keepAlive: true, maxFreeSockets: 256, scheduling: 'lifo' }),
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
        b.agent.destroy();
        this.backends.delete(id);
      }
    }
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const host = (req.headers.host ?? '').toLowerCase();
    const colon = host.lastIndexOf(':');
    const name = colon > host.lastIndexOf(']') && colon !== -1 ? host.slice(0, colon) : host;
    const route = name.endsWith(SUFFIX) ? this.routes.get(name.slice(0, -SUFFIX.length)) : undefined;
    if (!route) return reply(res, 404, `no app is routed at host "${name || '(none)'}": use <app>.<env>.localhost\n`);
    const choice = chooseGroup(route.groups, route.rules, req.headers, newClientId);
    if (!choice) return reply(res, 503, `${name} has no healthy instance right now: check \`slipway status\`\n`);
    const bodiless = req.headers['content-length'] === undefined || req.headers['content-length'] === '0';
    const retries = RETRYABLE.has(req.method ?? '') && bodiless && req.headers['transfer-encoding'] === undefined ? route.retries : 0;
    this.forward({ req, res, route, group: choice.group, release: choice.release, cookie: choice.setCookie, name, started: performance.now() }, retries, undefined);
  }

  private forward(p: Proxied, retriesLeft: number, failed: LiveBackend | undefined): void {
    const { req, res, route, release, name, started } = p;
    let group = p.group;
    let backend = pickBackend(group, failed, release) ?? pickBackend(group, failed);
    if (!backend) {
      // Nobody left in the chosen group: any other group with a live backend will do.
      for (const g of route.groups) {
        backend = pickBackend(g, failed);
        if (backend) { group = g; break; }
      }
    }
    if (!backend) return reply(res, 503, `${name} has no healthy instance right now: check \`slipway status\`\n`);
    const target = backend;
    const headers = requestHeaders(req);

    target.inFlight++;
    let settled = false;
    const done = (status: number) => {
      if (settled) return;
      settled = true;
      target.inFlight--;
      this.measure(route, group, target, status, performance.now() - started);
    };
    const upstream = http.request({ host: target.host, port: target.port, method: req.method, path: req.url, headers, agent: target.agent });
    // `on`, not `once`: these fire at most once per message, and each `once` costs a wrapper per request.
    upstream.on('response', (up: http.IncomingMessage) => {
      const status = up.statusCode ?? 502;
      res.writeHead(status, up.statusMessage, responseHeaders(up.rawHeaders, target.release, p.cookie));
      // A hand-rolled pipe: the same backpressure as up.pipe(res), without the half-dozen
      // listeners pipe() adds and removes on both streams for every request.
      up.on('data', (chunk: Buffer) => {
        if (!res.write(chunk)) {
          up.pause();
          res.once('drain', () => up.resume());
        }
      });
      up.on('end', () => { res.end(); done(status); });
      up.on('error', () => { done(502); res.destroy(); });
    });
    upstream.setTimeout(UPSTREAM_IDLE_TIMEOUT_MS, () => upstream.destroy(Object.assign(new Error('upstream timed out'), { code: 'ETIMEDOUT' })));
    let failedOnce = false;
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      // Already answered, or the client left and we destroyed this request ourselves: neither
      // says anything about the backend, and there is nobody to retry for.
      if (failedOnce || settled) return;
      failedOnce = true;
      if (res.headersSent) { done(502); return res.destroy(); }
      if (err.code === 'ETIMEDOUT') { done(504); return reply(res, 504, `${name}: the instance did not answer within ${UPSTREAM_IDLE_TIMEOUT_MS / 1000}s\n`); }
      // A connection that never produced a response: this backend is out until a probe passes.
      // (A reset on a reused keep-alive socket only means the instance closed an idle connection.)
      if (!(upstream.reusedSocket && err.code === 'ECONNRESET')) {
        target.down = true;
        this.onBackendError(target.id, err);
      }
      if (retriesLeft > 0) {
        settled = true;
        target.inFlight--;
        return this.forward(p, retriesLeft - 1, target);
      }
      done(502);
      reply(res, 502, `${name}: the instance failed to answer (${err.code ?? err.message})\n`);
    });
    res.on('close', () => { if (!res.writableFinished) { upstream.destroy(); done(499); } });
    if (retriesLeft > 0 || failed) upstream.end();
    else req.pipe(upstream);
  }

  private measure(route: Route, group: Group<LiveBackend>, b: LiveBackend, status: number, ms: number): void {
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
 * The upstream request's headers as a flat [name, value, …] list straight from rawHeaders: no
 * object spread, no deletes. Host is sent once, as parsed (as before); the rest keep their order.
 */
function requestHeaders(req: http.IncomingMessage): string[] {
  const raw = req.rawHeaders;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!NOT_FORWARDED.has(raw[i].toLowerCase())) out.push(raw[i], raw[i + 1]);
  }
  const host = req.headers.host;
  const remote = req.socket.remoteAddress ?? '';
  const prior = req.headers['x-forwarded-for'];
  if (host !== undefined) out.push('host', host);
  out.push('x-forwarded-for', prior ? `${prior}, ${remote}` : remote);
  if (host !== undefined) out.push('x-forwarded-host', host);
  out.push('x-forwarded-proto', 'http');
  return out;
}

/**
 * The client response's headers as a flat list from the backend's rawHeaders, plus the release
 * and, for a new client during a traffic split, the sticky cookie beside any the backend set.
 */
function responseHeaders(raw: string[], release: string, cookie: string | undefined): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!NOT_RETURNED.has(raw[i].toLowerCase())) out.push(raw[i], raw[i + 1]);
  }
  out.push('x-slipway-release', release);
  if (cookie) out.push('set-cookie', cookie);
  return out;
}

function reply(res: http.ServerResponse, status: number, text: string): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
