import http from 'node:http';
import type { AddressInfo } from 'node:net';

// A minimal backend for benchmarks: answers every request 200 "ok" with a 2-byte body, plus an
// `x-backend: <port>` header so a harness can check that load is spread.
// Usage: node bench/lib/backend.ts [port=0] [host=127.0.0.1]
// Prints `READY <port>` on stdout once listening, so callers can use port 0 and avoid races.

const port = Number(process.argv[2] ?? 0);
const host = process.argv[3] ?? '127.0.0.1';
const BODY = Buffer.from('ok');

let self = '';
const server = http.createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length, 'x-backend': self });
  res.end(BODY);
});

server.listen(port, host, () => {
  self = String((server.address() as AddressInfo).port);
  process.stdout.write(`READY ${self}\n`);
});

const stop = () => { server.close(); server.closeAllConnections(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
