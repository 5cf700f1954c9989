import type { StrategySpec } from '../spec/types.ts';

// Records as the store hands them out (camelCase, times in epoch ms).
export interface App {
  name: string;
  repo: string;
  branch: string;
  lastSeenCommit: string | null;
  createdAt: number;
  createdBy: string;
}

export type RunState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface Run {
  id: string;
  app: string;
  number: number;
  commit: string;
  branch: string;
  author: string | null;
  message: string | null;
  trigger: string;
  state: RunState;
  error: string | null;
  artifact: string | null;
  queuedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export type StepState = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';

export interface RunStep {
  runId: string;
  idx: number;
  name: string;
  phase: string;
  command: string | null;
  state: StepState;
  exitCode: number | null;
  error: string | null;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface LogLine {
  seq: number;
  step: number;
  ts: number;
  stream: 'stdout' | 'stderr' | 'system';
  line: string;
}

export interface Artifact {
  digest: string;
  app: string;
  version: string;
  runId: string;
  commit: string;
  size: number;
  manifest: Record<string, unknown>;
  createdAt: number;
}

export interface Release {
  id: string;
  app: string;
  env: string;
  version: string;
  artifact: string;
  config: ReleaseConfig;
  configDigest: string;
  createdAt: number;
}

/** What an instance of a release needs to run: frozen into the release so a rollback reuses it exactly. */
export interface ReleaseConfig {
  command: string;
  instances: number;
  env: Record<string, string>;
  health: { path: string; intervalMs: number; timeoutMs: number; deadlineMs: number };
  drainTimeoutMs: number;
  stopGraceMs: number;
  /** Prometheus endpoint to scrape on every instance; absent in releases made before it existed. */
  metrics?: { path: string; intervalMs: number } | null;
}

/**
 * pending → progressing → (probation →) committed; or → rolling_back → failed / rolled_back /
 * aborted. `paused` holds everything where it is (a person, or an inconclusive analysis).
 */
export type DeploymentState = 'pending' | 'progressing' | 'paused' | 'probation' | 'rolling_back' | 'committed' | 'failed' | 'rolled_back' | 'aborted';
export type DeploymentEnding = 'failed' | 'rolled_back' | 'aborted';

export interface Deployment {
  id: string;
  app: string;
  env: string;
  number: number;
  fromRelease: string | null;
  toRelease: string;
  strategy: StrategySpec;
  state: DeploymentState;
  reason: string | null;
  trigger: string;
  createdBy: string;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Percent of traffic on the new release (canary and blue/green). */
  weight: number;
  /** Canary: index into steps; steps.length means the full rollout. */
  step: number;
  stepStartedAt: number | null;
  probationUntil: number | null;
  /** What a resume returns to; `step_end`: a canary step was over, so resume moves to the next. */
  pausedFrom: DeploymentState | 'step_end' | null;
  /** While rolling back: the terminal state to reach. */
  ending: DeploymentEnding | null;
}

export interface VerdictRecord {
  id: number;
  deployment: string;
  step: number;
  weight: number;
  ts: number;
  outcome: 'Successful' | 'Failed' | 'Inconclusive';
  score: number;
  canaryCount: number;
  baselineCount: number;
  summary: string;
  metrics: unknown[];
}

export type InstanceState = 'starting' | 'running' | 'draining' | 'stopping' | 'stopped' | 'crashed' | 'failed';

export interface Instance {
  id: string;
  app: string;
  env: string;
  releaseId: string;
  version: string;
  /** `baseline`: a fresh copy of the old release started beside a canary, for a like-for-like comparison. */
  role: 'main' | 'baseline';
  port: number;
  pid: number | null;
  state: InstanceState;
  healthy: boolean;
  routed: boolean;
  restarts: number;
  createdAt: number;
  startedAt: number | null;
  healthyAt: number | null;
  drainStartedAt: number | null;
  stoppedAt: number | null;
  lastError: string | null;
}

export interface EnvironmentRecord {
  app: string;
  name: string;
  position: number;
  currentRelease: string | null;
  deployedAt: number | null;
  /** Set by a rollback: deployments from the pipeline wait until `slipway resume`. */
  autoPaused: boolean;
}

export interface Gate {
  id: number;
  app: string;
  env: string;
  artifact: string;
  state: 'waiting' | 'approved' | 'superseded';
  createdAt: number;
  decidedBy: string | null;
  decidedAt: number | null;
}

export interface OpEvent {
  seq: number;
  ts: number;
  app: string | null;
  env: string | null;
  deployment: string | null;
  instance: string | null;
  kind: string;
  actor: string;
  before: unknown;
  after: unknown;
  message: string | null;
}
