import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { exampleRepo } from '../helpers/repo.ts';
import { get, load } from '../helpers/load.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/wait.ts';

const HOST = { staging: 'hello.staging.localhost', production: 'hello.production.localhost' };

async function envStatus(s: TestServer, env: string) {
  const status = await s.json('status', 'hello');
  return status.environments.find((e: any) => e.name === env);
}

/** Waits until `env` runs `version` on all its instances, healthy, with no deployment in flight. */
async function waitServing(s: TestServer, env: string, version: string) {
  return waitFor(async () => {
    const e = await envStatus(s, env);
    const settled = e?.release?.version === version && e.deployment?.state !== 'progressing' && e.deployment?.state !== 'pending'
      && e.instances.length === 2 && e.instances.every((i: any) => i.release === version && i.healthy);
    return settled ? e : undefined;
  }, 30_000, `${env} to serve ${version}`);
}

test('git push to a zero-downtime deploy: staging, approval, rollout, broken spec, rollback', { timeout: 180_000 }, async (t) => {
  const s = await startServer(t);
  const repo = exampleRepo(t, 'hello');

  const created = await s.cli('app', 'create', repo.path, '--branch', 'main');
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /created hello/);

  // First commit: green run → artifact → staging, no approval needed there.
  const staging1 = await waitServing(s, 'staging', 'v1');
  assert.equal(staging1.release.commit, repo.head());
  assert.match(staging1.release.artifact, /^sha256:[0-9a-f]{64}$/);
  assert.equal(staging1.deployment.strategy, 'rolling');
  for (const i of staging1.instances) assert.ok(i.pid > 0 && i.port > 0 && i.state === 'running');
  const first = await get(s.routerPort, HOST.staging);
  assert.equal(first.status, 200);
  assert.equal(first.release, 'v1');
  assert.match(first.body, /Hello from Slipway/);

  // Production waits for a person.
  const production0 = await envStatus(s, 'production');
  assert.equal(production0.release, null);
  assert.equal(production0.waitingForApproval.version, 'v1');
  assert.equal((await get(s.routerPort, HOST.production)).status, 404);
  const approved = await s.cli('approve', 'hello', 'production');
  assert.equal(approved.code, 0, approved.stderr);
  const production1 = await waitServing(s, 'production', 'v1');
  assert.equal(production1.release.artifact, staging1.release.artifact, 'production runs the very artifact staging ran');
  const nothing = await s.cli('approve', 'hello', 'production');
  assert.equal(nothing.code, 1);
  assert.match(nothing.stderr, /nothing is waiting for approval in hello\/production/);

  // Second commit rolls out to staging under load with no failed request; production stays put.
  const traffic = load(s.routerPort, HOST.staging);
  const second = repo.commit({ 'message.txt': 'Hello, second version\n' }, 'second version');
  const staging2 = await waitServing(s, 'staging', 'v2');
  const during = await traffic.stop();
  assert.equal(during.failed, 0, `failed requests during the rollout: ${during.failures.slice(0, 5).join(', ')}`);
  assert.ok(during.releases.get('v1')! > 0 && during.releases.get('v2')! > 0, 'traffic saw both releases');
  assert.equal(staging2.release.commit, second);
  assert.match((await get(s.routerPort, HOST.staging)).body, /second version/);
  assert.equal((await envStatus(s, 'production')).release.version, 'v1');

  const runs = await s.json('runs', 'hello');
  assert.deepEqual(runs.map((r: any) => [r.id, r.state]), [['hello-2', 'succeeded'], ['hello-1', 'succeeded']]);
  const run2 = await s.json('run', 'hello-2');
  assert.deepEqual(run2.steps.map((st: any) => st.name), ['checkout', 'spec', 'syntax', 'node test.js', 'artifact']);
  assert.ok(run2.steps.every((st: any) => st.state === 'succeeded' && st.durationMs >= 0));
  const logs = await s.cli('run', 'logs', 'hello-2');
  assert.match(logs.stdout, /healthz ok/);

  // A broken slipway.yaml fails the run at the spec step and leaves the running release alone.
  const spec = readFileSync(`${repo.path}/slipway.yaml`, 'utf8');
  const broken = repo.commit({ 'slipway.yaml': spec.replace('  instances: 2', '  instances: 2\n  colour: blue') }, 'broken spec');
  const run3 = await waitFor(async () => {
    const r = (await s.json('runs', 'hello')).find((x: any) => x.commit === broken);
    return r && r.state === 'failed' ? r : undefined;
  }, 20_000, 'the broken commit to fail');
  const shown = await s.cli('run', run3.id);
  assert.equal(shown.code, 0);
  assert.match(shown.stdout, /step "spec" failed/);
  assert.match(shown.stdout, /slipway\.yaml:\d+:\d+: unknown key "colour" under "service"/);
  assert.equal(run3.artifact, null);
  assert.equal((await envStatus(s, 'staging')).release.version, 'v2');
  assert.equal((await get(s.routerPort, HOST.staging)).release, 'v2');

  // Rollback under load: back to v1, zero failed requests.
  const traffic2 = load(s.routerPort, HOST.staging);
  const rolled = await s.cli('rollback', 'hello', 'staging');
  assert.equal(rolled.code, 0, rolled.stderr);
  const back = await waitServing(s, 'staging', 'v1');
  const during2 = await traffic2.stop();
  assert.equal(during2.failed, 0, `failed requests during rollback: ${during2.failures.slice(0, 5).join(', ')}`);
  assert.equal(back.release.artifact, staging1.release.artifact, 'rollback reuses the old artifact, never rebuilds');

  // Redeploy a known artifact by digest.
  const redeploy = await s.cli('deploy', 'hello', 'staging', '--artifact', staging2.release.artifact);
  assert.equal(redeploy.code, 0, redeploy.stderr);
  await waitServing(s, 'staging', 'v2');

  // Instance output is one command away.
  await waitFor(async () => /hello v2 listening on \d+/.test((await s.cli('logs', 'hello', 'staging', '--grep', 'listening')).stdout), 10_000, 'v2 start-up lines in the logs');

  // The history says who did what.
  const deployments = await s.json('deployments', 'hello', '--env', 'staging');
  assert.deepEqual(deployments.map((d: any) => [d.to, d.trigger, d.state]).reverse(), [
    ['v1', 'pipeline', 'committed'], ['v2', 'pipeline', 'committed'], ['v1', 'rollback', 'committed'], ['v2', 'manual', 'committed'],
  ]);
  const detail = await s.json('deployment', deployments[0].id);
  const kinds = detail.events.map((e: any) => e.kind);
  for (const kind of ['deployment.started', 'instance.start.intent', 'instance.start.done', 'instance.routed', 'instance.draining', 'instance.stop.done', 'deployment.committed']) {
    assert.ok(kinds.includes(kind), `deployment events include ${kind}`);
  }
});
