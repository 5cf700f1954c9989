// Mann–Whitney U (Wilcoxon rank-sum) test, its Hodges–Lehmann shift estimate with a confidence
// interval, and the exact test for two-valued (0/1) data. Pure functions, no I/O.
//
// Conventions (everywhere in src/analysis): `a` is the canary, `b` the baseline.
//   U = #{(i, j): a_i > b_j} + ½·#{(i, j): a_i = b_j}     (0 ≤ U ≤ n·m; large U ⇒ canary larger)
//   shift = canary − baseline, estimated by the median of the n·m differences a_i − b_j.
// Inputs named `*Sorted` must be ascending and finite (see quantile.ts sortedFinite).

import { normalCdf, normalQuantile, normalSf } from './normal.ts';

export interface RankSumTest {
  n: number;                 // canary sample size
  m: number;                 // baseline sample size
  u: number;                 // U of the canary (see above)
  mean: number;              // E[U] under H0 = n·m/2
  sd: number;                // tie-corrected standard deviation of U under H0
  z: number;                 // continuity-corrected z = (U − mean ∓ ½)/sd (0 when sd = 0)
  pGreater: number;          // one-sided p for "canary larger"
  pLess: number;             // one-sided p for "canary smaller"
  pValue: number;            // two-sided p = min(1, 2·min(pGreater, pLess)) (R's wilcox.test convention)
  method: 'exact' | 'normal';
  ties: boolean;
}

/** Sample sizes below which (both) and without ties the exact null distribution is used (as R does). */
export const EXACT_LIMIT = 50;

/** Mann–Whitney U test on two unsorted samples (non-finite values are dropped). */
export function mannWhitney(a: ArrayLike<number>, b: ArrayLike<number>): RankSumTest {
  return mannWhitneySorted(sortFinite(a), sortFinite(b));
}

/**
 * Mann–Whitney U test on two ascending samples.
 *
 * U comes from one merge pass over the sorted samples: at each distinct value v, every canary
 * observation equal to v beats the baseline observations below v and ties (½) with those equal to v.
 * Under H0 (both samples from one continuous distribution), for n, m < 50 without ties the exact
 * distribution of U is used; otherwise the normal approximation with
 *   Var(U) = n·m/12 · ((N + 1) − Σ(t³ − t)/(N(N − 1)))     (t = size of each tie group, N = n + m)
 * and a continuity correction of ½ towards the mean. Two-sided p doubles the smaller one-sided p.
 */
export function mannWhitneySorted(a: ArrayLike<number>, b: ArrayLike<number>): RankSumTest {
  const n = a.length, m = b.length;
  const mean = (n * m) / 2;
  if (n === 0 || m === 0) {
    return { n, m, u: mean, mean, sd: 0, z: 0, pGreater: 1, pLess: 1, pValue: 1, method: 'normal', ties: false };
  }
  let i = 0, j = 0, u = 0, tieSum = 0;
  while (i < n || j < m) {
    const v = j >= m || (i < n && a[i] <= b[j]) ? a[i] : b[j];
    const bBelow = j;
    let ca = 0, cb = 0;
    while (i < n && a[i] === v) { i++; ca++; }
    while (j < m && b[j] === v) { j++; cb++; }
    u += ca * (bBelow + cb / 2);
    const t = ca + cb;
    if (t > 1) tieSum += t * t * t - t;
  }
  const N = n + m;
  const ties = tieSum > 0;
  const sd = Math.sqrt(((n * m) / 12) * (N + 1 - tieSum / (N * (N - 1))));
  if (!ties && n < EXACT_LIMIT && m < EXACT_LIMIT) {
    const cdf = exactUCdf(n, m);
    const k = Math.round(u); // an integer without ties
    const pLess = cdf[k];
    const pGreater = k === 0 ? 1 : 1 - cdf[k - 1];
    const z = sd > 0 ? (u - mean) / sd : 0;
    return { n, m, u, mean, sd, z, pGreater: clamp01(pGreater), pLess: clamp01(pLess), pValue: Math.min(1, 2 * Math.min(pGreater, pLess)), method: 'exact', ties };
  }
  if (sd === 0) return { n, m, u, mean, sd, z: 0, pGreater: 1, pLess: 1, pValue: 1, method: 'normal', ties };
  const diff = u - mean;
  const z = (diff - Math.sign(diff) * 0.5) / sd;
  const pGreater = Math.min(1, normalSf((diff - 0.5) / sd));
  const pLess = Math.min(1, normalCdf((diff + 0.5) / sd));
  return { n, m, u, mean, sd, z, pGreater, pLess, pValue: Math.min(1, 2 * Math.min(pGreater, pLess)), method: 'normal', ties };
}

