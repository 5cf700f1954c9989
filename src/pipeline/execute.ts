import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Clock } from '../core/clock.ts';
import { SlipwayError } from '../core/errors.ts';
import { SLIPWAY_VERSION } from '../core/version.ts';
import { ArtifactStore, MANIFEST_FILE } from '../artifact/store.ts';
import { parseSpec } from '../spec/parse.ts';
import type { AppSpec, StepSpec } from '../spec/types.ts';
import type { Store } from '../store/store.ts';
import type { Artifact, LogLine, Run, RunStep } from '../store/types.ts';
import { checkout } from './git.ts';
import { runStep, type StepProcess } from './process.ts';

export interface ExecuteDeps {
  store: Store;
  clock: Clock;
  artifacts: ArtifactStore;
  workRoot: string;
  dataDir: string;
  mirrorOf: (app: string) => string;
  publishLog: (runId: string, line: LogLine) => void;
}

class RunFailed extends Error {}

/**
 * One run, start to end: checkout → spec → build → test → artifact. Steps are recorded as they
 * go; the first failure stops the run and leaves no artifact.
 */
export interface RunControl {
  current?: StepProcess;
  cancelled?: boolean;
  /** The control plane is stopping: leave the run "running" so the next start runs it again. */
  shutdown?: boolean;
}

export async function executeRun(deps: ExecuteDeps, run: Run, handle: RunControl): Promise<Artifact | undefined> {
  const { store, clock } = deps;
  const ws = path.join(deps.workRoot, run.id);
  let seq = (store.readLog(run.id).at(-1)?.seq ?? -1) + 1;
  let steps: RunStep[] = [];
  // Lines are stored in one transaction per event-loop turn, not one each: a step printing
  // 100,000 lines at once would otherwise hold the loop (which the router shares) for seconds.
  let unstored: LogLine[] = [];
  const storeLines = () => {
    if (unstored.length) store.appendLog(run.id, unstored);
    unstored = [];
  };
  const log = (step: number, stream: LogLine['stream'], line: string) => {
    const entry: LogLine = { seq: seq++, step, ts: clock.now(), stream, line };
    if (unstored.push(entry) === 1) setImmediate(storeLines);
    deps.publishLog(run.id, entry);
  };
  const addSteps = (more: { name: string; phase: string; command: string | null }[]) => {
    const added = more.map((s, n) => ({ runId: run.id, idx: steps.length + n, ...s, state: 'pending' as const, exitCode: null, error: null, startedAt: null, finishedAt: null }));
    store.insertSteps(added);
    steps = steps.concat(added);
  };
  const begin = (idx: number) => store.updateStep(run.id, idx, { state: 'running', startedAt: clock.now() });
  const end = (idx: number, ok: boolean, extra: Partial<RunStep> = {}) => {
    storeLines(); // a step's lines are in before its outcome
    store.updateStep(run.id, idx, { state: ok ? 'succeeded' : 'failed', finishedAt: clock.now(), ...extra });
    if (!ok) throw new RunFailed(extra.error ?? `step "${steps[idx].name}" failed`);
  };
  /** A cancel or a shutdown takes effect between any two steps, not only before commands. */
  const goOn = () => {
    if (handle.cancelled) throw new RunFailed('cancelled');
    if (handle.shutdown) throw new RunFailed('the control plane is stopping');
  };

  store.updateRun(run.id, { state: 'running', startedAt: clock.now() });
  rmSync(ws, { recursive: true, force: true });
  mkdirSync(ws, { recursive: true });
  try {
    addSteps([{ name: 'checkout', phase: 'checkout', command: null }, { name: 'spec', phase: 'spec', command: null }]);
    begin(0);
    try {
      await checkout(deps.mirrorOf(run.app), run.commit, ws);
      log(0, 'system', `checked out ${run.commit} (${run.branch})`);
      end(0, true);
    } catch (err) {
      if (err instanceof RunFailed) throw err;
      log(0, 'system', (err as Error).message);
      end(0, false, { error: (err as Error).message });
    }

    goOn();
    begin(1);
    const spec = readSpec(ws, run.app, (line) => log(1, 'system', line));
    if (!spec) end(1, false, { error: 'slipway.yaml is invalid' });
    log(1, 'system', `slipway.yaml ok: ${spec!.build.length} build, ${spec!.test.length} test steps, environments ${spec!.environments.map((e) => e.name).join(' → ')}`);
    end(1, true);

    const commands: [StepSpec, string][] = [...spec!.build.map((s) => [s, 'build'] as [StepSpec, string]), ...spec!.test.map((s) => [s, 'test'] as [StepSpec, string])];
    const firstCommand = steps.length;
    addSteps([...commands.map(([s, phase]) => ({ name: s.name, phase, command: s.run })), { name: 'artifact', phase: 'artifact', command: null }]);
    const env = stepEnv(run, deps.dataDir);
    for (const [n, [step]] of commands.entries()) {
      const idx = firstCommand + n;
      goOn();
      begin(idx);
      const proc = runStep(step.run, { cwd: ws, env, timeoutMs: step.timeoutMs, onLine: (stream, line) => log(idx, stream, line) });
      handle.current = proc;
      const outcome = await proc.done;
      handle.current = undefined;
      const error = outcome.cancelled ? 'cancelled'
        : outcome.timedOut ? `timed out after ${Math.round(step.timeoutMs / 1000)}s`
        : outcome.code !== 0 ? `exited with ${outcome.code ?? outcome.signal}` : undefined;
      if (error) log(idx, 'system', `step "${step.name}" ${error}`);
      end(idx, !error, { exitCode: outcome.code, error: error ?? null, ...(outcome.cancelled ? { state: 'cancelled' as const } : {}) });
    }

    const artifactIdx = steps.length - 1;
    goOn();
    begin(artifactIdx);
    const artifact = await pack(deps, run, spec!, ws, (line) => log(artifactIdx, 'system', line)).catch((err: Error) => {
      log(artifactIdx, 'system', err.message);
      end(artifactIdx, false, { error: err.message });
    });
    // Cancelled while packing: the bundle stays in the store (content-addressed, harmless), but
    // the run does not succeed, so nothing deploys it.
    goOn();
    end(artifactIdx, true);
    store.updateRun(run.id, { state: 'succeeded', artifact: artifact!.digest, finishedAt: clock.now() });
    return artifact!;
  } catch (err) {
    storeLines();
    if (handle.shutdown) return undefined;
    const message = err instanceof RunFailed ? err.message : `internal error: ${(err as Error).message}`;
    const cancelled = handle.cancelled === true;
    for (const s of store.listSteps(run.id)) if (s.state === 'pending' || s.state === 'running') store.updateStep(run.id, s.idx, { state: cancelled ? 'cancelled' : 'skipped', finishedAt: clock.now() });
    store.updateRun(run.id, { state: cancelled ? 'cancelled' : 'failed', error: message, finishedAt: clock.now() });
    return undefined;
  } finally {
    rmSync(ws, { recursive: true, force: true });
  }
}

