import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { exampleRepo, type TestRepo } from '../helpers/repo.ts';
import { processesOf, startServer, type TestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/wait.ts';

/** Replaces the build and test steps of the example's slipway.yaml and commits. */
function withSteps(repo: TestRepo, build: string[], test: string[] = [], message = 'steps'): string {
  const spec = readFileSync(path.join(repo.path, 'slipway.yaml'), 'utf8');
  const list = (items: string[]) => (items.length ? items.map((s) => `\n  - ${s}`).join('') : ' []');
  const next = spec.replace(/build:[\s\S]*?(?=artifact:)/, `build:${list(build)}\ntest:${list(test)}\n`);
  return repo.commit({ 'slipway.yaml': next }, message);
}

async function runFor(s: TestServer, commit: string, states = ['succeeded', 'failed', 'cancelled']) {
  return waitFor(async () => {
    const run = (await s.json('runs', 'hello')).find((r: any) => r.commit === commit);
    return run && states.includes(run.state) ? run : undefined;
  }, 30_000, `a run of ${commit.slice(0, 8)} in state ${states.join('/')}`);
}

test('pipeline: live logs, failing step details, timeouts, cancel, triggers', { timeout: 180_000 }, async (t) => {
  const s = await startServer(t, { pollInterval: '200ms' });
  const repo = exampleRepo(t, 'hello');
  assert.equal((await s.cli('app', 'create', repo.path)).code, 0);
  await runFor(s, repo.head());

  // Live output: `run logs -f` prints lines while the step still runs, then the outcome.
  // Long enough that the CLI's own start-up (a second on a loaded machine) leaves ticks to follow.
  const ticking = withSteps(repo, ['"for i in 1 2 3 4 5 6; do echo tick $i; sleep 0.5; done"'], [], 'ticking');
  const running = await runFor(s, ticking, ['running']);
  const follow = spawn(process.execPath, [path.resolve(import.meta.dirname, '../../src/cli/main.ts'), 'run', 'logs', running.id, '-f'], {
    env: { ...process.env, SLIPWAY_URL: s.apiUrl, SLIPWAY_TOKEN: s.token },
  });
  let followed = '';
  let firstTickAt = 0;
  follow.stdout.on('data', (d) => { followed += d; if (!firstTickAt && followed.includes('tick')) firstTickAt = Date.now(); });
  const code = await new Promise((resolve) => follow.on('close', resolve));
  const endedAt = Date.now();
  assert.equal(code, 0);
  assert.match(followed, /tick 1[\s\S]*tick 2[\s\S]*tick 3[\s\S]*tick 4[\s\S]*tick 5[\s\S]*tick 6[\s\S]*-- run hello-\d+ succeeded/);
  assert.ok(endedAt - firstTickAt > 400, 'lines arrived while the step was still running');

  // A failing step: red run, no artifact, and `slipway run` shows which step and its last lines.
  const failing = withSteps(repo, ['echo building'], ['"echo about to fail; echo the reason it failed >&2; exit 3"'], 'failing test');
  const red = await runFor(s, failing);
  assert.equal(red.state, 'failed');
  assert.equal(red.artifact, null);
  const shown = await s.cli('run', red.id);
  assert.match(shown.stdout, /step "echo about to fail; echo the reason it…" failed: exited with 3/);
  assert.match(shown.stdout, /\| the reason it failed/);
  const detail = await s.json('run', red.id);
  assert.equal(detail.steps.find((st: any) => st.phase === 'test').exitCode, 3);
  assert.equal(detail.steps.find((st: any) => st.phase === 'artifact').state, 'skipped');

  // Step timeouts.
  const slow = withSteps(repo, ['{name: slow, run: "sleep 30", timeout: 1s}'], [], 'slow');
  const timedOut = await runFor(s, slow);
  assert.equal(timedOut.state, 'failed');
  assert.match(timedOut.error, /timed out after 1s/);

  // Cancel a running run: the step's process goes away too.
  const long = withSteps(repo, ['"sleep 45"'], [], 'long');
  const longRun = await runFor(s, long, ['running']);
  await waitFor(async () => (await s.json('run', longRun.id)).steps.some((st: any) => st.name === 'sleep 45' && st.state === 'running'), 10_000, 'the step to start');
  const cancel = await s.cli('run', 'cancel', longRun.id);
  assert.equal(cancel.code, 0, cancel.stderr);
  const cancelled = await runFor(s, long);
  assert.equal(cancelled.state, 'cancelled');
  await waitFor(() => processesOf(s.dataDir).every((pid) => !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('sleep')), 10_000, 'the cancelled step to exit');

  // Triggers: one run per commit unless forced; --ref runs an older commit; the git hook queues too.
  const same = await s.cli('trigger', 'hello');
  assert.equal(same.code, 0);
  assert.match(same.stdout, /already has run/);
  const forced = await s.json('trigger', 'hello', '--force');
  assert.equal(forced.created, true);
  const older = await s.json('trigger', 'hello', '--ref', failing);
  assert.equal(older.run.commit, failing);
  const hook = await fetch(`${s.apiUrl}/api/v1/apps/hello/hooks/git`, { method: 'POST', headers: { authorization: `Bearer ${s.token}` } });
  assert.equal(hook.status, 200, 'the head already has a run: the hook finds it');
  assert.equal((await hook.json()).created, false);
  // The forced run of the 45-second commit goes, so later runs do not queue behind it.
  assert.equal((await s.cli('run', 'cancel', forced.run.id)).code, 0);

  // Hooks arriving together (and the poll racing them) queue one run for a new commit, and none
  // fails: fetches into the app's mirror take turns.
  const concurrent = withSteps(repo, ['echo concurrent'], [], 'concurrent');
  const answers = await Promise.all(Array.from({ length: 6 }, () => fetch(`${s.apiUrl}/api/v1/apps/hello/hooks/git`, { method: 'POST', headers: { authorization: `Bearer ${s.token}` } }).then((r) => r.json())));
  assert.ok(answers.filter((a) => a.created).length <= 1, 'at most one hook created the run');
  assert.equal(new Set(answers.map((a) => a.run.id)).size, 1, 'every hook was answered with the same run');
  await runFor(s, concurrent);
  assert.equal((await s.json('runs', 'hello')).filter((r: any) => r.commit === concurrent).length, 1, 'one run for the commit');

  // Refs: another branch is recorded as that branch; a tag and `refs/heads/…` resolve; an unknown
  // ref is a 404 that says so.
  const gitIn = (...args: string[]) => execFileSync('git', args, { cwd: repo.path, encoding: 'utf8' });
  gitIn('branch', 'feature', ticking);
  gitIn('tag', 'v1.0', failing);
  const onFeature = await s.json('trigger', 'hello', '--ref', 'feature', '--force');
  assert.deepEqual([onFeature.run.commit, onFeature.run.branch], [ticking, 'feature']);
  assert.equal((await s.json('trigger', 'hello', '--ref', 'v1.0')).run.commit, failing);
  const unknownRef = await s.cli('trigger', 'hello', '--ref', 'no-such-ref');
  assert.equal(unknownRef.code, 1);
  assert.match(unknownRef.stderr, /"no-such-ref" is not a branch, tag or commit of the repository/);
  const fullRef = await fetch(`${s.apiUrl}/api/v1/apps/hello/hooks/git`, { method: 'POST', headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ ref: 'refs/heads/main' }) });
  assert.equal(fullRef.status, 200, 'refs/heads/main is the branch main');
  await runFor(s, ticking);

  // A repository that stops answering is reported once, however many polls fail, with git's own
  // reason; when it is back, polling picks up its new commits again.
  const pollFailures = async () => {
    const res = await fetch(`${s.apiUrl}/api/v1/events?app=hello`, { headers: { authorization: `Bearer ${s.token}` } });
    return ((await res.json()).events as any[]).filter((e) => e.kind === 'app.poll_failed');
  };
  renameSync(repo.path, `${repo.path}.away`);
  const failures = await waitFor(async () => { const f = await pollFailures(); return f.length ? f : undefined; }, 10_000, 'a poll failure event');
  assert.match(failures[0].message, /cannot read git repository ".*": .*does not appear to be a git repository/);
  await new Promise((r) => setTimeout(r, 1_000)); // about five more polls at 200 ms
  assert.equal((await pollFailures()).length, 1, 'the same failure is not reported again');
  renameSync(`${repo.path}.away`, repo.path);
  const back = withSteps(repo, ['echo back'], [], 'back');
  assert.equal((await runFor(s, back)).state, 'succeeded');
});

test('pipeline: a run interrupted by a control-plane crash runs again after restart, leaving no stray step', { timeout: 120_000 }, async (t) => {
  const s = await startServer(t, { pollInterval: '200ms' });
  const repo = exampleRepo(t, 'hello');
  withSteps(repo, [`"sleep 5; echo built"`], [], "slow build");
  assert.equal((await s.cli('app', 'create', repo.path)).code, 0);
  await waitFor(async () => (await s.json('run', 'hello-1')).steps.some((st: any) => st.name.startsWith('sleep 5') && st.state === 'running'), 20_000, 'the build step to run');
  await s.restart('SIGKILL');
  const run = await waitFor(async () => {
    const r = await s.json('run', 'hello-1');
    return r.state === 'succeeded' ? r : undefined;
  }, 30_000, 'the interrupted run to finish after the restart');
  assert.match((await s.cli('run', 'logs', 'hello-1')).stdout, /built/);
  assert.ok(run.artifact);
  await waitFor(() => processesOf(s.dataDir).every((pid) => !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('sleep')), 10_000, 'no step process left over');
});