// ---------------------------------------------------------------------------------------------
// Exact null distribution of U (no ties).

const exactCache = new Map<string, Float64Array>();

/**
 * P(U ≤ u) for u = 0..n·m under H0, no ties. Recurrence on which sample holds the largest of the
 * N = i + j observations: with probability i/N it is a canary one and beats all j baseline ones, so
 *   P_{i,j}(u) = i/(i+j) · P_{i−1,j}(u − j) + j/(i+j) · P_{i,j−1}(u).
 * Only additions of positive terms, so tail probabilities keep full relative precision (the
 * generating-function form subtracts huge counts and does not). O(n²m²/4) time, O(n²m) memory;
 * memoised (a pure cache: same input, same output).
 */
export function exactUCdf(n: number, m: number): Float64Array {
  const key = `${n},${m}`;
  const hit = exactCache.get(key);
  if (hit) return hit;
  let prev: Float64Array[] = Array.from({ length: n + 1 }, () => Float64Array.of(1)); // j = 0
  for (let j = 1; j <= m; j++) {
    const cur: Float64Array[] = new Array(n + 1);
    cur[0] = Float64Array.of(1);
    for (let i = 1; i <= n; i++) {
      const size = i * j + 1;
      const p = new Float64Array(size);
      const wa = i / (i + j), wb = j / (i + j);
      const fromA = cur[i - 1]; // sizes (i−1)·j + 1, shifted by j
      for (let u = 0; u < fromA.length; u++) p[u + j] += wa * fromA[u];
      const fromB = prev[i];    // size i·(j−1) + 1
      for (let u = 0; u < fromB.length; u++) p[u] += wb * fromB[u];
      cur[i] = p;
    }
    prev = cur;
  }
  const pmf = prev[n];
  const cdf = new Float64Array(pmf.length);
  let acc = 0;
  for (let u = 0; u < pmf.length; u++) { acc += pmf[u]; cdf[u] = acc; }
  if (exactCache.size > 256) exactCache.clear();
  exactCache.set(key, cdf);
  return cdf;
}

// ---------------------------------------------------------------------------------------------
// Hodges–Lehmann shift estimate and its (Moses) confidence interval.

export interface ShiftEstimate {
  estimate: number;          // median of all a_i − b_j
  lower: number;             // confidence interval for the shift canary − baseline
  upper: number;
  confidence: number;
  rank: number;              // c: the interval is [D_(c), D_(nm−c+1)] of the sorted differences
}

/**
 * Hodges–Lehmann estimate of the shift (canary − baseline) and the distribution-free confidence
 * interval that inverts the rank-sum test: with D_(1) ≤ … ≤ D_(nm) the sorted pairwise differences and
 * c the largest integer with P_H0(U ≤ c − 1) ≤ (1 − confidence)/2, the interval is [D_(c), D_(nm−c+1)].
 * c comes from the exact distribution when the test used it, else from the normal approximation with
 * the test's tie-corrected sd and the same ½ continuity correction: c = ⌊nm/2 + ½ − z·sd⌋.
 *
 * Never materialises the n·m differences: each order statistic comes from `selectDifferences`, an exact
 * selection in a few O(n + m) passes (see there), so 30,000 × 30,000 (9·10⁸ pairs) takes milliseconds.
 */
export function hodgesLehmannSorted(a: Float64Array, b: Float64Array, confidence: number, test?: RankSumTest): ShiftEstimate {
  const n = a.length, m = b.length;
  if (n === 0 || m === 0) return { estimate: NaN, lower: NaN, upper: NaN, confidence, rank: 0 };
  const t = test ?? mannWhitneySorted(a, b);
  const nm = n * m;
  const half = (1 - confidence) / 2;
  let c: number;
  if (t.method === 'exact') {
    const cdf = exactUCdf(n, m);
    c = 1;
    while (c < nm && cdf[c] <= half) c++; // P(U ≤ (c+1) − 1) ≤ half ⇒ c + 1 is admissible
  } else {
    c = Math.floor(nm / 2 + 0.5 - normalQuantile(1 - half) * t.sd);
  }
  c = Math.max(1, Math.min(c, Math.ceil(nm / 2)));
  let estimate: number;
  if (nm % 2 === 1) estimate = kthDifference(a, b, (nm + 1) / 2);
  else { const mid = selectDifferences(a, b, nm / 2, nm / 2 + 1); estimate = (mid[0] + mid[1]) / 2; }
  return { estimate, lower: kthDifference(a, b, c), upper: kthDifference(a, b, nm - c + 1), confidence, rank: c };
}

