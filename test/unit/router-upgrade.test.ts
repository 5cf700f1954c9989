import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { Router } from '../../src/router/router.ts';

// Protocol switches through the router: real WebSockets (the ws library at both ends) and a raw
// tunnel.

const HOST = 'chat.prod.localhost';

/** A backend that answers `Upgrade: echo` by echoing raw bytes and refuses anything else; `seen` gets each handshake's headers. */
async function upgradingBackend(t: TestContext, name: string, seen: http.IncomingHttpHeaders[] = []): Promise<number> {
  const server = http.createServer((_req, res) => res.end(name));
  const sockets = new Set<net.Socket>();
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
    sockets.add(socket);
    seen.push(req.headers);
    if (req.headers.upgrade === 'echo') {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
      socket.pipe(socket);
      return;
    }
    socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 11\r\nconnection: close\r\n\r\nnot for you');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => { for (const s of sockets) s.destroy(); server.closeAllConnections(); server.close(); });
  return (server.address() as AddressInfo).port;
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
  const request = `GET /tunnel HTTP/1.1\r\nHost: ${HOST}\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n`;
  const { text, socket } = await rawExchange(rp, request, /ping-pong$/, (s) => s.write('ping-pong'));
  socket.destroy();
  assert.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  assert.match(text, /\r\nx-slipway-release: v2\r\n/);
  assert.ok(text.endsWith('\r\n\r\nping-pong'), JSON.stringify(text));
  assert.equal(seen[0].upgrade, 'echo');
  assert.equal(seen[0].connection, 'upgrade');
  assert.equal(seen[0]['x-forwarded-for'], '127.0.0.1');
  assert.equal(seen[0]['x-forwarded-host'], HOST);
});

test('router upgrade: unknown host, a refusal, and a dead instance retried on a live one', async (t) => {
  const live = await upgradingBackend(t, 'live');
  const dead = net.createServer();
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
  const deadPort = (dead.address() as AddressInfo).port;
  await new Promise<void>((r) => dead.close(() => r()));
  const errors: string[] = [];
  const { r, port: rp } = await router(t, (id) => errors.push(id));
  r.setRoute('chat', 'prod', [{ id: 'dead', host: '127.0.0.1', port: deadPort, release: 'v1' }, { id: 'live', host: '127.0.0.1', port: live, release: 'v1' }]);

  const unknown = await rawExchange(rp, 'GET / HTTP/1.1\r\nHost: nope.prod.localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n', /routed/);
  assert.match(unknown.text, /^HTTP\/1\.1 404 Not Found\r\n[\s\S]*no app is routed at host "nope\.prod\.localhost"/);

  const refused = await rawExchange(rp, `GET / HTTP/1.1\r\nHost: ${HOST}\r\nConnection: Upgrade\r\nUpgrade: smtp\r\n\r\n`, /not for you$/);
  assert.match(refused.text, /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*not for you$/);

  for (let i = 0; i < 3; i++) {
    const ok = await rawExchange(rp, `GET / HTTP/1.1\r\nHost: ${HOST}\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n`, /\r\n\r\nx$/, (s) => s.write('x'));
    ok.socket.destroy();
    assert.match(ok.text, /^HTTP\/1\.1 101 /);
  }
  assert.deepEqual(errors, ['dead'], 'the dead instance is reported once, then skipped');
});
