// Combines evaluated series: sum/avg/max/min/count by labels, and quantiles from histogram
// buckets. Pure; works step by step on arrays where NaN means "no value at this step".
import { nanArray } from './evaluate.ts';
import { parseValue } from './exposition.ts';
import { canonicalLabels } from './labels.ts';
import type { Aggregation, Labels } from './types.ts';

export interface Evaluated {
  labels: Labels;
  /** One value per step; NaN = none. */
  values: number[];
}

function pick(labels: Labels, keys: readonly string[]): Labels {
  const out: Labels = {};
  for (const k of keys) if (labels[k] !== undefined) out[k] = labels[k];
  return out;
}

function without(labels: Labels, drop: string): Labels {
  const out: Labels = {};
  for (const [k, v] of Object.entries(labels)) if (k !== drop) out[k] = v;
  return out;
}

/**
 * sum/avg/max/min/count by labels, fed one series at a time (so a query over 1,000 series
 * never holds 1,000 value arrays): one output series per distinct value of the `by` labels,
 * one in all when `by` is empty.
 */
export class Aggregator {
  private readonly groups = new Map<string, { labels: Labels; acc: number[]; n: Float64Array }>();
  private readonly agg: Aggregation;
  private readonly by: readonly string[];
  private readonly stepCount: number;

  constructor(agg: Aggregation, by: readonly string[], stepCount: number) {
    this.agg = agg;
    this.by = by;
    this.stepCount = stepCount;
  }

  /** Folds in one series; `values` may be reused by the caller afterwards. */
  add(labels: Labels, v: ArrayLike<number>): void {
    const { agg, stepCount } = this;
    const picked = pick(labels, this.by);
    const key = canonicalLabels(picked);
    let g = this.groups.get(key);
    if (!g) this.groups.set(key, (g = { labels: picked, acc: nanArray(stepCount), n: new Float64Array(stepCount) }));
    const { acc, n } = g;
    // One loop per aggregation: the choice is made once per series, not once per step.
    if (agg === 'sum' || agg === 'avg') {
      for (let k = 0; k < stepCount; k++) { const x = v[k]; if (x === x) { acc[k] = n[k]++ === 0 ? x : acc[k] + x; } }
    } else if (agg === 'max') {
      for (let k = 0; k < stepCount; k++) { const x = v[k]; if (x === x) { if (n[k]++ === 0 || x > acc[k]) acc[k] = x; } }
    } else if (agg === 'min') {
      for (let k = 0; k < stepCount; k++) { const x = v[k]; if (x === x) { if (n[k]++ === 0 || x < acc[k]) acc[k] = x; } }
    } else {
      for (let k = 0; k < stepCount; k++) { if (v[k] === v[k]) acc[k] = ++n[k]; }
    }
  }

  result(): Evaluated[] {
    const { agg, stepCount } = this;
    return sortByLabels([...this.groups.values()].map(({ labels, acc, n }) => {
      if (agg === 'avg') for (let k = 0; k < stepCount; k++) if (n[k] > 0) acc[k] /= n[k];
      return { labels, values: acc };
    }));
  }
}

export function aggregate(list: Evaluated[], agg: Aggregation, by: readonly string[], stepCount: number): Evaluated[] {
  const a = new Aggregator(agg, by, stepCount);
  for (const s of list) a.add(s.labels, s.values);
  return a.result();
}

/**
 * histogram_quantile over bucket series (each with an `le` label, values already rates):
 * buckets with the same group labels and bound are summed, then each group's quantile is
 * interpolated per step. Group labels: `by`, or when empty every label except `le`.
 */
export function histogramQuantile(q: number, list: Evaluated[], by: readonly string[], stepCount: number): Evaluated[] {
  const groups = new Map<string, { labels: Labels; buckets: Map<number, number[]> }>();
  for (const s of list) {
    const bound = parseValue(s.labels.le ?? '');
    if (bound === undefined || bound !== bound) continue; // a bucket series without a usable le
    const labels = by.length ? pick(s.labels, by) : without(s.labels, 'le');
    const key = canonicalLabels(labels);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { labels, buckets: new Map() }));
    let acc = g.buckets.get(bound);
    if (!acc) g.buckets.set(bound, (acc = nanArray(stepCount)));
    for (let k = 0; k < stepCount; k++) {
      const x = s.values[k];
      if (x === x) acc[k] = acc[k] === acc[k] ? acc[k] + x : x;
    }
  }
  const out: Evaluated[] = [];
  for (const { labels, buckets } of groups.values()) {
    const bounds = [...buckets.keys()].sort((a, b) => a - b);
    const columns = bounds.map((b) => buckets.get(b)!);
    const values = nanArray(stepCount);
    const ub: number[] = [];
    const counts: number[] = [];
    for (let k = 0; k < stepCount; k++) {
      ub.length = 0;
      counts.length = 0;
      for (let i = 0; i < bounds.length; i++) {
        const c = columns[i][k];
        if (c === c) { ub.push(bounds[i]); counts.push(c); }
      }
      values[k] = bucketQuantile(q, ub, counts);
    }
    out.push({ labels, values });
  }
  return sortByLabels(out);
}

/**
 * Prometheus' classic bucketQuantile: bounds ascending (the last must be +Inf), counts
 * cumulative. Linear interpolation inside the bucket the rank falls in; the lowest bucket
 * starts at 0 (unless its bound is ≤ 0); a rank in the +Inf bucket returns the highest finite
 * bound. NaN when there is nothing to interpolate.
 */
export function bucketQuantile(q: number, bounds: readonly number[], counts: readonly number[]): number {
  const n = bounds.length;
  if (n < 2 || bounds[n - 1] !== Infinity) return NaN;
  // Rates of cumulative counters can dip out of order by rounding/scrape skew: force monotonic.
  const c = counts.slice();
  for (let i = 1; i < n; i++) if (c[i] < c[i - 1]) c[i] = c[i - 1];
  const observations = c[n - 1];
  if (!(observations > 0)) return NaN;
  let rank = q * observations;
  let b = 0;
  while (b < n - 1 && c[b] < rank) b++;
  if (b === n - 1) return bounds[n - 2];
  if (b === 0 && bounds[0] <= 0) return bounds[0];
  let bucketStart = 0;
  let count = c[b];
  if (b > 0) {
    bucketStart = bounds[b - 1];
    count -= c[b - 1];
    rank -= c[b - 1];
  }
  return bucketStart + (bounds[b] - bucketStart) * (rank / count);
}

function sortByLabels(list: Evaluated[]): Evaluated[] {
  return list
    .map((s) => ({ s, key: canonicalLabels(s.labels) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ s }) => s);
}
