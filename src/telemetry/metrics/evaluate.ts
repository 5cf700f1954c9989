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

/**
 * rate/increase at every step. The usual case — rollup buckets without gaps, steps and window
 * on multiples of the bucket width — takes a path that moves the window by whole buckets per
 * step instead of scanning for its edges; it picks the same buckets and computes the same
 * expressions, so the values are identical (test: "increases: regular fast path matches the
 * general path"). `general` forces the scanning path (tests).
 */
export function increases(b: Buckets, s: Steps, perSecond: boolean, out: number[], general = false): number[] {
  const { n, start, first, last, inc, width } = b;
  if (n === 0) return out;
  // prefix[i]: increase from the first sample of bucket 0 to the last sample of bucket i.
  if (prefixScratch.length < n) prefixScratch = new Float64Array(Math.max(n, prefixScratch.length * 2));
  const prefix = prefixScratch; // reused across series: evaluation is synchronous
  prefix[0] = inc[0];
  let dense = width > 0; // every bucket right after the one before: start[i] = start[0] + i × width
  for (let i = 1; i < n; i++) {
    prefix[i] = prefix[i - 1] + counterDelta(last[i - 1], first[i]) + inc[i];
    if (start[i] - start[i - 1] !== width) dense = false;
  }
  const aligned = dense && !general && (s.firstStep - start[0]) % width === 0 && s.stepMs % width === 0 && s.windowMs % width === 0;
  return aligned ? increasesDense(b, prefix, s, perSecond, out) : increasesScan(b, prefix, s, perSecond, out);
}

/**
 * Step k's increase (or rate) over buckets a..z: measured from the end of the bucket before a
 * when that bucket ends after `refFrom` (the lookback), else from the start of bucket a.
 */
function stepIncrease(b: Buckets, prefix: Float64Array, a: number, z: number, refFrom: number, perSecond: boolean, out: number[], k: number): void {
  const { start, inc, width } = b;
  const ref = a > 0 && start[a - 1] + width > refFrom ? a - 1 : -1;
  const increase = ref >= 0 ? prefix[z] - prefix[ref] : prefix[z] - prefix[a] + inc[a];
  const span = ref >= 0 ? start[z] - start[ref] : start[z] + width - start[a];
  if (!perSecond) out[k] = increase;
  else if (span > 0) out[k] = increase / (span / 1000);
}

function increasesScan(b: Buckets, prefix: Float64Array, s: Steps, perSecond: boolean, out: number[]): number[] {
  const steps = s.stepCount;
  const { n, start, width } = b;
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
    stepIncrease(b, prefix, a, z, t - refAfter, perSecond, out, k);
  }
  return out;
}

/**
 * increasesScan for dense buckets with firstStep, stepMs and windowMs multiples of the width
 * (relative to start[0]): the number of buckets ending at or before x is then
 * clamp((x - start[0]) / width, 0, n), and it grows by stepMs / width from one step to the next.
 */
function increasesDense(b: Buckets, prefix: Float64Array, s: Steps, perSecond: boolean, out: number[]): number[] {
  const steps = s.stepCount;
  const { n, start, width } = b;
  const s0 = start[0];
  const stepMs = s.stepMs;
  const window = s.windowMs;
  const refAfter = window + s.lookbackMs;
  const da = stepMs / width;
  let ra = (s.firstStep - window - s0) / width; // unclamped a (see increasesScan)
  let re = (s.firstStep - s0) / width; // unclamped e
  if (!(Math.abs(ra) < 2 ** 30 && Math.abs(re) < 2 ** 30 && da * steps < 2 ** 30)) return increasesScan(b, prefix, s, perSecond, out);
  // Small integers from here on: int32 arithmetic and indexing.
  ra |= 0;
  re |= 0;
  const step = da | 0;
  let t = s.firstStep;
  for (let k = 0; k < steps; k++, t += stepMs, ra += step, re += step) {
    if (re <= 0) continue; // no bucket ends by t
    if (ra >= n) break; // every bucket ends at or before t - window, now and later
    const a = ra < 0 ? 0 : ra;
    const z = (re > n ? n : re) - 1;
    if (z < a) continue;
    stepIncrease(b, prefix, a, z, t - refAfter, perSecond, out, k);
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
