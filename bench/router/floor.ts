import http from 'node:http';
import net from 'node:net';

// The least a proxy with node:http in front can do, as a floor to compare the Router with in
// bench/router/ab.ts (it has the Router's listen/setRoute/close, so it plugs in as a "router.ts"):
//
//   node_modules/.bin/node bench/router/ab.ts bench/router/floor.ts src/router/router.ts
//
// Per request it does only what no proxy can skip: node:http parses the request and writes the
// reply, and one write and one read go over a pooled keep-alive upstream connection. No routing,
// no header copying, no measuring; the reply is fixed. It understands only the bench backends'
// answers (a head with Content-Length, then that many bytes), so it is not a proxy for anything else.
// floor-net.ts is the same without node:http, to show what node:http itself costs.

const REQUEST = 'GET / HTTP/1.1\r\nhost: bench.prod.localhost\r\nx-forwarded-for: 127.0.0.1\r\nx-forwarded-host: bench.prod.localhost\r\nx-forwarded-proto: http\r\n\r\n';
export const REPLY_FIELDS = ['content-type', 'text/plain', 'content-length', '2', 'x-slipway-release', 'r1'];

export class Upstream {
  readonly socket: net.Socket;
  private pending = '';
  private done: (() => void) | undefined;
  constructor(port: number, idle: Upstream[]) {
    this.socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => {
      const text = this.pending + chunk.toString('latin1');
      const headEnd = text.indexOf('\r\n\r\n');
      const length = headEnd < 0 ? -1 : Number(/content-length: *(\d+)/i.exec(text.slice(0, headEnd))?.[1] ?? 0);
      if (headEnd < 0 || text.length < headEnd + 4 + length) { this.pending = text; return; }
      this.pending = '';
      const done = this.done!;
      this.done = undefined;
      idle.push(this);
      done();
    });
  }
  send(done: () => void): void {
    this.done = done;
    this.socket.write(REQUEST, 'latin1');
  }
}

export class Router {
  private server: http.Server | undefined;
  private ports: number[] = [];
  private next = 0;
  private readonly idle: Upstream[] = [];
  private readonly all: Upstream[] = [];

  setRoute(_app: string, _env: string, backends: { port: number }[]): void {
    this.ports = backends.map((b) => b.port);
  }

  listen(port: number, host: string): Promise<number> {
    const server = http.createServer({ keepAliveTimeout: 65_000 }, (_req, res) => {
      let up = this.idle.pop();
      if (!up) {
        up = new Upstream(this.ports[this.next++ % this.ports.length], this.idle);
        this.all.push(up);
      }
      up.send(() => {
        res.writeHead(200, 'OK', REPLY_FIELDS);
        res.end('ok');
      });
    });
    this.server = server;
    return new Promise((resolve) => server.listen(port, host, () => resolve((server.address() as net.AddressInfo).port)));
  }

  async close(): Promise<void> {
    for (const up of this.all) up.socket.destroy();
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}
