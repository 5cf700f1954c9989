import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { test } from 'node:test';
import { exampleRepo, type TestRepo } from '../helpers/repo.ts';
import { get, load } from '../helpers/load.ts';
import { processesOf, startServer, type TestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/wait.ts';

const HOST = 'hello.staging.localhost';

/** Three instances that take a moment to start, so a rollout spans several seconds. */
function slowRepo(t: Parameters<typeof exampleRepo>[0]): TestRepo {
  const repo = exampleRepo(t, 'hello');
  const spec = readFileSync(`${repo.path}/slipway.yaml`, 'utf8')
    .replace('  instances: 2', '  instances: 3\n  env:\n    STARTUP_DELAY_MS: "400"');
  repo.commit({ 'slipway.yaml': spec }, 'three slow instances');
  return repo;
}

async function staging(s: TestServer) {
  return (await s.json('status', 'hello')).environments.find((e: any) => e.name === 'staging');
}

async function waitSettled(s: TestServer, version: string) {
  return waitFor(async () => {
    const e = await staging(s);
    const ok = e?.release?.version === version && ['committed', 'failed'].includes(e.deployment?.state)
      && e.instances.length === 3 && e.instances.every((i: any) => i.release === version && i.healthy && i.state === 'running');
    return ok ? e : undefined;
  }, 45_000, `staging to settle on ${version}`);
}

/** Every process of the data dir belongs to an instance the control plane knows: nothing orphaned. */
function assertNoOrphans(s: TestServer, instances: any[]) {
  const known = new Set(instances.map((i: any) => i.id));
  for (const pid of processesOf(s.dataDir)) {
    const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    const id = env.find((v) => v.startsWith('SLIPWAY_INSTANCE='))?.slice('SLIPWAY_INSTANCE='.length);
    assert.ok(id && known.has(id), `process ${pid} (${id}) is not a known instance: orphaned`);
  }
  assert.equal(new Set(instances.map((i: any) => i.pid)).size, instances.length);
}

/** Waits until the deployment to `version` has recorded `kind` at least `count` times. */
async function waitForEvent(s: TestServer, version: string, kind: string, count: number) {
  return waitFor(async () => {
    const list = await s.json('deployments', 'hello', '--env', 'staging');
    const dep = list.find((d: any) => d.to === version);
    if (!dep) return undefined;
    const detail = await s.json('deployment', dep.id);
    return detail.events.filter((e: any) => e.kind === kind).length >= count ? dep : undefined;
  }, 30_000, `${kind} ×${count} in the deployment to ${version}`);
}

test('SIGKILL of the control plane at several points of a rolling deployment: it resumes, serves, orphans nothing', { timeout: 180_000 }, async (t) => {
  const s = await startServer(t);
  const repo = slowRepo(t);
  assert.equal((await s.cli('app', 'create', repo.path)).code, 0);
  await waitSettled(s, 'v1');

  // Each kill point lands in a different phase of the rollout: while the first new instance
  // starts, after it joined the router, and while an old instance drains.
  const points: [string, number][] = [['instance.start.done', 1], ['instance.routed', 1], ['instance.draining', 2]];
  let version = 1;
  for (const [kind, count] of points) {
    version++;
    repo.commit({ 'message.txt': `version ${version}\n` }, `v${version}`);
    await waitForEvent(s, `v${version}`, kind, count);
    await s.restart('SIGKILL');
    const settled = await waitSettled(s, `v${version}`);
    assert.equal(settled.deployment.state, 'committed', `deployment to v${version} after a kill at ${kind}: ${settled.deployment.reason}`);
    const res = await get(s.routerPort, HOST);
    assert.equal(res.status, 200);
    assert.equal(res.release, `v${version}`);
    // Stopping old instances finishes asynchronously; give it a moment, then nothing may be left over.
    await waitFor(async () => processesOf(s.dataDir).length === 3 || undefined, 15_000, 'only the three current instances to remain');
    assertNoOrphans(s, (await staging(s)).instances);
  }
});

test('a crashed instance is restarted with backoff and reported, and the router drops no GET', { timeout: 180_000 }, async (t) => {
  const s = await startServer(t);
  const repo = exampleRepo(t, 'hello');
  assert.equal((await s.cli('app', 'create', repo.path)).code, 0);
  const before = await waitFor(async () => {
    const e = await staging(s);
    return e?.instances.length === 2 && e.instances.every((i: any) => i.healthy) ? e : undefined;
  }, 30_000, 'staging to run');

  const traffic = load(s.routerPort, HOST);
  await new Promise((r) => setTimeout(r, 300));
  const victim = before.instances[0];
  process.kill(victim.pid, 'SIGKILL');
  const after = await waitFor(async () => {
    const e = await staging(s);
    const i = e.instances.find((x: any) => x.id === victim.id);
    return i && i.restarts === 1 && i.healthy && i.pid !== victim.pid ? i : undefined;
  }, 20_000, 'the crashed instance to come back');
  await new Promise((r) => setTimeout(r, 300));
  const result = await traffic.stop();
  assert.equal(result.failed, 0, `failed GETs: ${result.failures.slice(0, 5).join(', ')}`);
  assert.ok(result.ok > 50, `load ran (${result.ok} requests)`);
  assert.notEqual(after.port, 0);

  const events = await fetch(`${s.apiUrl}/api/v1/events?app=hello`, { headers: { authorization: `Bearer ${s.token}` } }).then((r) => r.json());
  const kinds = events.events.filter((e: any) => e.instance === victim.id).map((e: any) => e.kind);
  assert.ok(kinds.includes('instance.crashed') && kinds.includes('instance.restarted'), `crash reported: ${kinds.join(', ')}`);
});

test('SIGKILL at each canary step and during probation: the deployment resumes with the same traffic weights', { timeout: 240_000 }, async (t) => {
  const s = await startServer(t);
  const repo = exampleRepo(t, 'hello');
  const spec = readFileSync(`${repo.path}/slipway.yaml`, 'utf8').replace(/environments:[\s\S]*$/,
    'environments:\n  staging:\n    strategy: {canary: {steps: [20, 50], step_duration: 4s, analysis: {interval: 1s, min_requests: 20, metrics: [error_rate]}, probation: 5s}}\n');
  repo.commit({ 'slipway.yaml': spec }, 'canary');
  assert.equal((await s.cli('app', 'create', repo.path)).code, 0);
  await waitFor(async () => (await staging(s))?.release?.version === 'v1', 30_000, 'v1');
  const traffic = load(s.routerPort, HOST, 4, 180_000);
  t.after(() => traffic.stop());
  repo.commit({ 'message.txt': 'canary\n' }, 'v2');

  const current = async () => (await staging(s)).deployment;
  for (const [state, weight] of [['progressing', 20], ['progressing', 50], ['probation', 100]] as const) {
    const before = await waitFor(async () => { const d = await current(); return d?.to === 'v2' && d.state === state && d.weight === weight ? d : undefined; }, 60_000, `v2 at ${weight}% (${state})`);
    await s.restart('SIGKILL');
    const after = await current();
    assert.equal(after.id, before.id);
    assert.equal(after.weight, weight, `weight after the restart at ${weight}%`);
    if (weight < 100) assert.equal((await get(s.routerPort, HOST)).status, 200);
    const pinned = await new Promise<string | undefined>((resolve) => {
      http.get({ host: '127.0.0.1', port: s.routerPort, path: '/', headers: { host: HOST, 'x-slipway-canary': 'always' }, agent: false }, (res) => {
        res.resume();
        resolve(res.headers['x-slipway-release'] as string);
      }).on('error', () => resolve(undefined));
    });
    assert.equal(pinned, 'v2', 'the canary group is routed again right after the restart');
  }
  const done = await waitFor(async () => { const d = await current(); return d?.state === 'committed' ? d : undefined; }, 60_000, 'v2 to commit');
  assert.equal(done.weight, 100);
  await waitFor(async () => processesOf(s.dataDir).length === 2 || undefined, 20_000, 'only the two v2 instances to remain');
  assertNoOrphans(s, (await staging(s)).instances);
});

test('SIGKILL at each blue/green step (starting the new set, waiting at the preview, probation): resumes with the same traffic', { timeout: 180_000 }, async (t) => {
  const s = await startServer(t);
  const repo = exampleRepo(t, 'hello');
  const spec = readFileSync(`${repo.path}/slipway.yaml`, 'utf8')
    .replace('  instances: 2', '  instances: 2\n  env:\n    STARTUP_DELAY_MS: "1500"')
    .replace(/environments:[\s\S]*$/, 'environments:\n  staging:\n    strategy: {blue_green: {preview: true, probation: 4s}}\n');
  repo.commit({ 'slipway.yaml': spec }, 'blue/green with preview');
  assert.equal((await s.cli('app', 'create', repo.path)).code, 0);
  await waitFor(async () => (await staging(s))?.release?.version === 'v1', 30_000, 'v1');
  repo.commit({ 'message.txt': 'green\n' }, 'v2');
  const current = async () => (await staging(s)).deployment;
  const steps: [string, (d: any) => boolean][] = [
    ['starting the green set', (d) => d.state === 'progressing' && d.weight === 0],
    ['waiting at the preview', (d) => d.state === 'paused' && d.weight === 0],
    ['probation', (d) => d.state === 'probation' && d.weight === 100],
  ];
  for (const [what, at] of steps) {
    const before = await waitFor(async () => { const d = await current(); return d?.to === 'v2' && at(d) ? d : undefined; }, 60_000, what);
    await s.restart('SIGKILL');
    const after = await current();
    assert.equal(after.weight, before.weight, `weight after a restart while ${what}`);
    const expected = before.weight === 100 ? 'v2' : 'v1';
    assert.equal((await get(s.routerPort, HOST)).release, expected, `live traffic after a restart while ${what}`);
    if (what === 'waiting at the preview') {
      assert.equal((await get(s.routerPort, 'hello.staging-preview.localhost')).release, 'v2');
      assert.equal((await s.cli('promote', 'hello', 'staging')).code, 0);
    }
  }
  await waitFor(async () => (await current())?.state === 'committed' || undefined, 60_000, 'v2 to commit');
  await waitFor(async () => processesOf(s.dataDir).length === 2 || undefined, 20_000, 'only the two v2 instances to remain');
  assertNoOrphans(s, (await staging(s)).instances);
});
