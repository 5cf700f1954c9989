// The vocabulary of slipway.yaml in one place: allowed keys per level, name rules, limits and
// defaults. Validation, error hints and docs all read from here so they cannot drift apart.

// Allowed keys per mapping, in the order the hints list them (which is also the documented order).
export const KEYS = {
  top: ['app', 'build', 'test', 'artifact', 'service', 'environments', 'alerts'],
  step: ['name', 'run', 'timeout'],
  artifact: ['include'],
  service: ['command', 'instances', 'env', 'drain_timeout', 'stop_grace', 'health', 'metrics'],
  metrics: ['path', 'interval'],
  health: ['path', 'interval', 'timeout', 'deadline'],
  environment: ['approval', 'instances', 'env', 'strategy'],
  rolling: ['max_surge', 'max_unavailable'],
  blueGreen: ['preview', 'probation'],
  canary: ['steps', 'step_duration', 'baseline', 'analysis', 'probation', 'match'],
  analysis: ['metrics', 'confidence', 'tolerance', 'interval', 'min_requests', 'max_error_rate', 'max_latency_p99'],
  headerRule: ['header', 'value'],
} as const;

export const ANALYSIS_METRICS = ['error_rate', 'latency_p50', 'latency_p99'] as const;

// Rollout strategies a user may name under `strategy:`. Adding one means adding its name here
// and a reader in environments.ts (the compiler enforces the second part).
export const STRATEGY_NAMES = ['rolling', 'blue_green', 'canary'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

// App and environment names end up in URLs, hostnames, directory names and process titles,
// hence DNS-label-like rules.
export const NAME_PATTERN = /^[a-z][a-z0-9-]*$/;
export const APP_NAME_MAX = 40;
export const ENV_NAME_MAX = 30;
// Preview environments are created by the platform as "<branch>-preview"; a user-defined one
// with that suffix could collide with them.
export const RESERVED_ENV_SUFFIX = '-preview';

// POSIX-portable variable names; anything else cannot be read reliably from a shell.
export const ENV_VAR_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

// One machine: more than this is almost certainly a typo, and port ranges are finite.
export const MAX_INSTANCES = 100;
// Surge/unavailable count instances, so they are bounded the same way.
export const MAX_ROLLING_STEP = MAX_INSTANCES;

// Derived step names are shown in one-line log headers and the UI; keep them short.
export const STEP_NAME_MAX = 40;

// setTimeout silently fires at once for delays above 2^31-1 ms (~24.8 days), so every duration
// is capped well below that. A day is already far beyond any sane build step or drain.
export const MAX_DURATION_MS = 24 * 3_600_000;

export const DEFAULTS = {
  stepTimeoutMs: 30 * 60_000,
  instances: 1,
  drainTimeoutMs: 30_000,
  stopGraceMs: 10_000,
  healthPath: '/healthz',
  healthIntervalMs: 1_000,
  healthTimeoutMs: 2_000,
  healthDeadlineMs: 60_000,
  metricsIntervalMs: 15_000,
  maxSurge: 1,
  maxUnavailable: 0,
  probationMs: 5 * 60_000,
  stepDurationMs: 60_000,
  confidence: 0.98,
  tolerance: 0.25,
  minRequests: 50,
} as const;

export const NAME_HINT = (max: number, example: string) =>
  `use lowercase letters, digits and "-", starting with a letter, at most ${max} characters (e.g. "${example}")`;
export const DURATION_HINT = 'write a number followed by a unit: ms, s, m, h (e.g. 500ms, 2s, 1m, 1h)';
