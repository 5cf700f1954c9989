// The names a rule may use for metrics and events, and what each name means to the sources.
// Rules name friendly things (`error_rate`, `latency_p99`, `request`); the catalog turns them
// into the query the metrics store answers. Both catalogs are parameters of the rule parser,
// so the metrics store decides what exists and the parser rejects everything else by name.
import type { MetricQuery, Scope, Unit } from './types.ts';

export interface MetricDef {
  query: Pick<MetricQuery, 'metric' | 'fn' | 'quantile' | 'denominator'>;
  unit: Unit;
  /** environment: one value per (app, env); instance: one per instance (drain-aware). */
  scope: 'environment' | 'instance';
  description: string;
}

export type MetricCatalog = Readonly<Record<string, MetricDef>>;

export interface EventDef {
  scope: Scope;
  description: string;
  /** The command that shows what happened last; {app} and {env} are filled in. */
  drilldown: string;
}

export type EventCatalog = Readonly<Record<string, EventDef>>;

const latency = (q: number): MetricDef => ({
  query: { metric: 'http_request_duration_ms', fn: 'quantile', quantile: q },
  unit: 'ms',
  scope: 'environment',
  description: `p${Math.round(q * 100)} request latency`,
});

// Underlying series names are this module's proposal; the lead maps them onto the metrics store
// by passing its own catalog (the rule syntax does not change).
export const DEFAULT_METRICS: MetricCatalog = {
  error_rate: {
    query: { metric: 'http_request_errors_total', fn: 'ratio', denominator: 'http_requests_total' },
    unit: 'ratio',
    scope: 'environment',
    description: 'share of requests answered with a 5xx status',
  },
  request_rate: {
    query: { metric: 'http_requests_total', fn: 'rate' },
    unit: 'per_second',
    scope: 'environment',
    description: 'requests per second',
  },
  latency_p50: latency(0.5),
  latency_p90: latency(0.9),
  latency_p95: latency(0.95),
  latency_p99: latency(0.99),
  cpu: {
    query: { metric: 'process_cpu_ratio', fn: 'raw' },
    unit: 'ratio',
    scope: 'instance',
    description: 'CPU use of one instance (1 = one core)',
  },
  memory: {
    query: { metric: 'process_resident_memory_bytes', fn: 'raw' },
    unit: 'bytes',
    scope: 'instance',
    description: 'resident memory of one instance',
  },
  restarts: {
    query: { metric: 'instance_restarts_total', fn: 'rate' },
    unit: 'per_second',
    scope: 'instance',
    description: 'unplanned restarts of one instance',
  },
};

export const DEFAULT_EVENTS: EventCatalog = {
  request: { scope: 'environment', description: 'a request reached the environment', drilldown: 'slipway metrics {app} request_rate --env {env} --since {since}' },
  run_succeeded: { scope: 'app', description: 'a pipeline run succeeded', drilldown: 'slipway runs {app}' },
  deploy_succeeded: { scope: 'environment', description: 'a deployment finished', drilldown: 'slipway deployments {app} --env {env}' },
  instance_report: { scope: 'instance', description: 'an instance reported metrics', drilldown: 'slipway status {app}' },
};
