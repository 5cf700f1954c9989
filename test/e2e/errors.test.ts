import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { freePort } from '../../src/core/net.ts';
import { exampleRepo } from '../helpers/repo.ts';
import { get } from '../helpers/load.ts';
import { runCli, startServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/wait.ts';

test('mistakes people make get a clear message, the right exit code, and change nothing', { timeout: 180_000 }, async (t) => {
  const s = await startServer(t);
  const cli = s.cli;

  // Unknown app and run: 404 from the API, exit 1 from the CLI.
  const noApp = await cli('status', 'nope');
  assert.equal(noApp.code, 1);
  assert.match(noApp.stderr, /app "nope" does not exist/);
  const noRun = await cli('run', 'nope-1');
  assert.equal(noRun.code, 1);
  assert.match(noRun.stderr, /run "nope-1" does not exist/);
  const api404 = await fetch(`${s.apiUrl}/api/v1/apps/nope`, { headers: { authorization: `Bearer ${s.token}` } });
  assert.equal(api404.status, 404);
  assert.equal((await api404.json()).error.code, 'app.not_found');

  // Tokens: none, wrong.
  const anonymous = await fetch(`${s.apiUrl}/api/v1/apps`);
  assert.equal(anonymous.status, 401);
  assert.equal((await anonymous.json()).error.code, 'auth.missing');
  const wrong = await runCli(['apps'], { SLIPWAY_URL: s.apiUrl, SLIPWAY_TOKEN: 'not-the-token' });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /token is not valid/);
  assert.doesNotMatch(wrong.stderr, /not-the-token/, 'a token is never echoed');
  const unset = await runCli(['apps'], { SLIPWAY_URL: s.apiUrl, SLIPWAY_TOKEN: '' });
  assert.equal(unset.code, 2);
  assert.match(unset.stderr, /SLIPWAY_TOKEN is not set/);
  assert.equal((await fetch(`${s.apiUrl}/healthz`)).status, 200, '/healthz needs no token');

  // Usage errors exit 2.
  assert.equal((await cli('deploy', 'hello', 'staging')).code, 2, 'missing --artifact');
  assert.equal((await cli('frobnicate')).code, 2);

  // Repositories that cannot be used.
  const missing = await cli('app', 'create', '/nonexistent/repo.git');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot read git repository "\/nonexistent\/repo.git": .*does not appear to be a git repository/);
  const repo = exampleRepo(t, 'hello');
  const branch = await cli('app', 'create', repo.path, '--branch', 'release');
  assert.equal(branch.code, 1);
  assert.match(branch.stderr, /has no branch "release"/);
  assert.match(branch.stderr, /branches: main/);
  assert.deepEqual(await s.json('apps'), [], 'failed creates leave nothing behind');

  // The router explains itself.
  const unknownHost = await get(s.routerPort, 'ghost.staging.localhost');
  assert.equal(unknownHost.status, 404);
  assert.match(unknownHost.body, /no app is routed at host "ghost\.staging\.localhost"/);

  // Approving or rolling back with nothing to act on.
  assert.equal((await cli('app', 'create', repo.path)).code, 0);
  const again = await cli('app', 'create', repo.path);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already exists/);
  const early = await cli('approve', 'hello', 'staging');
  assert.equal(early.code, 1);
  assert.match(early.stderr, /nothing is waiting for approval/);
  const noEnv = await cli('approve', 'hello', 'qa');
  assert.equal(noEnv.code, 1);
  assert.match(noEnv.stderr, /no environment "qa"/);
  assert.match(noEnv.stderr, /environments: staging, production/);
  await waitFor(async () => (await s.json('status', 'hello')).environments[0].release, 30_000, 'staging to deploy');
  const nothingBack = await cli('rollback', 'hello', 'staging');
  assert.equal(nothingBack.code, 1);
  assert.match(nothingBack.stderr, /no earlier release to roll back to/);
  const badDigest = await cli('deploy', 'hello', 'production', '--artifact', `sha256:${'0'.repeat(64)}`);
  assert.equal(badDigest.code, 1);
  assert.match(badDigest.stderr, /artifact "sha256:0+" does not exist/);

  // Bad flag values are usage errors (exit 2) even when the server is the one to check them;
  // unknown names in filters are failures that say so, not empty lists.
  for (const args of [['logs', 'hello', 'staging', '--limit', 'abc'], ['logs', 'hello', 'staging', '--since', 'yesterday-ish'], ['alerts', '--state', 'weird'], ['run', 'frob', 'hello-1']]) {
    const r = await cli(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
  }
  const alertsNoApp = await cli('alerts', 'nope');
  assert.equal(alertsNoApp.code, 1);
  assert.match(alertsNoApp.stderr, /app "nope" does not exist/);
  const noSuchEnv = await cli('deployments', 'hello', '--env', 'nope');
  assert.equal(noSuchEnv.code, 1);
  assert.match(noSuchEnv.stderr, /hello has no environment "nope"/);
  const unknownPath = await fetch(`${s.apiUrl}/nope`);
  assert.equal(unknownPath.status, 401, 'no route is revealed without a token');

  // A tampered artifact is refused before any instance starts; the running release keeps serving.
  const staging = (await s.json('status', 'hello')).environments[0];
  const hex = staging.release.artifact.slice('sha256:'.length);
  rmSync(path.join(s.dataDir, 'artifacts', 'unpacked', hex), { recursive: true, force: true });
  appendFileSync(path.join(s.dataDir, 'artifacts', 'sha256', `${hex}.tgz`), 'tampered');
  assert.equal((await s.cli('deploy', 'hello', 'staging', '--artifact', staging.release.artifact)).code, 0);
  const refused = await waitFor(async () => {
    const d = (await s.json('deployments', 'hello', '--env', 'staging'))[0];
    return d.state === 'failed' ? d : undefined;
  }, 20_000, 'the deployment of a tampered artifact to fail');
  assert.match(refused.reason, /failed verification/);
  assert.equal((await get(s.routerPort, 'hello.staging.localhost')).status, 200);

  // An environment whose instances are all gone answers 503 with a reason.
  for (const i of (await s.json('status', 'hello')).environments[0].instances) process.kill(i.pid, 'SIGSTOP');
  const frozen = await waitFor(async () => {
    const r = await get(s.routerPort, 'hello.staging.localhost');
    return r.status === 503 ? r : undefined;
  }, 15_000, 'a 503 from an environment with no healthy instance');
  assert.match(frozen.body, /hello\.staging\.localhost has no healthy instance/);
  for (const i of (await s.json('status', 'hello')).environments[0].instances) process.kill(i.pid, 'SIGCONT');
});

test('server start on a port already in use fails clearly and creates nothing', { timeout: 180_000 }, async () => {
  const blocker = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => blocker.once('listening', r));
  const taken = (blocker.address() as net.AddressInfo).port;
  const parent = mkdtempSync(path.join(os.tmpdir(), 'slipway-port-'));
  const dataDir = path.join(parent, 'data');
  try {
    const r = await runCli(['server', '--data-dir', dataDir, '--api-port', String(taken), '--router-port', String(await freePort())], {});
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`port ${taken} on 127\\.0\\.0\\.1 is already in use`));
    assert.match(r.stderr, /--api-port/);
    assert.equal(existsSync(dataDir), false, 'no data directory was created');
  } finally {
    blocker.close();
    rmSync(parent, { recursive: true, force: true });
  }
});
