import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { Router } from '../../src/router/router.ts';

async function backend(t: TestContext, name: string, handler?: http.RequestListener): Promise<{ port: number; server: http.Server }> {
  const server = http.createServer(handler ?? ((req, res) => { req.resume(); res.end(name); }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => { server.closeAllConnections(); server.close(); });
  return { port: (server.address() as AddressInfo).port, server };
}

async function router(t: TestContext, onError?: (id: string) => void): Promise<{ r: Router; port: number }> {
  const r = new Router({ onBackendError: onError });
  const port = await r.listen(0, '127.0.0.1');
  t.after(() => r.close());
  return { r, port };
}

function request(port: number, host: string, opts: { method?: string; body?: string; path?: string } = {}): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ port, host: '127.0.0.1', method: opts.method ?? 'GET', path: opts.path ?? '/', headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

test('router: Host picks the environment, round robin over its backends, release header set', async (t) => {
  const a = await backend(t, 'a');
  const b = await backend(t, 'b');
  const { r, port } = await router(t);
  r.setRoute('shop', 'prod', [{ id: 'a', host: '127.0.0.1', port: a.port, release: 'v1' }, { id: 'b', host: '127.0.0.1', port: b.port, release: 'v2' }]);
  const seen = new Map<string, string>();
  for (let i = 0; i < 4; i++) {
    const res = await request(port, 'shop.prod.localhost:8080');
    assert.equal(res.status, 200);
    seen.set(res.body, String(res.headers['x-slipway-release']));
  }
  assert.deepEqual(Object.fromEntries(seen), { a: 'v1', b: 'v2' });
  const unknown = await request(port, 'shop.qa.localhost');
  assert.equal(unknown.status, 404);
  assert.match(unknown.body, /no app is routed at host "shop\.qa\.localhost"/);
  r.setRoute('shop', 'prod', []);
  const empty = await request(port, 'shop.prod.localhost');
  assert.equal(empty.status, 503);
  assert.match(empty.body, /no healthy instance/);
});

test('router: a dead backend is reported once and GETs are retried elsewhere; bodies are not replayed', async (t) => {
  const a = await backend(t, 'a');
  const dead = await backend(t, 'dead');
  await new Promise<void>((r) => dead.server.close(() => r()));
  const errors: string[] = [];
  const { r, port } = await router(t, (id) => errors.push(id));
  r.setRoute('shop', 'prod', [{ id: 'dead', host: '127.0.0.1', port: dead.port, release: 'v1' }, { id: 'a', host: '127.0.0.1', port: a.port, release: 'v1' }]);
  for (let i = 0; i < 6; i++) assert.equal((await request(port, 'shop.prod.localhost')).body, 'a');
  assert.deepEqual(errors, ['dead'], 'reported on the first connection error, then skipped');

  r.setRoute('shop', 'prod', [{ id: 'dead', host: '127.0.0.1', port: dead.port, release: 'v1' }]);
  const post = await request(port, 'shop.prod.localhost', { method: 'POST', body: 'order=1' });
  assert.equal(post.status, 502, 'a POST with a body is never sent twice');
  assert.match(post.body, /ECONNREFUSED/);
});

test('router: in-flight requests are counted per backend so draining can wait for them', async (t) => {
  let release: (() => void) | undefined;
  const slow = await backend(t, 'slow', (_req, res) => { release = () => res.end('done'); });
  const { r, port } = await router(t);
  r.setRoute('shop', 'prod', [{ id: 's', host: '127.0.0.1', port: slow.port, release: 'v1' }]);
  const pending = request(port, 'shop.prod.localhost');
  while (!release) await new Promise((res) => setTimeout(res, 5));
  assert.equal(r.inFlight('s'), 1);
  r.setRoute('shop', 'prod', []);
  assert.equal(r.inFlight('s'), 1, 'leaving the route does not forget requests still in flight');
  release!();
  assert.equal((await pending).body, 'done');
  assert.equal(r.inFlight('s'), 0);
});

test('router: the sticky cookie is added beside the cookies a backend sets', async (t) => {
  const a = await backend(t, 'a', (_req, res) => { res.setHeader('set-cookie', 'session=abc'); res.end('a'); });
  const { r, port } = await router(t);
  r.setRoute('shop', 'prod', { groups: [
    { name: 'canary', release: 'v2', weight: 50, backends: [{ id: 'a', host: '127.0.0.1', port: a.port, release: 'v2' }] },
    { name: 'stable', release: 'v2', weight: 50, backends: [{ id: 'a', host: '127.0.0.1', port: a.port, release: 'v2' }] },
  ] });
  const res = await request(port, 'shop.prod.localhost');
  assert.deepEqual((res.headers['set-cookie'] ?? []).map((c) => c.split('=')[0]).sort(), ['session', 'slipway_client']);
});

test('router: a client that gives up is not a backend failure: no retry, no down mark, in-flight back to zero', async (t) => {
  const slow = await backend(t, 'slow', (_req, res) => { setTimeout(() => res.end('late'), 300); });
  const other = await backend(t, 'other');
  const errors: string[] = [];
  const { r, port } = await router(t, (id) => errors.push(id));
  r.setRoute('shop', 'prod', [{ id: 's', host: '127.0.0.1', port: slow.port, release: 'v1' }, { id: 'o', host: '127.0.0.1', port: other.port, release: 'v1' }]);
  for (let n = 0; n < 4; n++) {
    const req = http.request({ port, host: '127.0.0.1', path: '/', headers: { host: 'shop.prod.localhost' } });
    req.on('error', () => {});
    req.end();
    await new Promise((res) => setTimeout(res, 30));
    req.destroy();
  }
  await new Promise((res) => setTimeout(res, 400));
  assert.deepEqual(errors, []);
  assert.equal(r.inFlight('s'), 0);
  assert.equal(r.inFlight('o'), 0);
});
