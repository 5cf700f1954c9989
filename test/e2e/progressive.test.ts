import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { exampleRepo, type TestRepo } from '../helpers/repo.ts';
import { get, load } from '../helpers/load.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { GiveUp, waitFor } from '../helpers/wait.ts';

const HOST = 'hello.staging.localhost';

/** The example app with one environment using `strategy` (YAML flow text). */
function repoWith(t: Parameters<typeof exampleRepo>[0], strategy: string): TestRepo {
  const repo = exampleRepo(t, 'hello');
  const spec = readFileSync(`${repo.path}/slipway.yaml`, 'utf8').replace(/environments:[\s\S]*$/, `environments:\n  staging:\n    strategy: ${strategy}\n`);
  repo.commit({ 'slipway.yaml': spec }, 'progressive strategy');
  return repo;
}

async function deployment(s: TestServer, version: string) {
  const list = await s.json('deployments', 'hello', '--env', 'staging');
  const d = list.find((x: any) => x.to === version);
  return d ? s.json('deployment', d.id) : undefined;
}

const TERMINAL = ['committed', 'failed', 'rolled_back', 'aborted'];

/** Waits for `ok`; a deployment that ends some other way fails at once, with its story. */
async function waitDeployment(s: TestServer, version: string, ok: (d: any) => boolean, what: string, timeoutMs = 60_000) {
  return waitFor(async () => {
    const d = await deployment(s, version);
    if (d && !ok(d) && TERMINAL.includes(d.state)) {
      throw new GiveUp(`deployment ${d.id} ended ${d.state} (${d.reason}) while waiting for ${what}; verdicts: ${JSON.stringify(d.verdicts.map((v: any) => v.summary))}`);
    }
    return d && ok(d) ? d : undefined;
  }, timeoutMs, what);
}

function request(port: number, headers: Record<string, string>): Promise<{ status: number; release?: string; cookie?: string }> {
  return new Promise((resolve) => {
    http.get({ host: '127.0.0.1', port, path: '/', headers: { host: HOST, ...headers }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, release: res.headers['x-slipway-release'] as string, cookie: (res.headers['set-cookie'] ?? [])[0] }));
    }).on('error', () => resolve({ status: 0 }));
  });
}

async function settledOn(s: TestServer, version: string) {
  return waitFor(async () => {
    const env = (await s.json('status', 'hello')).environments[0];
    return env.release?.version === version && ['committed', 'failed', 'rolled_back', 'aborted'].includes(env.deployment?.state) ? env : undefined;
  }, 60_000, `staging to settle on ${version}`);
}

