import { mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import type { Clock } from '../core/clock.ts';
import { conflict, notFound } from '../core/errors.ts';
import type { EventLog } from '../core/events.ts';
import type { ArtifactStore } from '../artifact/store.ts';
import { parseSpec } from '../spec/parse.ts';
import type { Store } from '../store/store.ts';
import type { App, Artifact, LogLine, Run } from '../store/types.ts';
import { executeRun, type RunControl } from './execute.ts';
import { checkRemote, commitInfo, ensureMirror, fetchRef, git, type Resolved } from './git.ts';
import { localBranchHead } from './local-ref.ts';

const MAX_PARALLEL_RUNS = 2;

export interface PipelineDeps {
  store: Store;
  events: EventLog;
  clock: Clock;
  artifacts: ArtifactStore;
  dataDir: string;
  pollIntervalMs: number;
  onArtifact: (artifact: Artifact) => void;
  /** Every line a step prints, as it prints it (the log store keeps them searchable). */
  onLine?: (run: Run, line: LogLine) => void;
}

/**
 * Triggers (poll, webhook, manual) turn commits into runs; runs queue per app and execute one at
 * a time per app. Live output is published on `logs` as `run:<id>` events.
 */
export class Pipeline {
  readonly logs = new EventEmitter();
  private readonly d: PipelineDeps;
  private readonly active = new Map<string, { runId: string; handle: RunControl; done?: Promise<void> }>();
  private stopped = false;
  private pollTimer: NodeJS.Timeout | undefined;
  /** Apps with a poll under way: the next poll of each waits for its own previous one only. */
  private readonly polling = new Set<string>();
  private readonly pollErrors = new Map<string, string>();
  /** The last fetch into each app's mirror: fetches queue behind it (see fetch()). */
  private readonly fetches = new Map<string, Promise<Resolved>>();

  constructor(deps: PipelineDeps) {
    this.d = deps;
    this.logs.setMaxListeners(0);
    mkdirSync(path.join(deps.dataDir, 'repos'), { recursive: true });
    mkdirSync(path.join(deps.dataDir, 'work'), { recursive: true });
  }

  mirrorOf(app: string): string {
    return path.join(this.d.dataDir, 'repos', `${app}.git`);
  }

  /** Runs interrupted by a control-plane restart go back to the queue; polling starts. */
  start(): void {
    for (const run of this.d.store.runsInState('running')) {
      this.d.store.resetRun(run.id);
      this.d.events.record({ kind: 'run.requeued', app: run.app, message: `run ${run.id} was interrupted by a restart and runs again` });
    }
    this.pump();
    this.pollTimer = setInterval(() => this.pollAll(), this.d.pollIntervalMs);
    this.pollTimer.unref();
  }

  /** Stops polling and interrupts running steps; their runs resume on the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    const running = [...this.active.values()];
    for (const { handle } of running) { handle.shutdown = true; handle.current?.cancel(); }
    await Promise.all(running.map((r) => r.done));
  }

  /** `slipway app create`: the repository must answer, have the branch and a valid slipway.yaml. */
  async createApp(repo: string, branch: string, actor: string): Promise<{ app: App; run: Run }> {
    const head = await checkRemote(repo, branch);
    const tmp = path.join(this.d.dataDir, 'repos', `.new-${process.pid}-${Date.now()}.git`);
    try {
      await ensureMirror(repo, tmp);
      await fetchRef(tmp, branch);
      const shown = await git(['--git-dir', tmp, 'show', `${head}:slipway.yaml`]);
      if (shown.code !== 0) throw conflict('app.no_spec', `branch "${branch}" of ${repo} has no slipway.yaml at the repository root`, 'add one (see examples/hello/slipway.yaml), commit, and run app create again');
      const spec = parseSpec(shown.stdout, 'slipway.yaml');
      if (this.d.store.getApp(spec.app)) throw conflict('app.exists', `an app named "${spec.app}" already exists`, 'app names come from `app:` in slipway.yaml and are unique per server');
      renameSync(tmp, this.mirrorOf(spec.app));
      const app: Omit<App, 'lastSeenCommit'> = { name: spec.app, repo, branch, createdAt: this.d.clock.now(), createdBy: actor };
      this.d.store.createApp(app);
      this.d.store.syncEnvironments(spec.app, spec.environments.map((e) => e.name));
      this.d.store.setLastSeenCommit(spec.app, head);
      this.d.events.record({ kind: 'app.created', app: spec.app, actor, after: { repo, branch } });
      const { run } = await this.enqueue(spec.app, head, 'create', false);
      return { app: { ...app, lastSeenCommit: head }, run };
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }

  /** `slipway trigger` and the git hook: fetch `ref` (default: the app's branch) and queue its commit. */
  async trigger(appName: string, ref: string | undefined, trigger: string, force: boolean): Promise<{ run: Run; created: boolean }> {
    const app = this.requireApp(appName);
    const { commit, branch } = await this.fetch(app.name, ref ?? app.branch);
    if (branch === app.branch) this.d.store.setLastSeenCommit(app.name, commit);
    // A tag or a bare commit is recorded as a run of the app's own branch.
    return this.enqueue(app.name, commit, trigger, !force, branch ?? app.branch);
  }

  cancel(runId: string, actor: string): Run {
    const run = this.d.store.getRun(runId);
    if (!run) throw notFound('run', runId);
    if (run.state !== 'queued' && run.state !== 'running') throw conflict('run.finished', `run ${runId} already ${run.state}`, 'only queued or running runs can be cancelled');
    const active = this.active.get(run.app);
    if (run.state === 'queued') {
      this.d.store.updateRun(runId, { state: 'cancelled', error: `cancelled by ${actor}`, finishedAt: this.d.clock.now() });
    } else if (active?.runId === runId) {
      active.handle.cancelled = true;
      active.handle.current?.cancel();
    }
    this.d.events.record({ kind: 'run.cancelled', app: run.app, actor, message: `run ${runId} cancelled` });
    return this.d.store.getRun(runId)!;
  }

  requireApp(name: string): App {
    const app = this.d.store.getApp(name);
    if (!app) throw notFound('app', name, 'list apps with `slipway apps`');
    return app;
  }

  /**
   * Fetches into an app's mirror one at a time: two git fetches updating the same branch at once
   * make one fail ("cannot lock ref"), and hooks, triggers and the poll can all arrive together.
   */
  private fetch(app: string, ref: string): Promise<Resolved> {
    const previous = this.fetches.get(app);
    const next = (previous ? previous.catch(() => undefined) : Promise.resolve()).then(() => fetchRef(this.mirrorOf(app), ref));
    this.fetches.set(app, next);
    const forget = () => { if (this.fetches.get(app) === next) this.fetches.delete(app); };
    next.then(forget, forget);
    return next;
  }

  /**
   * Queues a run of `commit`; with `once`, not if the commit already has one. That check comes
   * after the last await, so a poll and a hook (or two hooks) arriving together queue one run.
   */
  private async enqueue(app: string, commit: string, trigger: string, once: boolean, branch?: string): Promise<{ run: Run; created: boolean }> {
    const existing = () => (once ? this.d.store.findRunForCommit(app, commit) : undefined);
    const before = existing(); // saves starting `git log` for a commit that has its run
    if (before) return { run: before, created: false };
    const info = await commitInfo(this.mirrorOf(app), commit).catch(() => ({ author: null, message: null }));
    const after = existing();
    if (after) return { run: after, created: false };
    const number = this.d.store.nextRunNumber(app);
    const run: Run = {
      id: `${app}-${number}`, app, number, commit, branch: branch ?? this.d.store.getApp(app)!.branch, author: info.author, message: info.message,
      trigger, state: 'queued', error: null, artifact: null, queuedAt: this.d.clock.now(), startedAt: null, finishedAt: null,
    };
    this.d.store.insertRun(run);
    this.d.events.record({ kind: 'run.queued', app, after: { run: run.id, commit, trigger } });
    this.pump();
    return { run, created: true };
  }

  private pump(): void {
    if (this.stopped) return;
    for (const run of this.d.store.runsInState('queued')) {
      if (this.active.size >= MAX_PARALLEL_RUNS) return;
      if (this.active.has(run.app)) continue;
      const handle: RunControl = {};
      const entry: { runId: string; handle: RunControl; done?: Promise<void> } = { runId: run.id, handle };
      this.active.set(run.app, entry);
      entry.done = this.execute(run, handle);
    }
  }

  private async execute(run: Run, handle: RunControl): Promise<void> {
    try {
      const artifact = await executeRun({
        store: this.d.store, clock: this.d.clock, artifacts: this.d.artifacts, workRoot: path.join(this.d.dataDir, 'work'), dataDir: this.d.dataDir,
        mirrorOf: (app) => this.mirrorOf(app),
        publishLog: (id, line: LogLine) => { this.logs.emit(`run:${id}`, line); this.d.onLine?.(run, line); },
      }, run, handle);
      // Interrupted before an artifact existed: the run is still "running" and starts over next time.
      if (handle.shutdown && !artifact) return;
      const finished = this.d.store.getRun(run.id)!;
      this.d.events.record({ kind: `run.${finished.state}`, app: run.app, after: { run: run.id, commit: run.commit, artifact: finished.artifact }, message: finished.error });
      if (artifact) this.d.onArtifact(artifact);
    } catch (err) {
      console.error(`slipway: run ${run.id} crashed:`, err);
    } finally {
      this.active.delete(run.app);
      this.logs.emit(`run:${run.id}`, null);
      this.pump();
    }
  }

  /** Every app, side by side: a remote slow to answer (up to git's timeout) delays no other app. */
  private pollAll(): void {
    for (const app of this.d.store.listApps()) {
      if (this.stopped || this.polling.has(app.name)) continue;
      this.polling.add(app.name);
      void this.poll(app).finally(() => this.polling.delete(app.name));
    }
  }

  /**
   * Branch heads move → one run per new commit. A repository that stops answering is reported once.
   * Each process the server starts stalls its event loop, which the router shares, for about 1 ms
   * per 35 MB of the server's memory (fork copies its page tables), so a quiet poll starts none
   * for a repository on this machine (its ref files are read) and one `git ls-remote` for any
   * other; only a head that moved is fetched.
   */
  private async poll(app: App): Promise<void> {
    try {
      const remote = (await localBranchHead(app.repo, app.branch)) ?? (await checkRemote(app.repo, app.branch));
      if (remote === app.lastSeenCommit) { this.pollErrors.delete(app.name); return; }
      const { commit: head } = await this.fetch(app.name, app.branch);
      this.pollErrors.delete(app.name);
      if (head === app.lastSeenCommit) return;
      this.d.store.setLastSeenCommit(app.name, head);
      await this.enqueue(app.name, head, 'poll', true);
    } catch (err) {
      const message = (err as Error).message;
      if (this.pollErrors.get(app.name) !== message) {
        this.pollErrors.set(app.name, message);
        this.d.events.record({ kind: 'app.poll_failed', app: app.name, message });
        console.error(`slipway: polling ${app.name} failed: ${message}`);
      }
    }
  }
}
