import type { AlertRule } from '../telemetry/alerts/types.ts';
// The parsed, validated and defaulted form of slipway.yaml. Everything downstream reads this,
// never the raw YAML.
export interface StepSpec {
  name: string;
  run: string;
  timeoutMs: number; // default 30 min
}

export interface HealthSpec {
  path: string; // default "/healthz"
  intervalMs: number; // default 1s
  timeoutMs: number; // default 2s
  deadlineMs: number; // how long a new instance may take to become healthy; default 60s
}

export interface RollingStrategy {
  kind: 'rolling';
  maxSurge: number; // default 1
  maxUnavailable: number; // default 0
}

export interface BlueGreenStrategy {
  kind: 'blue_green';
  preview: boolean; // the new set answers at <app>.<env>-preview.localhost and waits for `slipway promote`
  probationMs: number; // after the switch the old set stays ready for instant rollback; default 5m
}

export type AnalysisMetric = 'error_rate' | 'latency_p50' | 'latency_p99';

export interface AnalysisSpec {
  metrics: AnalysisMetric[]; // default all
  confidence: number; // default 0.98
  tolerance: number; // relative effect that matters; default 0.25
  intervalMs: number; // how often the judge looks within a step; default step_duration / 3
  minRequests: number; // per group before a verdict can be more than Inconclusive; default 50
  maxErrorRate?: number; // absolute guard
  maxLatencyP99Ms?: number; // absolute guard
}

/** A request matching every pair of a rule goes to the canary (A/B groups, testers). */
export interface HeaderRule {
  header: string; // lower-cased
  value: string;
}

export interface CanaryStrategy {
  kind: 'canary';
  steps: number[]; // increasing traffic percentages on the new release, each 1..99
  stepDurationMs: number; // default 1m
  baseline: boolean; // default true
  analysis: AnalysisSpec;
  probationMs: number; // default 5m
  match: HeaderRule[]; // default []
}

export type StrategySpec = RollingStrategy | BlueGreenStrategy | CanaryStrategy;

export interface EnvironmentSpec {
  name: string;
  approval: boolean; // default false
  strategy: StrategySpec; // default rolling {1, 0}
  instances: number; // default: service.instances
  env: Record<string, string>; // extra variables for instances in this environment; default {}
}

export interface ServiceSpec {
  command: string;
  instances: number; // default 1
  health: HealthSpec;
  drainTimeoutMs: number; // default 30s: how long in-flight requests may take after an instance leaves the router
  stopGraceMs: number; // default 10s: SIGTERM → SIGKILL
  env: Record<string, string>; // default {}
  /** Prometheus metrics the app exposes, scraped from every instance. */
  metrics: { path: string; intervalMs: number } | null;
}

export interface AppSpec {
  app: string;
  build: StepSpec[];
  test: StepSpec[];
  artifact: { include: string[] | null }; // null: the whole checkout without .git
  service: ServiceSpec;
  environments: EnvironmentSpec[]; // in promotion order; at least one
  alerts: AlertRule[]; // default []
}
