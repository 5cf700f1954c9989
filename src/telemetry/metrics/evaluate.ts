// Evaluates one function over one series' buckets at every step. Pure.
//
// A bucket "happens" at its end (start + width; raw samples: their timestamp), so at step T
// the window (T - window, T] holds the buckets ending inside it, and with steps on multiples
// of the bucket width a 1-minute step at 1-minute resolution reads exactly one bucket.
//
// rate/increase add the increase since the *bucket before the window* (when it is at most
// `lookbackMs` older), so consecutive windows split a counter's increase between them with
// nothing lost at the edges; without it (the series' first window) only the increase inside
// the window counts. Counter resets count the new value as increase, like Prometheus. Unlike
// Prometheus, nothing is extrapolated: rate = observed increase / observed time span.
//
// Results are plain number arrays (NaN = no value at that step): they become the query result
// as they are, without a copy.
import { counterDelta, type Buckets, type Field } from './rollup.ts';
import type { QueryFn } from './types.ts';

export interface Steps {
  firstStep: number;
  stepMs: number;
  stepCount: number;
  windowMs: number;
  lookbackMs: number;
}

/** The bucket fields each function reads (the rest need not be loaded). */
export function fieldsFor(fn: QueryFn): Field[] {
  switch (fn) {
    case 'raw': return ['last'];
    case 'rate':
    case 'increase':
    case 'histogram_quantile': return ['first', 'last', 'inc'];
    case 'avg_over_time': return ['count', 'sum'];
    case 'min_over_time': return ['min'];
    case 'max_over_time': return ['max'];
  }
}

/** One value per step; NaN where the series has nothing to say. Fills and returns `out` when given (reuse). */
export function evaluate(fn: QueryFn, b: Buckets, s: Steps, out?: number[]): number[] {
  if (out) out.fill(NaN);
  else out = nanArray(s.stepCount);
  switch (fn) {
    case 'raw': return lastValues(b, s, out);
    case 'rate':
    case 'histogram_quantile': return increases(b, s, true, out);
    case 'increase': return increases(b, s, false, out);
    case 'avg_over_time':
    case 'min_over_time':
    case 'max_over_time': return overTime(fn, b, s, out);
  }
}

export function nanArray(n: number): number[] {
  return new Array<number>(n).fill(NaN);
}

function lastValues(b: Buckets, s: Steps, out: number[]): number[] {
  const steps = s.stepCount;
  const { n, start, last, width } = b;
  const lookback = s.lookbackMs;
  let t = s.firstStep;
  let j = 0; // first bucket ending after t
  for (let k = 0; k < steps; k++, t += s.stepMs) {
    while (j < n && start[j] + width <= t) j++;
    if (j > 0 && start[j - 1] + width > t - lookback) out[k] = last[j - 1];
  }
  return out;
}

let prefixScratch = new Float64Array(0);

function increases(b: Buckets, s: Steps, perSecond: boolean, out: number[]): number[] {
  const steps = s.stepCount;
  const { n, start, first, last, inc, width } = b;
  if (n === 0) return out;
  // prefix[i]: increase from the first sample of bucket 0 to the last sample of bucket i.
  if (prefixScratch.length < n) prefixScratch = new Float64Array(Math.max(n, prefixScratch.length * 2));
  const prefix = prefixScratch; // reused across series: evaluation is synchronous
  prefix[0] = inc[0];
  for (let i = 1; i < n; i++) prefix[i] = prefix[i - 1] + counterDelta(last[i - 1], first[i]) + inc[i];
  const window = s.windowMs;
  const refAfter = window + s.lookbackMs;
  let t = s.firstStep;
  let a = 0; // first bucket ending after t - window
  let e = 0; // first bucket ending after t
  for (let k = 0; k < steps; k++, t += s.stepMs) {
    while (a < n && start[a] + width <= t - window) a++;
    while (e < n && start[e] + width <= t) e++;
    const z = e - 1; // last bucket in the window
    if (z < a) continue;
    const ref = a > 0 && start[a - 1] + width > t - refAfter ? a - 1 : -1;
    const increase = ref >= 0 ? prefix[z] - prefix[ref] : prefix[z] - prefix[a] + inc[a];
    const span = ref >= 0 ? start[z] - start[ref] : start[z] + width - start[a];
    if (!perSecond) out[k] = increase;
    else if (span > 0) out[k] = increase / (span / 1000);
  }
  return out;
}

function overTime(fn: QueryFn, b: Buckets, s: Steps, out: number[]): number[] {
  const steps = s.stepCount;
  const { n, start, count, sum, min, max, width } = b;
  const window = s.windowMs;
  let t = s.firstStep;
  let a = 0;
  let e = 0;
  for (let k = 0; k < steps; k++, t += s.stepMs) {
    while (a < n && start[a] + width <= t - window) a++;
    while (e < n && start[e] + width <= t) e++;
    if (e <= a) continue;
    if (fn === 'avg_over_time') {
      let total = 0;
      let c = 0;
      for (let i = a; i < e; i++) { total += sum[i]; c += count[i]; }
      if (c > 0) out[k] = total / c;
    } else if (fn === 'min_over_time') {
      let m = Infinity;
      for (let i = a; i < e; i++) if (min[i] < m) m = min[i];
      out[k] = m;
    } else {
      let m = -Infinity;
      for (let i = a; i < e; i++) if (max[i] > m) m = max[i];
      out[k] = m;
    }
  }
  return out;
}