/** Hodges–Lehmann estimate and interval on two unsorted samples. */
export function hodgesLehmann(a: ArrayLike<number>, b: ArrayLike<number>, confidence: number): ShiftEstimate {
  return hodgesLehmannSorted(sortFinite(a), sortFinite(b), confidence);
}

/** The k-th smallest (1-based) of the n·m differences a_i − b_j, exactly, for ascending a and b. */
export function kthDifference(a: Float64Array, b: Float64Array, k: number): number {
  return selectDifferences(a, b, k, k)[0];
}

/**
 * The differences of ranks kFrom..kTo (1-based, ascending) among the n·m differences a_i − b_j, exactly,
 * for ascending a and b, without materialising them — the selection problem in X + Y.
 *
 * Keeps a bracket lo < D_(k) ≤ hi with counts C(lo) < kFrom, C(hi) ≥ kTo, where C(d) = #{a_i − b_j ≤ d}
 * takes one O(n + m) two-pointer pass (a_i − b_j grows with i and falls with j, also in floating point,
 * because IEEE subtraction is monotone — so counts and the differences themselves always agree). Each
 * round probes two points placed by linear interpolation of C just below kFrom and just above kTo
 * (C is locally linear, so after a few rounds the bracket holds ~cap pairs), falling back to bisection
 * when a round does not halve the bracket. The bounds are snapped to actual differences, so the number
 * of distinct values in the bracket strictly falls and ties (integer-millisecond latencies make
 * millions of equal differences) end the search as soon as one value is left. The ≤ cap = max(n + m,
 * 256) remaining pairs are then listed and the wanted ranks picked by quickselect. Large inputs first
 * get their bracket from a subsample (below). For 30,000 × 30,000 (9·10⁸ pairs) a rank costs ~4 passes
 * over the full samples plus a few on the 3,750- and 469-element subsamples: about 2 ms.
 */
export function selectDifferences(a: Float64Array, b: Float64Array, kFrom: number, kTo: number): Float64Array {
  return select(a, b, kFrom, kTo, 0);
}

/**
 * selectDifferences, or with slack > 0 (hints only): one value whose rank is within kFrom..kFrom + slack,
 * returned as soon as the bracket is that narrow — no listing needed.
 */
function select(a: Float64Array, b: Float64Array, kFrom: number, kTo: number, slack: number): Float64Array {
  const n = a.length, m = b.length, total = n * m;
  if (!(Number.isInteger(kFrom) && Number.isInteger(kTo) && 1 <= kFrom && kFrom <= kTo && kTo <= total)) {
    throw new RangeError(`selectDifferences: ranks ${kFrom}..${kTo} outside 1..${total}`);
  }
  const cap = Math.max(n + m, 256, 2 * (kTo - kFrom + 1));
  let lo = -Infinity, cLo = 0, loNext = a[0] - b[m - 1]; // loNext: smallest difference > lo
  let hi = a[n - 1] - b[0], cHi = total;                 // hi: an actual difference, C(hi) ≥ kTo
  let bisect = false;
  // Probe d: move a bound, or — when kFrom ≤ C(d) < kTo — return C(d) so the caller splits the ranks.
  const probe = (d: number): number => {
    const r = countAround(a, b, d);
    if (r.count >= kTo) { hi = r.maxAtMost; cHi = r.count; return -1; }
    if (r.count < kFrom) { lo = d; cLo = r.count; loNext = r.minAbove; return -1; }
    return r.count;
  };
  const place = (k: number): number => {
    let x = bisect ? loNext + (hi - loNext) / 2 : loNext + ((hi - loNext) * (k - cLo)) / (cHi - cLo);
    x = Math.min(Math.max(x, loNext), hi);
    return x < hi ? x : loNext; // in [loNext, hi): every probe removes at least one distinct value
  };
  const span = Math.max(1, Math.floor(cap / 4));
  // Coarse to fine: on large inputs first solve the same ranks on a systematic subsample (every
  // STRIDE-th order statistic of each sample, recursively). Its scaled count function tracks the full
  // one closely (for 30,000 lognormal latencies per group, within about cap/2 ranks), so probes 0.3·cap
  // either side of the estimate usually leave about one `cap` of pairs in the bracket. The hint only
  // saves passes: if it misses, the loop below starts from a wider bracket and the answer is the same.
  if (n >= COARSE_MIN && m >= COARSE_MIN) {
    const as = stride(a), bs = stride(b);
    const sub = as.length * bs.length, scale = sub / total, margin = Math.ceil(0.3 * cap * scale);
    const r1 = Math.max(1, Math.floor(kFrom * scale) - margin), r2 = Math.min(sub, Math.ceil(kTo * scale) + margin);
    const approx = Math.floor(margin / 4);
    const low = select(as, bs, r1, r1, approx)[0], high = select(as, bs, Math.max(1, r2 - approx), Math.max(1, r2 - approx), approx)[0];
    for (const d of [low, high]) {
      if (!(d >= loNext && d < hi)) continue;
      const split = probe(d);
      if (split >= 0) return splitAt(a, b, kFrom, split, kTo);
    }
  }
  for (;;) {
    if (loNext === hi) return new Float64Array(kTo - kFrom + 1).fill(hi); // one distinct value left
    if (slack > 0 && cHi - kFrom <= slack) return Float64Array.of(hi);   // hint: rank of hi in [kFrom, kFrom + slack]
    if (cHi - cLo <= cap) return selectRanks(listBetween(a, b, lo, hi, cHi - cLo), kFrom - cLo - 1, kTo - cLo - 1);
    const before = cHi - cLo;
    const dLow = place(Math.max(cLo + 1, kFrom - span));
    let split = probe(dLow);
    if (split < 0 && loNext !== hi) {
      const dHigh = place(Math.min(cHi, kTo + span));
      if (dHigh > dLow) split = probe(dHigh);
    }
    if (split >= 0) return splitAt(a, b, kFrom, split, kTo);
    bisect = cHi - cLo > before / 2;
  }
}

