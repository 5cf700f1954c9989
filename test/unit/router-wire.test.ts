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

test('router wire: an instance that drops a connection it accepted is retried for a GET, and stays in', async (t) => {
  // Drops every request for /drop, on any connection: the app's doing, not a dead instance.
  const dropping = await rawBackend(t, (socket, data) => {
    if (data.startsWith('GET /drop ') || data.startsWith('POST /drop ')) socket.destroy();
    else socket.write('HTTP/1.1 200 OK\r\ncontent-length: 7\r\n\r\ndropper');
  });
  const other = await listen(t, http.createServer((req, res) => { req.resume(); res.end('other'); }));
  const errors: string[] = [];
  const r = new Router({ onBackendError: (id) => errors.push(id) });
  const rp = await r.listen(0, '127.0.0.1');
  t.after(() => r.close());
  r.setRoute('shop', 'prod', [{ id: 'd', host: '127.0.0.1', port: dropping, release: 'v1' }, { id: 'o', host: '127.0.0.1', port: other, release: 'v1' }]);
  for (let i = 0; i < 4; i++) assert.equal((await send(rp, { path: '/drop' })).body.toString(), 'other');
  const post = await send(rp, { method: 'POST', path: '/drop', body: Buffer.from('x'), headers: { 'content-length': '1' } });
  assert.ok(post.status === 502 || post.body.toString() === 'other', 'a POST is sent once: a 502 if it met the dropper');
  assert.deepEqual(errors, [], 'no instance is put out by what one request does');
  const bodies = new Set<string>();
  for (let i = 0; i < 4; i++) bodies.add((await send(rp)).body.toString());
  assert.deepEqual([...bodies].sort(), ['dropper', 'other'], 'both instances still serve');
});

test('router wire: an answer before the upload is complete closes the client connection after it', async (t) => {
  const port = await rawBackend(t, (socket, _data, n) => {
    if (n === 1) socket.end('HTTP/1.1 413 Payload Too Large\r\ncontent-length: 8\r\nconnection: close\r\n\r\ntoo big!');
  });
  const { r, port: rp } = await routed(t, port);
  const outcome = await new Promise<{ status: number; body: string; closed: boolean }>((resolve) => {
    let answer = { status: 0, body: '' };
    const req = http.request({ port: rp, host: '127.0.0.1', method: 'POST', path: '/', headers: { host: HOST, 'content-length': String(64 << 20) } }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => { answer = { status: res.statusCode!, body }; });
    });
    req.on('error', () => {});
    req.on('close', () => resolve({ ...answer, closed: true }));
    const piece = Buffer.alloc(1 << 20);
    let sent = 0;
    const pump = () => { while (sent < 64) { sent++; if (!req.write(piece)) return void req.once('drain', pump); } req.end(); };
    pump();
  });
  assert.deepEqual(outcome, { status: 413, body: 'too big!', closed: true });
  assert.equal(r.inFlight('b'), 0);
});

test('router wire: a connection whose last read was paused for a slow client is not pooled paused', async (t) => {
  const chunks = (n: number) => `${(1000).toString(16)}\r\n${'x'.repeat(1000)}\r\n`.repeat(n);
  const port = await rawBackend(t, (socket, data) => {
    if (data.startsWith('GET /slow ')) setTimeout(() => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nslow'), 300);
    else if (data.startsWith('GET /big ')) {
      socket.write(`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${chunks(40)}`);
      setTimeout(() => socket.write(`${chunks(40)}0\r\n\r\n`), 20);
    } else socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
  });
  const { port: rp } = await routed(t, port, { upstreamTimeoutMs: 3_000 });
  // A pipelining client: /big's answer waits behind /slow's, so writing it to the client fills
  // node:http's buffer and pauses the backend connection, which then finishes in the same read.
  const pipelining = net.connect(rp, '127.0.0.1');
  t.after(() => pipelining.destroy());
  pipelining.on('data', () => {});
  pipelining.write(`GET /slow HTTP/1.1\r\nhost: ${HOST}\r\n\r\nGET /big HTTP/1.1\r\nhost: ${HOST}\r\n\r\n`);
  await new Promise((res) => setTimeout(res, 100));
  const started = performance.now();
  const other = await send(rp);
  assert.deepEqual([other.status, other.body.toString()], [200, 'ok']);
  assert.ok(performance.now() - started < 2_000, 'answered on a live connection, not after the upstream timeout');
});

test('router wire: a retry gets the whole upstream timeout, not what the first attempt left', async (t) => {
  const slowThenClose = await rawBackend(t, (socket) => { setTimeout(() => socket.destroy(), 500); });
  const slowAnswer = await rawBackend(t, (socket) => { setTimeout(() => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'), 500); });
  const r = new Router({ upstreamTimeoutMs: 800 });
  const rp = await r.listen(0, '127.0.0.1');
  t.after(() => r.close());
  r.setRoute('shop', 'prod', [{ id: 'a', host: '127.0.0.1', port: slowThenClose, release: 'v1' }, { id: 'b', host: '127.0.0.1', port: slowAnswer, release: 'v1' }]);
  const res = await send(rp);
  assert.deepEqual([res.status, res.body.toString()], [200, 'ok']);
});

test('router wire: a 404 or a 503 keeps the client connection for the next request', async (t) => {
  const r = new Router();
  const rp = await r.listen(0, '127.0.0.1');
  t.after(() => r.close());
  r.setRoute('shop', 'prod', []);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const reused: boolean[] = [];
  for (const host of ['nope.prod.localhost', HOST, HOST]) {
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ port: rp, host: '127.0.0.1', path: '/', headers: { host }, agent }, (res) => {
        assert.equal(res.headers.connection, 'keep-alive');
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      req.on('error', reject);
      req.end();
      reused.push(req.reusedSocket);
    });
    assert.ok(status === 404 || status === 503);
  }
  assert.deepEqual(reused, [false, true, true]);
});
