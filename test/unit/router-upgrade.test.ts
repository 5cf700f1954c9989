import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { Router } from '../../src/router/router.ts';

// Protocol switches through the router: real WebSockets (the ws library at both ends) and a raw
// tunnel.

const HOST = 'chat.prod.localhost';

/**
 * A backend for raw handshakes: on `Upgrade: websocket` to /echo it switches and echoes raw
 * bytes; /refuse gets a 403 with a body; /drop has its connection destroyed (as apps using the
 * ws library do for paths they do not serve). Plain requests get `name` and the Upgrade field seen.
 */
async function upgradingBackend(t: TestContext, name: string, seen: http.IncomingHttpHeaders[] = []): Promise<number> {
  const server = http.createServer((req, res) => res.end(`${name} (upgrade field: ${req.headers.upgrade ?? 'none'})`));
  const sockets = new Set<net.Socket>();
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
    sockets.add(socket);
    seen.push(req.headers);
    if (req.url === '/echo') {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
      socket.pipe(socket);
    } else if (req.url === '/refuse') {
      // Keep-alive on purpose: the router must close the client's connection itself.
      socket.write('HTTP/1.1 403 Forbidden\r\ncontent-length: 11\r\n\r\nnot for you');
    } else socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => { for (const s of sockets) s.destroy(); server.closeAllConnections(); server.close(); });
  return (server.address() as AddressInfo).port;
}

const handshake = (path: string, host = HOST, protocol = 'websocket') => `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: ${protocol}\r\n\r\n`;

async function settles(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check() && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
}

async function router(t: TestContext, onError?: (id: string) => void): Promise<{ r: Router; port: number }> {
  const r = new Router({ onBackendError: onError });
  const port = await r.listen(0, '127.0.0.1');
  t.after(() => r.close());
  return { r, port };
}

/** Sends a raw handshake and resolves with what came back once `until` matches. */
function rawExchange(port: number, request: string, until: RegExp, then?: (socket: net.Socket) => void): Promise<{ text: string; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let text = '';
    let thenDone = false;
    socket.on('data', (d) => {
      text += d.toString('latin1');
      if (!thenDone && then && /\r\n\r\n/.test(text)) { thenDone = true; then(socket); }
      if (until.test(text)) resolve({ text, socket });
    });
    socket.on('error', reject);
    socket.on('close', () => resolve({ text, socket }));
  });
}

test('router upgrade: a WebSocket reaches its instance, both ways, and counts as in flight while open', async (t) => {
  const backend = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => backend.once('listening', r));
  t.after(() => backend.close());
  backend.on('connection', (socket) => socket.on('message', (data) => socket.send(`v1 heard ${String(data)}`)));
  const { r, port: rp } = await router(t);
  r.setRoute('chat', 'prod', [{ id: 'c1', host: '127.0.0.1', port: (backend.address() as AddressInfo).port, release: 'v1' }]);

  // *.localhost names do not resolve on every machine (browsers map them to loopback themselves).
  const ws = new WebSocket(`ws://127.0.0.1:${rp}/socket`, { headers: { host: HOST } });
  t.after(() => ws.terminate());
  let release = '';
  ws.once('upgrade', (res) => { release = String(res.headers['x-slipway-release']); });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  assert.equal(release, 'v1');
  const answers: string[] = [];
  ws.on('message', (data) => answers.push(String(data)));
  for (const word of ['one', 'two', 'x'.repeat(100_000)]) ws.send(word);
  const deadline = Date.now() + 5_000;
  while (answers.length < 3 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
  assert.deepEqual(answers.map((a) => a.slice(0, 20)), ['v1 heard one', 'v1 heard two', `v1 heard ${'x'.repeat(11)}`]);
  assert.equal(answers[2].length, 'v1 heard '.length + 100_000);
  assert.equal(r.inFlight('c1'), 1, 'an open WebSocket holds its instance in flight');

  ws.close();
  while (r.inFlight('c1') !== 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
  assert.equal(r.inFlight('c1'), 0, 'closing it lets go of the instance');
  const counted = r.stats().find((s) => s.id === 'c1')!;
  assert.deepEqual([counted.requests, counted.errors], [1, 0]);
});

test('router upgrade: raw bytes flow both ways; the backend sees the upgrade and forwarding fields; the release is added', async (t) => {
  const seen: http.IncomingHttpHeaders[] = [];
  const port = await upgradingBackend(t, 'v2', seen);
  const { r, port: rp } = await router(t);
  r.setRoute('chat', 'prod', [{ id: 'c2', host: '127.0.0.1', port, release: 'v2' }]);
  const { text, socket } = await rawExchange(rp, handshake('/echo'), /ping-pong$/, (s) => s.write('ping-pong'));
  socket.destroy();
  assert.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  assert.match(text, /\r\nx-slipway-release: v2\r\n/);
  assert.ok(text.endsWith('\r\n\r\nping-pong'), JSON.stringify(text));
  assert.equal(seen[0].upgrade, 'websocket');
  assert.equal(seen[0].connection, 'upgrade');
  assert.equal(seen[0]['x-forwarded-for'], '127.0.0.1');
  assert.equal(seen[0]['x-forwarded-host'], HOST);
  await settles(() => r.inFlight('c2') === 0);
  assert.equal(r.inFlight('c2'), 0);
});

test('router upgrade: a refusal is passed on and the connection closed; other protocols are plain requests', async (t) => {
  const port = await upgradingBackend(t, 'v1');
  const { r, port: rp } = await router(t);
  r.setRoute('chat', 'prod', [{ id: 'c', host: '127.0.0.1', port, release: 'v1' }]);

  // The answer, then the close: nothing the client sends next can reach the instance unrouted.
  const refused = await rawExchange(rp, handshake('/refuse'), /$^/);
  assert.match(refused.text, /^HTTP\/1\.1 403 Forbidden\r\n/);
  assert.match(refused.text, /\r\nconnection: close\r\n/);
  assert.match(refused.text, /\r\nx-slipway-release: v1\r\n[\s\S]*\r\n\r\nnot for you$/);
  await settles(() => r.inFlight('c') === 0);
  assert.equal(r.inFlight('c'), 0, 'a refused handshake does not hold the instance');

  // `Upgrade: h2c` (curl --http2) is answered as the plain request it also is.
  const h2c = await rawExchange(rp, handshake('/', HOST, 'h2c'), /upgrade field: none\)$/);
  h2c.socket.destroy();
  assert.match(h2c.text, /^HTTP\/1\.1 200 OK\r\n[\s\S]*x-slipway-release: v1\r\n[\s\S]*v1 \(upgrade field: none\)$/);
});

