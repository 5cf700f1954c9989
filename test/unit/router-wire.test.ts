import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { Router, type RouterOptions } from '../../src/router/router.ts';

// The router's upstream HTTP/1.1 on the wire: bodies both ways in every framing, interim
// answers, connections a backend closes, and backends that answer badly or not at all.

const HOST = 'shop.prod.localhost';

async function listen(t: TestContext, server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => { (server as http.Server).closeAllConnections?.(); server.close(); });
  return (server.address() as AddressInfo).port;
}

/** A raw TCP backend: `onRequest` gets each request's bytes (one write per request here) and its socket. */
async function rawBackend(t: TestContext, onRequest: (socket: net.Socket, data: string, nth: number) => void): Promise<number> {
  let n = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (d) => onRequest(socket, d.toString('latin1'), ++n));
    socket.on('error', () => {});
  });
  t.after(() => { for (const s of sockets) s.destroy(); });
  return listen(t, server);
}

async function routed(t: TestContext, backendPort: number, opts: RouterOptions = {}): Promise<{ r: Router; port: number }> {
  const r = new Router(opts);
  const port = await r.listen(0, '127.0.0.1');
  t.after(() => r.close());
  r.setRoute('shop', 'prod', [{ id: 'b', host: '127.0.0.1', port: backendPort, release: 'v1' }]);
  return { r, port };
}

interface Answer { status: number; body: Buffer; headers: http.IncomingHttpHeaders }

function send(port: number, opts: { method?: string; path?: string; headers?: Record<string, string>; body?: Buffer | Buffer[]; agent?: http.Agent; readDelayMs?: number } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ port, host: '127.0.0.1', method: opts.method ?? 'GET', path: opts.path ?? '/', headers: { host: HOST, ...opts.headers }, agent: opts.agent }, (res) => {
      const parts: Buffer[] = [];
      if (opts.readDelayMs) { res.pause(); setTimeout(() => res.resume(), opts.readDelayMs); }
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(parts), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    const body = opts.body;
    if (Array.isArray(body)) { for (const b of body) req.write(b); req.end(); } else req.end(body);
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('router wire: large bodies both ways, with a length or chunked, arrive intact', async (t) => {
  const port = await listen(t, http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      res.setHeader('x-request-framing', req.headers['transfer-encoding'] ?? `length ${req.headers['content-length']}`);
      if (req.url === '/chunked') { for (let i = 0; i < body.length; i += 100_000) res.write(body.subarray(i, i + 100_000)); res.end(); }
      else res.end(body);
    });
  }));
  const { port: rp } = await routed(t, port);
  const big = randomBytes(5 * 1024 * 1024);

  const withLength = await send(rp, { method: 'POST', body: big, headers: { 'content-length': String(big.length) } });
  assert.equal(withLength.status, 200);
  assert.equal(withLength.headers['x-request-framing'], `length ${big.length}`);
  assert.equal(sha(withLength.body), sha(big));

  const pieces = [big.subarray(0, 1000), big.subarray(1000, 3_000_000), big.subarray(3_000_000)];
  const chunked = await send(rp, { method: 'PUT', path: '/chunked', body: pieces });
  assert.equal(chunked.headers['x-request-framing'], 'chunked');
  assert.equal(chunked.headers['transfer-encoding'], 'chunked');
  assert.equal(sha(chunked.body), sha(big));

  // A client that reads slowly: the answer waits in the backend, not in the router's memory.
  const slow = await send(rp, { method: 'POST', body: big, headers: { 'content-length': String(big.length) }, readDelayMs: 300 });
  assert.equal(sha(slow.body), sha(big));
});

test('router wire: HEAD, 204 and 304 carry no body and the connection goes on', async (t) => {
  const port = await listen(t, http.createServer((req, res) => {
    if (req.url === '/204') { res.writeHead(204); return res.end(); }
    if (req.url === '/304') { res.writeHead(304, { etag: '"x"' }); return res.end(); }
    res.writeHead(200, { 'content-length': 5 });
    res.end(req.method === 'HEAD' ? undefined : 'hello');
  }));
  const { port: rp } = await routed(t, port);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const head = await send(rp, { method: 'HEAD', agent });
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], '5');
  assert.equal(head.body.length, 0);
  assert.equal((await send(rp, { path: '/204', agent })).status, 204);
  const notModified = await send(rp, { path: '/304', agent });
  assert.equal(notModified.status, 304);
  assert.equal(notModified.headers.etag, '"x"');
  assert.equal((await send(rp, { agent })).body.toString(), 'hello');
});