test('canary: steps with analysis, sticky assignment, header pins, promotion; a bad canary is rolled back automatically', { timeout: 240_000 }, async (t) => {
  const s = await startServer(t);
  // Latency is left out of this analysis on purpose: with one instance per group on a busy 2-core
  // test machine, a descheduled process slows all its requests at once and the latency tests can
  // fail an unchanged release (see the judge's notes). Error-rate judgement is what is asserted here.
  const repo = repoWith(t, '{canary: {steps: [20, 50], step_duration: 3s, baseline: true, analysis: {interval: 1s, min_requests: 30, metrics: [error_rate]}, probation: 2s}}');
  assert.equal((await s.cli('app', 'create', repo.path)).code, 0);
  await settledOn(s, 'v1');

  const traffic = load(s.routerPort, HOST, 6);
  t.after(() => traffic.stop());
  repo.commit({ 'message.txt': 'second\n' }, 'v2');
  const atStep = await waitDeployment(s, 'v2', (d) => d.state === 'progressing' && d.weight === 20, 'the canary at 20%');
  assert.equal(atStep.strategy, 'canary');

  // Sticky: one client keeps its release across requests while the split holds.
  const first = await request(s.routerPort, {});
  assert.match(first.cookie ?? '', /^slipway_client=[\w-]+;/);
  const cookie = first.cookie!.split(';')[0];
  const seen = new Set<string>();
  for (let n = 0; n < 20; n++) seen.add((await request(s.routerPort, { cookie })).release!);
  assert.equal(seen.size, 1, `a client saw ${[...seen].join(' and ')}`);
  // Pins: testers force the canary; a client that sends its release back stays on it.
  assert.equal((await request(s.routerPort, { 'x-slipway-canary': 'always' })).release, 'v2');
  assert.equal((await request(s.routerPort, { 'x-slipway-release': 'v1' })).release, 'v1');

  const status = (await s.json('status', 'hello')).environments[0];
  assert.ok(status.instances.some((i: any) => i.role === 'baseline' && i.release === 'v1'), 'a baseline of the old release runs beside the canary');

  const committed = await waitDeployment(s, 'v2', (d) => d.state === 'committed', 'the healthy canary to commit');
  const steps = committed.events.filter((e: any) => e.kind === 'traffic.shifted').map((e: any) => e.after.weight);
  assert.deepEqual(steps, [20, 50, 100]);
  assert.ok(committed.verdicts.length >= 2 && committed.verdicts.every((v: any) => v.outcome === 'Successful'), 'every verdict passed');
  const healthy = await traffic.stop();
  assert.equal(healthy.failed, 0, `failed requests: ${healthy.failures.slice(0, 3).join(', ')}`);
  assert.equal((await get(s.routerPort, HOST)).release, 'v2');

  // A release that fails 10% of its requests is stopped by the judge and rolled back.
  const spec = readFileSync(`${repo.path}/slipway.yaml`, 'utf8').replace('  instances: 2', '  instances: 2\n  env:\n    ERROR_RATE: "0.1"');
  const traffic2 = load(s.routerPort, HOST, 6);
  t.after(() => traffic2.stop());
  repo.commit({ 'slipway.yaml': spec }, 'v3 fails 10% of requests');
  const failed = await waitDeployment(s, 'v3', (d) => d.state === 'failed', 'the bad canary to be rolled back');
  await traffic2.stop();
  assert.match(failed.reason, /analysis failed at 20%: .*error_rate/);
  assert.ok(failed.verdicts.some((v: any) => v.outcome === 'Failed' && v.metrics.some((m: any) => m.metric === 'error_rate' && m.result === 'High')));
  const after = await settledOn(s, 'v2');
  assert.ok(after.instances.every((i: any) => i.release === 'v2'), 'the canary and baseline instances are gone');
  for (let n = 0; n < 10; n++) assert.equal((await get(s.routerPort, HOST)).release, 'v2');
});

test('blue/green: preview before the switch, promote, instant rollback during probation, no failed request', { timeout: 180_000 }, async (t) => {
  const s = await startServer(t);
  const repo = repoWith(t, '{blue_green: {preview: true, probation: 60s}}');
  assert.equal((await s.cli('app', 'create', repo.path)).code, 0);
  await settledOn(s, 'v1');

  const traffic = load(s.routerPort, HOST, 4);
  t.after(() => traffic.stop());
  repo.commit({ 'message.txt': 'green\n' }, 'v2');
  const waiting = await waitDeployment(s, 'v2', (d) => d.state === 'paused', 'the green set to wait at its preview');
  assert.match(waiting.reason, /preview ready/);
  assert.equal((await get(s.routerPort, 'hello.staging-preview.localhost')).release, 'v2');
  assert.equal((await get(s.routerPort, HOST)).release, 'v1', 'live traffic stays on blue until promoted');

  assert.equal((await s.cli('promote', 'hello', 'staging')).code, 0);
  await waitDeployment(s, 'v2', (d) => d.state === 'probation' && d.weight === 100, 'the switch');
  assert.equal((await get(s.routerPort, HOST)).release, 'v2');
  assert.equal((await get(s.routerPort, 'hello.staging-preview.localhost')).status, 404, 'the preview host goes with the switch');

  // While blue still runs, a rollback is a weight change: done when the command returns.
  // (How fast, in milliseconds, is measured by bench/rollback, not asserted here.)
  const rolled = await s.cli('rollback', 'hello', 'staging');
  assert.equal(rolled.code, 0, rolled.stderr);
  for (let n = 0; n < 10; n++) assert.equal((await get(s.routerPort, HOST)).release, 'v1');
  const done = await waitDeployment(s, 'v2', (d) => d.state === 'rolled_back', 'the rollback to finish');
  assert.match(done.reason, /rolled back by admin/);
  const result = await traffic.stop();
  assert.equal(result.failed, 0, `failed requests: ${result.failures.slice(0, 3).join(', ')}`);
});