test('router upgrade: unknown host, a dead instance retried on a live one, an app that drops the handshake', async (t) => {
  const live = await upgradingBackend(t, 'live');
  const dead = net.createServer();
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
  const deadPort = (dead.address() as AddressInfo).port;
  await new Promise<void>((r) => dead.close(() => r()));
  const errors: string[] = [];
  const { r, port: rp } = await router(t, (id) => errors.push(id));
  r.setRoute('chat', 'prod', [{ id: 'dead', host: '127.0.0.1', port: deadPort, release: 'v1' }, { id: 'live', host: '127.0.0.1', port: live, release: 'v1' }]);

  const unknown = await rawExchange(rp, handshake('/', 'nope.prod.localhost'), /routed/);
  assert.match(unknown.text, /^HTTP\/1\.1 404 Not Found\r\n[\s\S]*no app is routed at host "nope\.prod\.localhost"/);

  for (let i = 0; i < 3; i++) {
    const ok = await rawExchange(rp, handshake('/echo'), /\r\n\r\nx$/, (s) => s.write('x'));
    ok.socket.destroy();
    assert.match(ok.text, /^HTTP\/1\.1 101 /);
  }
  assert.deepEqual(errors, ['dead'], 'the dead instance is reported once, then skipped');

  // The app closes the connection on a path it does not serve: a 502 for this client, and the
  // instance stays in (one client must not be able to take every instance out).
  const dropped = await rawExchange(rp, handshake('/drop'), /\n$/);
  assert.match(dropped.text, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
  assert.deepEqual(errors, ['dead']);
  await settles(() => r.inFlight('live') === 0);
  assert.equal(r.inFlight('live'), 0);
});

test('router upgrade: a client that resets its connection does not take the router down', async (t) => {
  const port = await upgradingBackend(t, 'v1');
  const { r, port: rp } = await router(t);
  r.setRoute('chat', 'prod', [{ id: 'c', host: '127.0.0.1', port, release: 'v1' }]);
  for (const request of [handshake('/', 'nope.prod.localhost'), handshake('/echo'), handshake('/refuse')]) {
    const socket = net.connect(rp, '127.0.0.1', () => { socket.write(request); socket.resetAndDestroy(); });
    socket.on('error', () => {});
    await new Promise((res) => socket.once('close', res));
  }
  await new Promise((res) => setTimeout(res, 100));
  // Still serving (an uncaught error would have ended this test process).
  const ok = await rawExchange(rp, handshake('/echo'), /\r\n\r\nok$/, (s) => s.write('ok'));
  ok.socket.destroy();
  assert.match(ok.text, /^HTTP\/1\.1 101 /);
  await settles(() => r.inFlight('c') === 0);
  assert.equal(r.inFlight('c'), 0);
});