test('router wire: an answer delimited by the close, interim 1xx answers skipped, bytes past the end dropped', async (t) => {
  const port = await rawBackend(t, (socket, data) => {
    if (data.startsWith('GET /close ')) socket.end('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end');
    else if (data.startsWith('GET /interim ')) socket.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
    else if (data.startsWith('GET /extra ')) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokEXTRA');
    else socket.write('HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nnext');
  });
  const { port: rp } = await routed(t, port);
  const close = await send(rp, { path: '/close' });
  assert.equal(close.body.toString(), 'until the end');
  assert.equal(close.headers['transfer-encoding'], 'chunked', 'the client keeps its connection: node:http re-frames the body');
  const interim = await send(rp, { path: '/interim' });
  assert.deepEqual([interim.status, interim.body.toString(), interim.headers.link], [200, 'ok', undefined]);
  assert.equal((await send(rp, { path: '/extra' })).body.toString(), 'ok');
  assert.equal((await send(rp)).body.toString(), 'next', 'the connection with stray bytes was not reused');
});

test('router wire: a malformed answer is a 502 that says so, and does not put the instance out', async (t) => {
  const port = await rawBackend(t, (socket, data) => {
    if (data.startsWith('GET /bad-header ')) socket.write('HTTP/1.1 200 OK\r\nbad header: x\r\ncontent-length: 2\r\n\r\nok');
    else if (data.startsWith('GET /bad-chunk ')) socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n');
    else socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
  });
  const errors: string[] = [];
  const { port: rp } = await routed(t, port, { onBackendError: (id) => errors.push(id) });
  const bad = await send(rp, { path: '/bad-header' });
  assert.equal(bad.status, 502);
  assert.match(bad.body.toString(), /malformed response.*bad header line/);
  // Once the head is out, a broken body can only cut the client's connection.
  await assert.rejects(send(rp, { path: '/bad-chunk' }));
  assert.equal((await send(rp)).body.toString(), 'ok');
  assert.deepEqual(errors, []);
});

test('router wire: a connection the backend drops as it is reused is retried, even with one instance', async (t) => {
  // Answers the first request on each connection, and drops the connection on the second: the
  // race when a backend's keep-alive timeout fires just as the router reuses the connection.
  const perSocket = new WeakMap<net.Socket, number>();
  const port = await rawBackend(t, (socket) => {
    const n = (perSocket.get(socket) ?? 0) + 1;
    perSocket.set(socket, n);
    if (n === 1) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
    else socket.destroy();
  });
  const errors: string[] = [];
  const { port: rp } = await routed(t, port, { onBackendError: (id) => errors.push(id) });
  for (let i = 0; i < 4; i++) assert.deepEqual([(await send(rp)).status, i], [200, i]);
  assert.deepEqual(errors, [], 'a stale connection says nothing about the instance');
  // A POST cannot be replayed: on the reused connection it gets the 502, still without marking
  // the instance down; the next one goes out on a fresh connection.
  const post = () => send(rp, { method: 'POST', body: Buffer.from('x'), headers: { 'content-length': '1' } });
  assert.equal((await post()).status, 502);
  assert.equal((await post()).status, 200);
  assert.deepEqual(errors, []);
});

test('router wire: a backend that never answers gets the client a 504, and its in-flight count back', async (t) => {
  const port = await rawBackend(t, () => {});
  const { r, port: rp } = await routed(t, port, { upstreamTimeoutMs: 300 });
  const res = await send(rp);
  assert.equal(res.status, 504);
  assert.match(res.body.toString(), /did not answer within 0.3s/);
  assert.equal(r.inFlight('b'), 0);
});

test('router wire: a slow upload is progress, not a hung backend', async (t) => {
  const port = await listen(t, http.createServer((req, res) => {
    let n = 0;
    req.on('data', (d: Buffer) => { n += d.length; });
    req.on('end', () => res.end(`got ${n}`));
  }));
  const { port: rp } = await routed(t, port, { upstreamTimeoutMs: 300 });
  const answer = await new Promise<string>((resolve, reject) => {
    const req = http.request({ port: rp, host: '127.0.0.1', method: 'POST', path: '/', headers: { host: HOST } }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve(`${res.statusCode} ${body}`));
    });
    req.on('error', reject);
    let sent = 0;
    const tick = setInterval(() => {
      if (++sent === 10) { clearInterval(tick); req.end('x'); } else req.write('x');
    }, 100);
  });
  assert.equal(answer, '200 got 10');
});

test('router wire: a client expecting 100-continue gets it from the router and its body reaches the backend', async (t) => {
  const port = await listen(t, http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => { body += d; });
    req.on('end', () => res.end(`${req.headers.expect ?? 'no expect'}: ${body}`));
  }));
  const { port: rp } = await routed(t, port);
  const answer = await new Promise<string>((resolve, reject) => {
    const req = http.request({ port: rp, host: '127.0.0.1', method: 'POST', path: '/', headers: { host: HOST, expect: '100-continue', 'content-length': '5' } }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve(body));
    });
    req.on('continue', () => req.end('hello'));
    req.on('error', reject);
  });
  assert.equal(answer, 'no expect: hello');
});
