import http from 'node:http';
import type { AddressInfo } from 'node:net';

// The data plane. Plain node:http on purpose: this is the hot path of every request, so no
// framework, no per-request allocations beyond what proxying needs.

export interface Backend {
  id: string;
  port: number;
  host: string;
  release: string;
}

interface LiveBackend extends Backend {
  agent: http.Agent;
  inFlight: number;
  down: boolean;
}

interface Route {
  backends: LiveBackend[];
  next: number;
}

const RETRYABLE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade'];
const SUFFIX = '.localhost';
/** A backend that holds a request this long without a byte is treated as hung (504). */
const UPSTREAM_IDLE_TIMEOUT_MS = 60_000;

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

  /** Replaces what `<app>.<env>.localhost` reaches. Backends absent from every route lose their pooled sockets. */
  setRoute(app: string, env: string, backends: Backend[]): void {
    const key = `${app}.${env}`;
    const live = backends.map((b) => this.liveBackend(b));
    this.routes.set(key, { backends: live, next: this.routes.get(key)?.next ?? 0 });
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
    existing?.agent.destroy();
    const live: LiveBackend = { ...b, agent: new http.Agent({ keepAlive: true, maxFreeSockets: 256, scheduling: 'lifo' }), inFlight: existing?.inFlight ?? 0, down: false };
    this.backends.set(b.id, live);
    return live;
  }

  /** Drops pooled sockets of backends no route uses any more, once they have nothing in flight. */
  private collect(): void {
    const used = new Set<string>();
    for (const route of this.routes.values()) for (const b of route.backends) used.add(b.id);
    for (const [id, b] of this.backends) {
      if (used.has(id)) continue;
      if (b.inFlight === 0) {
        b.agent.destroy();
        this.backends.delete(id);
      }
    }
  }

  private pick(route: Route, exclude: LiveBackend | undefined): LiveBackend | undefined {
    const list = route.backends;
    for (let i = 0; i < list.length; i++) {
      const b = list[(route.next + i) % list.length];
      if (!b.down && b !== exclude) {
        route.next = (route.next + i + 1) % list.length;
        return b;
      }
    }
    return undefined;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const host = (req.headers.host ?? '').toLowerCase();
    const colon = host.lastIndexOf(':');
    const name = colon > host.lastIndexOf(']') && colon !== -1 ? host.slice(0, colon) : host;
    const route = name.endsWith(SUFFIX) ? this.routes.get(name.slice(0, -SUFFIX.length)) : undefined;
    if (!route) return reply(res, 404, `no app is routed at host "${name || '(none)'}": use <app>.<env>.localhost\n`);
    const bodiless = req.headers['content-length'] === undefined || req.headers['content-length'] === '0';
    const retries = RETRYABLE.has(req.method ?? '') && bodiless && req.headers['transfer-encoding'] === undefined ? route.backends.length : 0;
    this.forward(req, res, route, name, retries, undefined);
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse, route: Route, name: string, retriesLeft: number, failed: LiveBackend | undefined): void {
    const backend = this.pick(route, failed);
    if (!backend) return reply(res, 503, `${name} has no healthy instance right now: check \`slipway status\`\n`);
    const headers: http.OutgoingHttpHeaders = { ...req.headers };
    for (const h of HOP_BY_HOP) delete headers[h];
    const remote = req.socket.remoteAddress ?? '';
    const prior = req.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = prior ? `${prior}, ${remote}` : remote;
    headers['x-forwarded-host'] = req.headers.host;
    headers['x-forwarded-proto'] = 'http';

    backend.inFlight++;
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      backend.inFlight--;
    };
    const upstream = http.request({ host: backend.host, port: backend.port, method: req.method, path: req.url, headers, agent: backend.agent }, (up) => {
      const out: http.OutgoingHttpHeaders = { ...up.headers, 'x-slipway-release': backend.release };
      for (const h of HOP_BY_HOP) delete out[h];
      res.writeHead(up.statusCode ?? 502, up.statusMessage, out);
      up.pipe(res);
      up.once('end', done);
      up.once('error', () => { done(); res.destroy(); });
    });
    upstream.setTimeout(UPSTREAM_IDLE_TIMEOUT_MS, () => upstream.destroy(Object.assign(new Error('upstream timed out'), { code: 'ETIMEDOUT' })));
    upstream.once('error', (err: NodeJS.ErrnoException) => {
      done();
      if (res.headersSent) return res.destroy();
      if (err.code === 'ETIMEDOUT') return reply(res, 504, `${name}: the instance did not answer within ${UPSTREAM_IDLE_TIMEOUT_MS / 1000}s\n`);
      // A connection that never produced a response: this backend is out until a probe passes.
      // (A reset on a reused keep-alive socket only means the instance closed an idle connection.)
      if (!(upstream.reusedSocket && err.code === 'ECONNRESET')) {
        backend.down = true;
        this.onBackendError(backend.id, err);
      }
      if (retriesLeft > 0) return this.forward(req, res, route, name, retriesLeft - 1, backend);
      reply(res, 502, `${name}: the instance failed to answer (${err.code ?? err.message})\n`);
    });
    res.once('close', () => { if (!upstream.writableFinished || !res.writableFinished) { upstream.destroy(); done(); } });
    if (retriesLeft > 0 || failed) upstream.end();
    else req.pipe(upstream);
  }
}

function reply(res: http.ServerResponse, status: number, text: string): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
