import { DEFAULT_METRICS, type MetricCatalog } from './alerts/catalog.ts';

// The metric names alert rules may use, mapped onto the series Slipway records: the router's
// request counters and latency histogram, and the process sampler's CPU and memory.
export const SLIPWAY_METRICS: MetricCatalog = {
  ...DEFAULT_METRICS,
  cpu: { ...DEFAULT_METRICS.cpu, query: { metric: 'process_cpu_seconds_total', fn: 'rate' } },
};
