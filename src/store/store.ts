import type { StatementSync } from 'node:sqlite';
import { openDb, transaction, type Db, type Row } from './db.ts';
import { fromRow, setClause, toSql } from './rows.ts';
import type {
  App, Artifact, Deployment, EnvironmentRecord, Gate, Instance, LogLine, OpEvent, Release, Run, RunStep, VerdictRecord,
} from './types.ts';

const RUN = { rename: { commit_sha: 'commit' } };
const RUN_RENAME = { commit: 'commit_sha' };
const ARTIFACT = { json: ['manifest'], rename: { commit_sha: 'commit' } };
const INSTANCE = { bool: ['healthy', 'routed'] };
const DEPLOYMENT = { json: ['strategy'] };
const ENVIRONMENT = { bool: ['auto_paused'] };

/**
 * The control plane's state behind one object. Today node:sqlite; the methods are the seam a
 * PostgreSQL implementation would fill. Calls are synchronous because node:sqlite is.
 */
export class Store {
  readonly db: Db;
  /** Compiled statements by SQL text: compiling costs more than running most of these queries. */
  private readonly statements = new Map<string, StatementSync>();

  constructor(file: string) {
    this.db = openDb(file);
  }

  private prepare(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  close(): void {
    this.db.close();
  }

  tx<T>(fn: () => T): T {
    return transaction(this.db, fn);
  }

  private all<T>(sql: string, params: (string | number | null)[], opts?: Parameters<typeof fromRow>[1]): T[] {
    return (this.prepare(sql).all(...params) as Row[]).map((r) => fromRow<T>(r, opts)!);
  }

  private one<T>(sql: string, params: (string | number | null)[], opts?: Parameters<typeof fromRow>[1]): T | undefined {
    return fromRow<T>(this.prepare(sql).get(...params) as Row | undefined, opts);
  }

  private run(sql: string, ...params: (string | number | null)[]): void {
    this.prepare(sql).run(...params);
  }

  // ── apps ──
  createApp(app: Omit<App, 'lastSeenCommit'>): void {
    this.run('INSERT INTO apps (name, repo, branch, created_at, created_by) VALUES (?, ?, ?, ?, ?)', app.name, app.repo, app.branch, app.createdAt, app.createdBy);
  }
  getApp(name: string): App | undefined {
    return this.one<App>('SELECT name, repo, branch, last_seen_commit, created_at, created_by FROM apps WHERE name = ?', [name]);
  }
  listApps(): App[] {
    return this.all<App>('SELECT name, repo, branch, last_seen_commit, created_at, created_by FROM apps ORDER BY name', []);
  }
  setLastSeenCommit(app: string, commit: string): void {
    this.run('UPDATE apps SET last_seen_commit = ? WHERE name = ?', commit, app);
  }
  nextRunNumber(app: string): number {
    this.run('UPDATE apps SET run_counter = run_counter + 1 WHERE name = ?', app);
    return (this.prepare('SELECT run_counter FROM apps WHERE name = ?').get(app) as { run_counter: number }).run_counter;
  }

  // ── runs ──
  insertRun(run: Run): void {
    this.run(
      'INSERT INTO runs (id, app, number, commit_sha, branch, author, message, trigger, state, error, artifact, queued_at, started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      run.id, run.app, run.number, run.commit, run.branch, run.author, run.message, run.trigger, run.state, run.error, run.artifact, run.queuedAt, run.startedAt, run.finishedAt,
    );
  }
  updateRun(id: string, patch: Partial<Run>): void {
    const { sql, values } = setClause(patch, RUN_RENAME);
    if (sql) this.run(`UPDATE runs SET ${sql} WHERE id = ?`, ...values, id);
  }
  getRun(id: string): Run | undefined {
    return this.one<Run>('SELECT * FROM runs WHERE id = ?', [id], RUN);
  }
  listRuns(app: string, limit = 50): Run[] {
    return this.all<Run>('SELECT * FROM runs WHERE app = ? ORDER BY number DESC LIMIT ?', [app, limit], RUN);
  }
  runsInState(...states: string[]): Run[] {
    return this.all<Run>(`SELECT * FROM runs WHERE state IN (${states.map(() => '?').join(',')}) ORDER BY queued_at`, states, RUN);
  }
  findRunForCommit(app: string, commit: string): Run | undefined {
    return this.one<Run>('SELECT * FROM runs WHERE app = ? AND commit_sha = ? ORDER BY number DESC LIMIT 1', [app, commit], RUN);
  }

  /** Forgets the steps and output of an attempt that a restart interrupted, before it runs again. */
  resetRun(id: string): void {
    this.tx(() => {
      this.run('DELETE FROM run_steps WHERE run_id = ?', id);
      this.run('DELETE FROM run_log WHERE run_id = ?', id);
      this.run("UPDATE runs SET state = 'queued', started_at = NULL, error = NULL WHERE id = ?", id);
    });
  }

  // ── run steps and their output ──
  insertSteps(steps: RunStep[]): void {
    const stmt = this.prepare('INSERT INTO run_steps (run_id, idx, name, phase, command, state) VALUES (?, ?, ?, ?, ?, ?)');
    for (const s of steps) stmt.run(s.runId, s.idx, s.name, s.phase, s.command, s.state);
  }
  updateStep(runId: string, idx: number, patch: Partial<RunStep>): void {
    const { sql, values } = setClause(patch);
    if (sql) this.run(`UPDATE run_steps SET ${sql} WHERE run_id = ? AND idx = ?`, ...values, runId, idx);
  }
  listSteps(runId: string): RunStep[] {
    return this.all<RunStep>('SELECT * FROM run_steps WHERE run_id = ? ORDER BY idx', [runId]);
  }
  appendLog(runId: string, lines: LogLine[]): void {
    const stmt = this.prepare('INSERT INTO run_log (run_id, seq, step, ts, stream, line) VALUES (?, ?, ?, ?, ?, ?)');
    this.tx(() => { for (const l of lines) stmt.run(runId, l.seq, l.step, l.ts, l.stream, l.line); });
  }
  readLog(runId: string, afterSeq = -1, step?: number): LogLine[] {
    if (step === undefined) return this.all<LogLine>('SELECT seq, step, ts, stream, line FROM run_log WHERE run_id = ? AND seq > ? ORDER BY seq', [runId, afterSeq]);
    return this.all<LogLine>('SELECT seq, step, ts, stream, line FROM run_log WHERE run_id = ? AND seq > ? AND step = ? ORDER BY seq', [runId, afterSeq, step]);
  }
  tailLog(runId: string, step: number, lines: number): LogLine[] {
    return this.all<LogLine>('SELECT seq, step, ts, stream, line FROM run_log WHERE run_id = ? AND step = ? ORDER BY seq DESC LIMIT ?', [runId, step, lines]).reverse();
  }

  // ── artifacts and releases ──
  insertArtifact(a: Artifact): void {
    this.run('INSERT OR IGNORE INTO artifacts (digest, app, version, run_id, commit_sha, size, manifest, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      a.digest, a.app, a.version, a.runId, a.commit, a.size, JSON.stringify(a.manifest), a.createdAt);
  }
  getArtifact(digest: string): Artifact | undefined {
    return this.one<Artifact>('SELECT * FROM artifacts WHERE digest = ?', [digest], ARTIFACT);
  }
  listArtifacts(app: string): Artifact[] {
    return this.all<Artifact>('SELECT * FROM artifacts WHERE app = ? ORDER BY created_at DESC', [app], ARTIFACT);
  }
  insertRelease(r: Release): void {
    this.run('INSERT INTO releases (id, app, env, version, artifact, config, config_digest, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      r.id, r.app, r.env, r.version, r.artifact, JSON.stringify(r.config), r.configDigest, r.createdAt);
  }
  getRelease(id: string): Release | undefined {
    return this.one<Release>('SELECT * FROM releases WHERE id = ?', [id], { json: ['config'] });
  }
  /** Whether a deployment of this artifact ever committed in the environment. */
  committedWithArtifact(app: string, env: string, digest: string): boolean {
    return this.prepare(`SELECT 1 FROM deployments d JOIN releases r ON r.id = d.to_release
      WHERE d.app = ? AND d.env = ? AND d.state = 'committed' AND r.artifact = ? LIMIT 1`).get(app, env, digest) !== undefined;
  }
  /** Whether an artifact ever became a release or waited at a gate. */
  artifactWasPromoted(digest: string): boolean {
    return this.prepare('SELECT 1 FROM releases WHERE artifact = ? UNION ALL SELECT 1 FROM gates WHERE artifact = ? LIMIT 1').get(digest, digest) !== undefined;
  }
  countReleases(app: string, env: string): number {
    return (this.prepare('SELECT count(*) AS n FROM releases WHERE app = ? AND env = ?').get(app, env) as { n: number }).n;
  }

  // ── environments and gates ──
  syncEnvironments(app: string, names: string[]): void {
    names.forEach((name, position) =>
      this.run('INSERT INTO environments (app, name, position) VALUES (?, ?, ?) ON CONFLICT (app, name) DO UPDATE SET position = excluded.position', app, name, position));
  }
  listEnvironments(app: string): EnvironmentRecord[] {
    return this.all<EnvironmentRecord>('SELECT * FROM environments WHERE app = ? ORDER BY position', [app], ENVIRONMENT);
  }
  getEnvironment(app: string, name: string): EnvironmentRecord | undefined {
    return this.one<EnvironmentRecord>('SELECT * FROM environments WHERE app = ? AND name = ?', [app, name], ENVIRONMENT);
  }
  setCurrentRelease(app: string, env: string, releaseId: string, at: number): void {
    this.run('UPDATE environments SET current_release = ?, deployed_at = ? WHERE app = ? AND name = ?', releaseId, at, app, env);
  }
  setAutoPaused(app: string, env: string, paused: boolean): void {
    this.run('UPDATE environments SET auto_paused = ? WHERE app = ? AND name = ?', paused ? 1 : 0, app, env);
  }
  openGate(app: string, env: string, artifact: string, at: number): void {
    this.run("UPDATE gates SET state = 'superseded' WHERE app = ? AND env = ? AND state = 'waiting'", app, env);
    this.run("INSERT INTO gates (app, env, artifact, state, created_at) VALUES (?, ?, ?, 'waiting', ?)", app, env, artifact, at);
  }
  waitingGate(app: string, env: string): Gate | undefined {
    return this.one<Gate>("SELECT * FROM gates WHERE app = ? AND env = ? AND state = 'waiting' ORDER BY id DESC LIMIT 1", [app, env]);
  }
  decideGate(id: number, by: string, at: number): void {
    this.run("UPDATE gates SET state = 'approved', decided_by = ?, decided_at = ? WHERE id = ?", by, at, id);
  }

  // ── deployments ──
  insertDeployment(d: Deployment): void {
    this.run('INSERT INTO deployments (id, app, env, number, from_release, to_release, strategy, state, reason, trigger, created_by, created_at, started_at, finished_at, weight, step) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      d.id, d.app, d.env, d.number, d.fromRelease, d.toRelease, JSON.stringify(d.strategy), d.state, d.reason, d.trigger, d.createdBy, d.createdAt, d.startedAt, d.finishedAt, d.weight, d.step);
  }
  updateDeployment(id: string, patch: Partial<Deployment>): void {
    const { sql, values } = setClause(patch);
    if (sql) this.run(`UPDATE deployments SET ${sql} WHERE id = ?`, ...values, id);
  }
  getDeployment(id: string): Deployment | undefined {
    return this.one<Deployment>('SELECT * FROM deployments WHERE id = ?', [id], DEPLOYMENT);
  }
  listDeployments(app: string, env?: string, limit = 50): Deployment[] {
    if (env) return this.all<Deployment>('SELECT * FROM deployments WHERE app = ? AND env = ? ORDER BY number DESC LIMIT ?', [app, env, limit], DEPLOYMENT);
    return this.all<Deployment>('SELECT * FROM deployments WHERE app = ? ORDER BY created_at DESC LIMIT ?', [app, limit], DEPLOYMENT);
  }
  activeDeployments(): Deployment[] {
    return this.all<Deployment>("SELECT * FROM deployments WHERE state IN ('pending', 'progressing', 'paused', 'probation', 'rolling_back') ORDER BY created_at, number", [], DEPLOYMENT);
  }
  /** The deployment moving this environment right now (not one still waiting its turn). */
  inFlightDeployment(app: string, env: string): Deployment | undefined {
    return this.one<Deployment>("SELECT * FROM deployments WHERE app = ? AND env = ? AND state IN ('progressing', 'paused', 'probation', 'rolling_back') ORDER BY number LIMIT 1", [app, env], DEPLOYMENT);
  }
  nextDeploymentNumber(app: string, env: string): number {
    return (this.prepare('SELECT coalesce(max(number), 0) + 1 AS n FROM deployments WHERE app = ? AND env = ?').get(app, env) as { n: number }).n;
  }

  // ── instances ──
  insertInstance(i: Instance): void {
    this.run('INSERT INTO instances (id, app, env, release_id, version, role, port, pid, state, healthy, routed, restarts, created_at, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      i.id, i.app, i.env, i.releaseId, i.version, i.role, i.port, i.pid, i.state, toSql(i.healthy), toSql(i.routed), i.restarts, i.createdAt, i.startedAt);
  }
  updateInstance(id: string, patch: Partial<Instance>): void {
    const { sql, values } = setClause(patch);
    if (sql) this.run(`UPDATE instances SET ${sql} WHERE id = ?`, ...values, id);
  }
  getInstance(id: string): Instance | undefined {
    return this.one<Instance>('SELECT * FROM instances WHERE id = ?', [id], INSTANCE);
  }
  /** Instances that hold (or may hold) a process: everything not yet stopped. */
  liveInstances(app?: string, env?: string): Instance[] {
    const where = ["state NOT IN ('stopped', 'failed')"];
    const params: string[] = [];
    if (app) { where.push('app = ?'); params.push(app); }
    if (env) { where.push('env = ?'); params.push(env); }
    return this.all<Instance>(`SELECT * FROM instances WHERE ${where.join(' AND ')} ORDER BY created_at`, params, INSTANCE);
  }

  // ── analysis verdicts ──
  insertVerdict(v: Omit<VerdictRecord, 'id'>): void {
    this.run('INSERT INTO verdicts (deployment, step, weight, ts, outcome, score, canary_count, baseline_count, summary, metrics) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      v.deployment, v.step, v.weight, v.ts, v.outcome, v.score, v.canaryCount, v.baselineCount, v.summary, JSON.stringify(v.metrics));
  }
  listVerdicts(deployment: string): VerdictRecord[] {
    return this.all<VerdictRecord>('SELECT * FROM verdicts WHERE deployment = ? ORDER BY id', [deployment], { json: ['metrics'] });
  }

  // ── figures for metrics ──
  /** Deployments per (app, env, strategy, state) with their summed duration, for the metrics collector. */
  deploymentFigures(): { app: string; env: string; strategy: string; state: string; count: number; seconds: number }[] {
    return this.prepare(`SELECT app, env, json_extract(strategy, '$.kind') AS strategy, state, count(*) AS count,
      coalesce(sum((finished_at - started_at) / 1000.0), 0) AS seconds FROM deployments GROUP BY app, env, strategy, state`).all() as never;
  }
  runFigures(): { app: string; state: string; count: number; seconds: number; lastSuccess: number | null }[] {
    return this.prepare(`SELECT app, state, count(*) AS count, coalesce(sum((finished_at - started_at) / 1000.0), 0) AS seconds,
      max(CASE WHEN state = 'succeeded' THEN finished_at END) AS lastSuccess FROM runs GROUP BY app, state`).all() as never;
  }

  // ── operation events ──
  recordEvent(e: Omit<OpEvent, 'seq'>): number {
    const result = this.prepare('INSERT INTO events (ts, app, env, deployment, instance, kind, actor, before, after, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(e.ts, e.app, e.env, e.deployment, e.instance, e.kind, e.actor, toSql(e.before), toSql(e.after), e.message);
    return Number(result.lastInsertRowid);
  }
  listEvents(filter: { app?: string; deployment?: string; after?: number; limit?: number }): OpEvent[] {
    const where = ['seq > ?'];
    const params: (string | number)[] = [filter.after ?? 0];
    if (filter.app) { where.push('app = ?'); params.push(filter.app); }
    if (filter.deployment) { where.push('deployment = ?'); params.push(filter.deployment); }
    params.push(filter.limit ?? 500);
    return this.all<OpEvent>(`SELECT * FROM events WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ?`, params, { json: ['before', 'after'] });
  }
}