const COARSE_MIN = 512;
const STRIDE = 8;

/**
 * The values of 0-based ranks from..to (ascending) of `x`, by quickselect (Hoare partition around a
 * median-of-three pivot) — O(x.length) expected instead of a sort. Reorders `x`.
 */
export function selectRanks(x: Float64Array, from: number, to: number): Float64Array {
  let lo = 0, hi = x.length - 1;
  while (hi > lo) {
    const mid = lo + ((hi - lo) >> 1);
    let p0 = x[lo], p1 = x[mid], p2 = x[hi];
    if (p0 > p1) { const t = p0; p0 = p1; p1 = t; }
    if (p1 > p2) { p1 = p2; }
    if (p0 > p1) { p1 = p0; }
    const pivot = p1;
    let i = lo, j = hi;
    while (i <= j) {
      while (x[i] < pivot) i++;
      while (x[j] > pivot) j--;
      if (i <= j) { const t = x[i]; x[i] = x[j]; x[j] = t; i++; j--; }
    }
    // now x[lo..j] <= pivot <= x[i..hi], and j < i
    if (from <= j) hi = j; else if (from >= i) lo = i; else break; // from lies between: x[from] = pivot
  }
  const out = new Float64Array(to - from + 1);
  out[0] = x[from];
  for (let r = from + 1; r <= to; r++) { // successive minima of the rest (to − from is tiny)
    let best = r;
    for (let t = r + 1; t < x.length; t++) if (x[t] < x[best]) best = t;
    const v = x[best]; x[best] = x[r]; x[r] = v;
    out[r - from] = v;
  }
  return out;
}

/** Every STRIDE-th element, starting mid-stride (a systematic sample of the order statistics). */
function stride(x: Float64Array): Float64Array {
  const out = new Float64Array(Math.floor((x.length - 1 - (STRIDE >> 1)) / STRIDE) + 1);
  for (let i = 0, j = STRIDE >> 1; i < out.length; i++, j += STRIDE) out[i] = x[j];
  return out;
}

function splitAt(a: Float64Array, b: Float64Array, kFrom: number, split: number, kTo: number): Float64Array {
  const out = new Float64Array(kTo - kFrom + 1);
  const left = select(a, b, kFrom, split, 0);
  out.set(left);
  out.set(select(a, b, split + 1, kTo, 0), left.length);
  return out;
}

/** C(d) = #{a_i − b_j ≤ d}, the largest difference ≤ d and the smallest difference > d, in one pass. */
function countAround(a: Float64Array, b: Float64Array, d: number): { count: number; maxAtMost: number; minAbove: number } {
  const n = a.length, m = b.length;
  let j = 0, count = 0, maxAtMost = -Infinity, minAbove = Infinity;
  for (let i = 0; i < n; i++) {
    const ai = a[i];
    while (j < m && ai - b[j] > d) j++;
    count += m - j;
    if (j < m) { const v = ai - b[j]; if (v > maxAtMost) maxAtMost = v; }
    if (j > 0) { const v = ai - b[j - 1]; if (v < minAbove) minAbove = v; }
  }
  return { count, maxAtMost, minAbove };
}