test('deployment commands: pause, resume, abort, rollback --to, and the mistakes people make', { timeout: 180_000 }, async (t) => {
  const s = await startServer(t);
  const repo = repoWith(t, '{canary: {steps: [10, 30], step_duration: 60s, analysis: {min_requests: 1000000}, probation: 1s}}');
  assert.equal((await s.cli('app', 'create', repo.path)).code, 0);
  await settledOn(s, 'v1');

  for (const verb of ['promote', 'pause', 'abort']) {
    const r = await s.cli(verb, 'hello', 'staging');
    assert.equal(r.code, 1, verb);
    assert.match(r.stderr, new RegExp(`hello/staging has no deployment in progress to ${verb}`));
  }
  const nothing = await s.cli('resume', 'hello', 'staging');
  assert.match(nothing.stderr, /nothing paused to resume/);
  const noRollback = await s.cli('rollback', 'hello', 'staging');
  assert.match(noRollback.stderr, /no earlier release to roll back to/);

  repo.commit({ 'message.txt': 'two\n' }, 'v2');
  await waitDeployment(s, 'v2', (d) => d.weight === 10, 'the canary at 10%');
  assert.equal((await s.cli('pause', 'hello', 'staging')).code, 0);
  const again = await s.cli('pause', 'hello', 'staging');
  assert.match(again.stderr, /already paused/);
  assert.equal((await s.cli('resume', 'hello', 'staging')).code, 0);
  // Promote skips the remaining steps, then probation ends and v2 commits.
  assert.equal((await s.cli('promote', 'hello', 'staging')).code, 0);
  const promoted = await waitDeployment(s, 'v2', (d) => d.state === 'committed', 'the promoted canary to commit');
  assert.ok(promoted.events.some((e: any) => e.kind === 'deployment.promoted' && e.actor === 'admin'), 'the promotion is recorded with who did it');

  repo.commit({ 'message.txt': 'three\n' }, 'v3');
  await waitDeployment(s, 'v3', (d) => d.weight === 10, 'the next canary');
  assert.equal((await s.cli('abort', 'hello', 'staging')).code, 0);
  await waitDeployment(s, 'v3', (d) => d.state === 'aborted', 'the abort');
  assert.equal((await get(s.routerPort, HOST)).release, 'v2');

  // --to takes the release of a recorded deployment; afterwards the pipeline waits for resume.
  const first = (await s.json('deployments', 'hello', '--env', 'staging')).find((d: any) => d.to === 'v1');
  const to = await s.cli('rollback', 'hello', 'staging', '--to', first.id);
  assert.equal(to.code, 0, to.stderr);
  assert.match(to.stdout, /slipway resume hello staging/);
  await settledOn(s, 'v1');
  const bogus = await s.cli('rollback', 'hello', 'staging', '--to', 'hello-staging-99');
  assert.match(bogus.stderr, /deployment "hello-staging-99" does not exist/);
  repo.commit({ 'message.txt': 'four\n' }, 'v4');
  await new Promise((r) => setTimeout(r, 2000));
  const held = (await s.json('status', 'hello')).environments[0];
  assert.equal(held.autoDeployPaused, true);
  assert.equal(held.release.version, 'v1', 'the pipeline does not undo a rollback by itself');
  assert.equal((await s.cli('resume', 'hello', 'staging')).code, 0);
  await waitDeployment(s, 'v4', (d) => d.state === 'progressing', 'the held deployment to start after resume');
});

test('canary: too little traffic is inconclusive, so the deployment pauses and says why; resume moves on', { timeout: 120_000 }, async (t) => {
  const s = await startServer(t);
  const repo = repoWith(t, '{canary: {steps: [10], step_duration: 2s, analysis: {interval: 1s, min_requests: 1000}, probation: 1s}}');
  assert.equal((await s.cli('app', 'create', repo.path)).code, 0);
  await settledOn(s, 'v1');
  repo.commit({ 'message.txt': 'quiet\n' }, 'v2');
  const paused = await waitDeployment(s, 'v2', (d) => d.state === 'paused', 'the pause');
  assert.match(paused.reason, /analysis inconclusive at 10%: .*too little traffic/);
  assert.ok(paused.verdicts.length >= 1 && paused.verdicts.every((v: any) => v.outcome === 'Inconclusive'));
  const status = await s.cli('status', 'hello');
  assert.match(status.stdout, /paused .*inconclusive/);
  assert.equal((await s.cli('resume', 'hello', 'staging')).code, 0);
  const done = await waitDeployment(s, 'v2', (d) => d.state === 'committed', 'v2 to commit after resume');
  assert.ok(done.events.some((e: any) => e.kind === 'deployment.resumed' && /next step/.test(e.message)));
});
