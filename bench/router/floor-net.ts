import net from 'node:net';
import { REPLY_FIELDS, Upstream } from './floor.ts';

// floor.ts without node:http: clients are served on plain node:net, a request is found by its
// blank line (bodiless GETs only: no parsing, no validation, no framing checks) and answered with
// one write. Not a design to ship — an HTTP server that skips parsing and validation is open to
// request smuggling — but the difference from floor.ts is what node:http's server side costs:
//
//   node_modules/.bin/node bench/router/ab.ts bench/router/floor.ts bench/router/floor-net.ts

const REPLY = `HTTP/1.1 200 OK\r\n${REPLY_FIELDS.map((v, i) => (i % 2 ? `${v}\r\n` : `${v}: `)).join('')}connection: keep-alive\r\n\r\nok`;

export class Router {
  private server: net.Server | undefined;
  private ports: number[] = [];
  private next = 0;
  private readonly idle: Upstream[] = [];
  private readonly all: Upstream[] = [];
  private readonly clients = new Set<net.Socket>();

  setRoute(_app: string, _env: string, backends: { port: number }[]): void {
    this.ports = backends.map((b) => b.port);
  }

  listen(port: number, host: string): Promise<number> {
    const server = net.createServer({ noDelay: true }, (client) => {
      this.clients.add(client);
      client.on('close', () => this.clients.delete(client));
      client.on('error', () => client.destroy());
      let pending = '';
      client.on('data', (chunk: Buffer) => {
        pending += chunk.toString('latin1');
        for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
          pending = pending.slice(end + 4);
          let up = this.idle.pop();
          if (!up) {
            up = new Upstream(this.ports[this.next++ % this.ports.length], this.idle);
            this.all.push(up);
          }
          up.send(() => client.write(REPLY, 'latin1'));
        }
      });
    });
    this.server = server;
    return new Promise((resolve) => server.listen(port, host, () => resolve((server.address() as net.AddressInfo).port)));
  }

  async close(): Promise<void> {
    for (const up of this.all) up.socket.destroy();
    for (const client of this.clients) client.destroy();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}