function readSpec(ws: string, app: string, log: (line: string) => void): AppSpec | undefined {
  const file = path.join(ws, 'slipway.yaml');
  if (!existsSync(file)) {
    log('slipway.yaml: not found at the repository root; add one (see examples/hello/slipway.yaml)');
    return undefined;
  }
  try {
    const spec = parseSpec(readFileSync(file, 'utf8'), 'slipway.yaml');
    if (spec.app !== app) {
      log(`slipway.yaml: app is "${spec.app}" but this repository is registered as "${app}"; renaming an app is not supported, keep "app: ${app}"`);
      return undefined;
    }
    return spec;
  } catch (err) {
    if (!(err instanceof SlipwayError)) throw err;
    log(err.message);
    if (err.hint) log(`hint: ${err.hint}`);
    return undefined;
  }
}

/**
 * Steps see a clean environment: nothing of the server's leaks in, secrets included.
 * SLIPWAY_HOME marks the process as this server's, so a restart finds and kills steps orphaned
 * by a crash of the control plane.
 */
function stepEnv(run: Run, dataDir: string): Record<string, string> {
  return {
    SLIPWAY_HOME: dataDir,
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? '/',
    CI: 'true',
    SLIPWAY_COMMIT: run.commit,
    SLIPWAY_BRANCH: run.branch,
    SLIPWAY_RUN: run.id,
  };
}

async function pack(deps: ExecuteDeps, run: Run, spec: AppSpec, ws: string, log: (line: string) => void): Promise<Artifact> {
  const include = spec.artifact.include ?? readdirSync(ws).filter((e) => e !== MANIFEST_FILE);
  const missing = include.filter((p) => !existsSync(path.join(ws, p)));
  if (missing.length) throw new Error(`artifact.include names paths the build did not produce: ${missing.join(', ')}`);
  const version = `v${run.number}`;
  const manifest = {
    app: run.app, version, commit: run.commit, branch: run.branch, run: run.id, author: run.author,
    created: new Date(deps.clock.now()).toISOString(), slipway: SLIPWAY_VERSION, node: process.version,
    include, spec: readFileSync(path.join(ws, 'slipway.yaml'), 'utf8'),
  };
  writeFileSync(path.join(ws, MANIFEST_FILE), JSON.stringify(manifest, null, 2));
  const { digest, size } = await deps.artifacts.pack(ws, [...include, MANIFEST_FILE]);
  const artifact: Artifact = { digest, app: run.app, version, runId: run.id, commit: run.commit, size, manifest, createdAt: deps.clock.now() };
  deps.store.insertArtifact(artifact);
  log(`artifact ${digest} (${(size / 1024).toFixed(1)} KiB) ${version}`);
  return artifact;
}
