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

export type StrategySpec = RollingStrategy;

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
}

export interface AppSpec {
  app: string;
  build: StepSpec[];
  test: StepSpec[];
  artifact: { include: string[] | null }; // null: the whole checkout without .git
  service: ServiceSpec;
  environments: EnvironmentSpec[]; // in promotion order; at least one
}
