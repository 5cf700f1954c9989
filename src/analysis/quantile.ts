// Sample quantiles and the small order-statistic helpers the judge needs. Pure; inputs are not mutated.

/** A sorted copy of the finite values of `xs` (NaN, ±Infinity dropped). Typed-array sort is numeric. */
export function sortedFinite(xs: Iterable<number>): Float64Array {
  const out: number[] = [];
  for (const x of xs) if (Number.isFinite(x)) out.push(x);
  return Float64Array.from(out).sort();
}

/**
 * The p-quantile of an ascending sample, linear interpolation between order statistics
 * (Hyndman–Fan type 7, the default of R, NumPy and most dashboards): h = (n − 1)·p.
 */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  if (p <= 0) return sorted[0];
  if (p >= 1) return sorted[n - 1];
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const frac = h - lo;
  return frac === 0 ? sorted[lo] : sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

export const median = (sorted: ArrayLike<number>): number => quantileSorted(sorted, 0.5);

/** Tukey fences [Q1 − k·IQR, Q3 + k·IQR] of an ascending sample (Kayenta cleans with k = 3). */
export function iqrFences(sorted: ArrayLike<number>, k: number): { low: number; high: number } {
  const q1 = quantileSorted(sorted, 0.25);
  const q3 = quantileSorted(sorted, 0.75);
  const iqr = q3 - q1;
  return { low: q1 - k * iqr, high: q3 + k * iqr };
}

/** The values of an ascending sample inside [low, high], still ascending (a subarray view, no copy). */
export function within(sorted: Float64Array, low: number, high: number): Float64Array {
  return sorted.subarray(lowerBound(sorted, low), upperBound(sorted, high));
}

/** First index i with sorted[i] >= x. */
export function lowerBound(sorted: ArrayLike<number>, x: number): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) { const mid = (lo + hi) >>> 1; if (sorted[mid] < x) lo = mid + 1; else hi = mid; }
  return lo;
}

/** First index i with sorted[i] > x. */
export function upperBound(sorted: ArrayLike<number>, x: number): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) { const mid = (lo + hi) >>> 1; if (sorted[mid] <= x) lo = mid + 1; else hi = mid; }
  return lo;
}

/**
 * A distribution-free standard error for the p-quantile of an ascending sample (McKean–Schrader /
 * Price–Bonett): the binomial order-statistic interval for the quantile, ranks np ∓ z·√(np(1−p)) with
 * z = 1.96, divided by 2z. Used only to put a confidence interval around a reported quantile
 * difference; it needs no density estimate. Near the ends of small samples the rank is clamped to the
 * sample, so the interval is then narrower than it should be — reported, never used to decide.
 */
export function quantileStandardError(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n < 2) return NaN;
  const z = 1.959963984540054;
  const half = z * Math.sqrt(n * p * (1 - p));
  const lo = Math.max(0, Math.min(n - 1, Math.floor(n * p - half) - 1));
  const hi = Math.max(0, Math.min(n - 1, Math.ceil(n * p + half) - 1));
  return (sorted[hi] - sorted[lo]) / (2 * z);
}

/** Merge two ascending samples into one ascending array. */
export function mergeSorted(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(a.length + b.length);
  let i = 0, j = 0, w = 0;
  while (i < a.length && j < b.length) out[w++] = a[i] <= b[j] ? a[i++] : b[j++];
  while (i < a.length) out[w++] = a[i++];
  while (j < b.length) out[w++] = b[j++];
  return out;
}

/** The k-th smallest (0-based) of the union of two ascending samples, in O(log) without merging. */
export function kthOfTwo(a: ArrayLike<number>, b: ArrayLike<number>, k: number): number {
  // Find how many come from a: the largest i in [max(0, k + 1 − m), min(k + 1, n)] with a[i − 1] <= b[k − i].
  const n = a.length, m = b.length;
  let lo = Math.max(0, k + 1 - m), hi = Math.min(k + 1, n);
  while (lo < hi) {
    const i = (lo + hi + 1) >>> 1; // take i from a, k + 1 − i from b
    if (a[i - 1] <= (k + 1 - i < m ? b[k + 1 - i] : Infinity)) lo = i; else hi = i - 1;
  }
  const i = lo, j = k + 1 - i;
  return Math.max(i > 0 ? a[i - 1] : -Infinity, j > 0 ? b[j - 1] : -Infinity);
}

/** Type-7 quantile of the union of two ascending samples (same as quantileSorted(mergeSorted(a, b), p)). */
export function pooledQuantile(a: ArrayLike<number>, b: ArrayLike<number>, p: number): number {
  const n = a.length + b.length;
  if (n === 0) return NaN;
  const h = (n - 1) * Math.min(1, Math.max(0, p));
  const lo = Math.floor(h), frac = h - lo;
  const x = kthOfTwo(a, b, lo);
  return frac === 0 ? x : x + frac * (kthOfTwo(a, b, lo + 1) - x);
}
