import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ArtifactStore } from '../../src/artifact/store.ts';
import { systemClock } from '../../src/core/clock.ts';
import { executeRun, type RunControl } from '../../src/pipeline/execute.ts';
import { Store } from '../../src/store/store.ts';
import type { Run } from '../../src/store/types.ts';
import { exampleRepo } from '../helpers/repo.ts';

// A run of examples/hello (its build and test steps emptied) from a real mirror, with a cancel or
// a shutdown already asked for before any command step: both used to be read only before
// commands, so a run with none went on to pack and succeed, and a cancelled run then deployed.

function setUp(t: Parameters<typeof exampleRepo>[0], build = '') {
  const repo = exampleRepo(t, 'hello');
  const withoutSteps = execFileSync('sed', ['-e', '/^build:/,/^artifact:/{/^artifact:/!d}', path.join(repo.path, 'slipway.yaml')], { encoding: 'utf8' });
  repo.commit({ 'slipway.yaml': build ? withoutSteps.replace('artifact:', `build:\n  - ${build}\nartifact:`) : withoutSteps }, 'steps');
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'slipway-execute-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const mirror = path.join(dataDir, 'mirror.git');
  execFileSync('git', ['clone', '--quiet', '--mirror', repo.path, mirror]);
  const store = new Store(path.join(dataDir, 'slipway.db'));
  t.after(() => store.close());
  store.createApp({ name: 'hello', repo: repo.path, branch: 'main', createdAt: 0, createdBy: 'test' });
  const run: Run = {
    id: 'hello-1', app: 'hello', number: 1, commit: repo.head(), branch: 'main', author: null, message: null,
    trigger: 'manual', state: 'queued', error: null, artifact: null, queuedAt: 0, startedAt: null, finishedAt: null,
  };
  store.insertRun(run);
  const deps = {
    store, clock: systemClock, artifacts: new ArtifactStore(dataDir), workRoot: path.join(dataDir, 'work'), dataDir,
    mirrorOf: () => mirror, publishLog: () => {},
  };
  return { store, run, deps };
}

test('execute: a run without command steps still packs and succeeds', async (t) => {
  const { store, run, deps } = setUp(t);
  const artifact = await executeRun(deps, run, {});
  assert.ok(artifact);
  assert.equal(store.getRun(run.id)!.state, 'succeeded');
});

test('execute: a cancel between steps ends the run cancelled, with no artifact', async (t) => {
  const { store, run, deps } = setUp(t);
  const handle: RunControl = { cancelled: true };
  assert.equal(await executeRun(deps, run, handle), undefined);
  const after = store.getRun(run.id)!;
  assert.deepEqual({ state: after.state, artifact: after.artifact }, { state: 'cancelled', artifact: null });
  assert.deepEqual(store.listSteps(run.id).map((s) => [s.phase, s.state]), [['checkout', 'succeeded'], ['spec', 'cancelled']]);
});

test('execute: a shutdown between steps leaves the run running, to start over next time', async (t) => {
  const { store, run, deps } = setUp(t);
  assert.equal(await executeRun(deps, run, { shutdown: true }), undefined);
  assert.equal(store.getRun(run.id)!.state, 'running');
});

test('execute: every line of a step that prints many at once is stored, in order', async (t) => {
  const { store, run, deps } = setUp(t, 'seq 1 20000');
  assert.ok(await executeRun(deps, run, {}));
  const step = store.listSteps(run.id).find((s) => s.command === 'seq 1 20000')!;
  const lines = store.readLog(run.id, -1, step.idx).filter((l) => l.stream === 'stdout').map((l) => l.line);
  assert.equal(lines.length, 20_000);
  assert.ok(lines.every((line, i) => line === String(i + 1)));
});
