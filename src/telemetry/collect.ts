import { LATENCY_BUCKETS_MS, type BackendStats } from '../router/router.ts';
import type { Instance } from '../store/types.ts';
import type { Family, Sample } from './metrics/types.ts';

// Turns what the router and the store know into samples for the metrics store. Pure.

export const ROUTER_FAMILIES: Family[] = [
  { name: 'http_requests_total', type: 'counter', help: 'Requests the router sent to an instance' },
  { name: 'http_request_errors_total', type: 'counter', help: 'Requests answered with a 5xx status or not at all' },
  { name: 'http_request_duration_ms', type: 'histogram', help: 'Request latency through the router, in milliseconds' },
];

export const PLATFORM_FAMILIES: Family[] = [
  { name: 'slipway_deployments_total', type: 'counter', help: 'Deployments by outcome' },
  { name: 'slipway_deployment_seconds_total', type: 'counter', help: 'Time spent in deployments, by outcome' },
  { name: 'slipway_runs_total', type: 'counter', help: 'Pipeline runs by outcome' },
  { name: 'slipway_run_seconds_total', type: 'counter', help: 'Time spent in pipeline runs, by outcome' },
  { name: 'instance_restarts_total', type: 'counter', help: 'Unplanned restarts of an instance' },
];

export function instanceLabels(i: Instance): Record<string, string> {
  return { app: i.app, env: i.env, release: i.version, instance: i.id };
}

/** Per-instance request counters and the latency histogram, labelled with app/env/release/instance. */
export function routerSamples(stats: BackendStats[], instances: Map<string, Instance>, ts: number): Sample[] {
  const out: Sample[] = [];
  for (const s of stats) {
    const i = instances.get(s.id);
    if (!i) continue;
    const labels = instanceLabels(i);
    out.push({ name: 'http_requests_total', labels, value: s.requests, ts });
    out.push({ name: 'http_request_errors_total', labels, value: s.errors, ts });
    let cumulative = 0;
    s.latencyCounts.forEach((count, n) => {
      cumulative += count;
      const le = n < LATENCY_BUCKETS_MS.length ? String(LATENCY_BUCKETS_MS[n]) : '+Inf';
      out.push({ name: 'http_request_duration_ms_bucket', labels: { ...labels, le }, value: cumulative, ts });
    });
    out.push({ name: 'http_request_duration_ms_sum', labels, value: s.latencySumMs, ts });
    out.push({ name: 'http_request_duration_ms_count', labels, value: s.requests, ts });
  }
  return out;
}

export function platformSamples(figures: {
  deployments: { app: string; env: string; strategy: string; state: string; count: number; seconds: number }[];
  runs: { app: string; state: string; count: number; seconds: number }[];
  instances: Instance[];
}, ts: number): Sample[] {
  const out: Sample[] = [];
  for (const d of figures.deployments) {
    const labels = { app: d.app, env: d.env, strategy: d.strategy, outcome: d.state };
    out.push({ name: 'slipway_deployments_total', labels, value: d.count, ts }, { name: 'slipway_deployment_seconds_total', labels, value: d.seconds, ts });
  }
  for (const r of figures.runs) {
    const labels = { app: r.app, outcome: r.state };
    out.push({ name: 'slipway_runs_total', labels, value: r.count, ts }, { name: 'slipway_run_seconds_total', labels, value: r.seconds, ts });
  }
  for (const i of figures.instances) out.push({ name: 'instance_restarts_total', labels: instanceLabels(i), value: i.restarts, ts });
  return out;
}