/** The differences with lo < a_i − b_j ≤ hi (there are `size` of them). */
function listBetween(a: Float64Array, b: Float64Array, lo: number, hi: number, size: number): Float64Array {
  const out = new Float64Array(size);
  const n = a.length, m = b.length;
  let jHi = 0, jLo = 0, w = 0;
  for (let i = 0; i < n; i++) {
    const ai = a[i];
    while (jHi < m && ai - b[jHi] > hi) jHi++;
    while (jLo < m && ai - b[jLo] > lo) jLo++;
    for (let j = jHi; j < jLo; j++) out[w++] = ai - b[j];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Two-valued data (e.g. per-request error = 1, success = 0).

export interface BinaryRankSumTest extends RankSumTest {
  aEvents: number;
  bEvents: number;
}

/**
 * The Mann–Whitney test on 0/1 data: canary has `aEvents` ones out of `n`, baseline `bEvents` out of `m`.
 * All observations fall in two tie groups, so U = x·(m − y) + ½·(x·y + (n − x)(m − y)) is an increasing
 * function of x = aEvents given the margins, and the exact permutation distribution of U is the
 * hypergeometric distribution of x — i.e. this is Fisher's exact test. The exact p is cheap
 * (O(number of support points), summed outward from the mode), so it is always used: the tie-corrected
 * normal approximation (reported as z, it equals Pearson's χ² z without continuity correction) is
 * anti-conservative exactly where error counts are small. Two-sided p doubles the smaller tail.
 */
export function binaryRankSum(aEvents: number, n: number, bEvents: number, m: number): BinaryRankSumTest {
  const x = aEvents, y = bEvents, K = x + y, N = n + m;
  const mean = (n * m) / 2;
  const u = x * (m - y) + 0.5 * (x * y + (n - x) * (m - y));
  const base = { n, m, u, mean, aEvents, bEvents, method: 'exact' as const };
  if (n === 0 || m === 0 || K === 0 || K === N) return { ...base, sd: 0, z: 0, pGreater: 1, pLess: 1, pValue: 1, ties: N > 1 };
  const tieSum = K * K * K - K + (N - K) ** 3 - (N - K);
  const sd = Math.sqrt(((n * m) / 12) * (N + 1 - tieSum / (N * (N - 1))));
  const z = sd > 0 ? (u - mean) / sd : 0;
  const { lower, upper } = hypergeometricTails(x, N, K, n);
  return { ...base, sd, z, pGreater: upper, pLess: lower, pValue: Math.min(1, 2 * Math.min(lower, upper)), ties: true };
}

/**
 * P(X ≤ x) and P(X ≥ x) for X ~ Hypergeometric(population N, K successes, n draws). Weights are built
 * from the mode outward with the pmf ratio and normalised by their sum, so no factorials are needed;
 * terms below 1e-300 of the mode underflow to 0 and are dropped (tails under ~1e-300 read as 0).
 */
export function hypergeometricTails(x: number, N: number, K: number, n: number): { lower: number; upper: number } {
  const lo = Math.max(0, n - (N - K)), hi = Math.min(n, K);
  if (x < lo) return { lower: 0, upper: 1 };
  if (x > hi) return { lower: 1, upper: 0 };
  const mode = Math.min(hi, Math.max(lo, Math.floor(((n + 1) * (K + 1)) / (N + 2))));
  // pmf(t+1)/pmf(t) = (K − t)(n − t) / ((t + 1)(N − K − n + t + 1))
  let total = 1, below = 0, above = 0; // sums of weights strictly below / above x (mode weight 1)
  const add = (t: number, w: number) => { total += w; if (t < x) below += w; else if (t > x) above += w; };
  let w = 1, atX = x === mode ? 1 : 0;
  for (let t = mode; t < hi; t++) {
    w *= ((K - t) * (n - t)) / ((t + 1) * (N - K - n + t + 1));
    if (w < 1e-300) break;
    if (t + 1 === x) atX = w;
    add(t + 1, w);
  }
  w = 1;
  for (let t = mode; t > lo; t--) {
    w *= (t * (N - K - n + t)) / ((K - t + 1) * (n - t + 1));
    if (w < 1e-300) break;
    if (t - 1 === x) atX = w;
    add(t - 1, w);
  }
  if (mode < x) below += 1; else if (mode > x) above += 1;
  return { lower: clamp01((below + atX) / total), upper: clamp01((above + atX) / total) };
}

function sortFinite(xs: ArrayLike<number>): Float64Array {
  const out: number[] = [];
  for (let i = 0; i < xs.length; i++) if (Number.isFinite(xs[i])) out.push(xs[i]);
  return Float64Array.from(out).sort();
}

const clamp01 = (p: number) => Math.min(1, Math.max(0, p));
