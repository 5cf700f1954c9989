// The three canary metrics: how each turns observations into samples, which test it runs, what its
// effect is, and when it is High/Low. Pure; judge.ts combines the verdicts.
//
// The rule shared by every metric (documented in judge.ts, "Deciding High/Low"):
//   High ⇔ the metric's two-sided p < alpha (the per-look level), the evidence points up,
//          AND the point estimate of the effect (canary − baseline) > margin,
//   Low  ⇔ the same downwards (effect < −margin),
//   margin = max(tolerance × |baseline level|, minEffect).
// Harm is "higher" for all three metrics: High fails the metric, Low (an improvement) does not.

import { blockTest, type BlockTest } from './blocks.ts';
import { binaryRankSum, hodgesLehmannSorted, mannWhitneySorted, type RankSumTest } from './mannwhitney.ts';
import { normalQuantile } from './normal.ts';
import { newcombeDifference } from './proportions.ts';
import { median, pooledQuantile, quantileSorted, quantileStandardError, upperBound, within } from './quantile.ts';
import type { MetricName, MetricVerdict, Observation } from './types.ts';

export const METRIC_NAMES: readonly MetricName[] = ['error_rate', 'latency_p50', 'latency_p99'];
export const DEFAULT_MIN_EFFECT: Readonly<Record<MetricName, number>> = { error_rate: 0.001, latency_p50: 1, latency_p99: 1 };
/** Tukey factor for cleaning latency_p50 samples (Kayenta's 3.0). Never applied to latency_p99. */
export const IQR_FACTOR = 3;
/** latency_p50 skips the cleaning when it would remove more than this share of either group. */
export const MAX_CLEANED = 0.05;
/** Below this many successful requests per group the latency_p99 reason warns that the test has little power. */
export const FEW_FOR_P99 = 100;

/** One group's observations reduced to what the metrics use. */
export interface Samples {
  count: number;            // observations (requests)
  errors: number;
  latency: Float64Array;    // ascending latencies (ms) of successful requests; NaN/±Inf/negative dropped
  ordered: Float64Array;    // the same latencies in the order observed (blocks.ts: runs of slow requests)
}

export function prepare(observations: readonly Observation[]): Samples {
  let errors = 0, k = 0;
  const lat = new Float64Array(observations.length);
  for (const o of observations) {
    if (o.error) errors++;
    else if (Number.isFinite(o.latencyMs) && o.latencyMs >= 0) lat[k++] = o.latencyMs;
  }
  const ordered = lat.subarray(0, k);
  return { count: observations.length, errors, latency: ordered.slice().sort(), ordered };
}

export interface MetricContext {
  alpha: number;            // per-look two-sided level
  tolerance: number;
  minEffect: number;
  minLatencySamples: number;
  weight: number;
  guard?: number;
  /**
   * Treat requests as independent: the latency metrics run their per-request test alone, as before the
   * block test (blocks.ts). Not configurable; the benchmark uses it to show what the block test changes.
   */
  independent?: boolean;
}

export function evaluateMetric(name: MetricName, canary: Samples, baseline: Samples, ctx: MetricContext): MetricVerdict {
  switch (name) {
    case 'error_rate': return errorRate(canary, baseline, ctx);
    case 'latency_p50': return latencyP50(canary, baseline, ctx);
    case 'latency_p99': return latencyP99(canary, baseline, ctx);
  }
}

/** A NoData verdict (with whatever levels are known, so the record still shows them). */
export function noData(metric: MetricName, canary: number, baseline: number, ctx: MetricContext, reason: string, canarySamples = 0, baselineSamples = 0): MetricVerdict {
  return {
    metric, result: 'NoData', canary, baseline, pValue: null, effect: null, lower: null, upper: null, guardExceeded: false,
    reason, failed: false, headline: `${metric}: no data (${reason})`, margin: null, alpha: ctx.alpha, weight: ctx.weight,
    canarySamples, baselineSamples, test: 'none',
  };
}

// ---------------------------------------------------------------------------------------------
// error_rate
//
// Samples: one 0/1 outcome per request (1 = error). Not per-sub-interval rates: at a 1 % error rate a
// 5-second bucket of 100 requests holds 0, 1 or 2 errors, so bucket rates are mostly ties and throw
// away most of the information; the per-request comparison is the most powerful test there is for
// two rates (Fisher's test is UMP-unbiased). The Mann–Whitney test on 0/1 data *is* that test: its
// exact permutation distribution is hypergeometric, so we use it exactly (binaryRankSum).
// Assumption: requests are independent given the release. Shared incidents (a dependency blip) hit
// canary and baseline alike — which is why the baseline is a fresh deployment on the same traffic.
// Unlike the latency metrics, error_rate has no block test (blocks.ts): a stalled or paused process
// makes requests slow, not failed (unless it outlasts a timeout), and in the end-to-end runs whose
// latency verdicts failed unchanged releases the error verdicts did not. A block test would cost power
// exactly where the goal is tight (rare events, 97.7 % detection of a doubled 1 % at 120 req/s per
// group), and a burst of one group's errors (a crash loop) is a regression to stop, not noise.
// Effect: difference of rates (canary − baseline), with Newcombe's interval. The Hodges–Lehmann
// estimate is useless here: the median of 0/1 differences is 0 unless more than half the requests fail.
// Margin: max(tolerance × baseline rate, 0.1 pt). Near a 0 % baseline the relative part vanishes and
// significance alone would decide; the 0.1-pt floor keeps a busy service from failing a canary over an
// immaterial absolute change (0.01 % → 0.05 % over 100,000 requests is p ≈ 1e-7 but +0.04 pts), while
// a new failure mode is still caught from zero: 0 → 10 errors in 1,200 requests is +0.8 pts, p ≈ 0.002.

function errorRate(c: Samples, b: Samples, ctx: MetricContext): MetricVerdict {
  const metric: MetricName = 'error_rate';
  const rc = c.count > 0 ? c.errors / c.count : NaN;
  const rb = b.count > 0 ? b.errors / b.count : NaN;
  if (c.count === 0 || b.count === 0) return noData(metric, rc, rb, ctx, `no requests: canary ${c.count}, baseline ${b.count}`);
  const t = binaryRankSum(c.errors, c.count, b.errors, b.count);
  const ci = newcombeDifference(c.errors, c.count, b.errors, b.count, 1 - ctx.alpha);
  const margin = Math.max(ctx.tolerance * Math.abs(rb), ctx.minEffect);
  const cls = classify(t.pGreater, t.pLess, ctx.alpha, ci.estimate, margin, fmtPts);
  const guardExceeded = ctx.guard !== undefined && rc > ctx.guard;
  const result = guardExceeded ? 'High' : cls.result;
  const levels = `canary ${fmtPct(rc)} (${c.errors}/${c.count}) vs baseline ${fmtPct(rb)} (${b.errors}/${b.count})`;
  const effect = `${fmtPts(ci.estimate)} [${fmtLevel(1 - ctx.alpha)} CI ${fmtPts(ci.lower)}..${fmtPts(ci.upper)}]`;
  const reason = [
    `${levels}, ${effect}, p=${fmtP(t.pValue)} (exact)`,
    guardExceeded ? `over the absolute guard max_error_rate ${fmtPct(ctx.guard!)}` : '',
    `${cls.result}: ${cls.why}`,
  ].filter(Boolean).join('; ');
  return {
    metric, result, canary: rc, baseline: rb, pValue: t.pValue, effect: ci.estimate, lower: ci.lower, upper: ci.upper, guardExceeded, reason,
    failed: result === 'High',
    headline: `${metric}: canary ${fmtPct(rc)} vs baseline ${fmtPct(rb)}, ${fmtPts(ci.estimate)}, p=${fmtP(t.pValue)}${guardExceeded ? `, over guard ${fmtPct(ctx.guard!)}` : ''}`,
    margin, alpha: ctx.alpha, weight: ctx.weight, canarySamples: c.count, baselineSamples: b.count,
    test: 'Mann–Whitney on per-request 0/1 errors, exact (= Fisher exact test)',
  };
}

// ---------------------------------------------------------------------------------------------
// latency_p50
//
// Samples: the raw latency of every successful request (errors are error_rate's business; a fast 500
// would otherwise look like a latency win and a slow timeout be counted twice). Outliers beyond the
// pooled Tukey fences Q1/Q3 ∓ 3·IQR are removed (Kayenta's cleaning), with two guard rails so that
// cleaning can never hide a regression: the fences are computed on both groups together, so one rule
// trims both (per-group fences move with each group and would trim a slow canary by its own, slower,
// standard); and if the fences would remove more than MAX_CLEANED (5 %) of either group, nothing is
// removed — then the "outliers" are the canary's actual latency (e.g. 50 canary requests all 10×
// slower than 5,000 baseline ones would otherwise all be cleaned away). For a rank test and a median
// shift, cleaning changes little either way (an outlier only moves one rank); it is kept for parity
// with Kayenta and never applied to latency_p99.
// Test: Mann–Whitney (normal approximation with tie correction; exact below 50 per group without ties),
// and the block test (blocks.ts) on the same statistic — the pooled mid-ranks of the kept latencies, in
// observed order, cut into consecutive blocks; the larger p decides. The mean-rank difference is the
// rank-sum statistic, so the two tests differ only in its variance: the permutation variance (requests
// independent) or the spread of block means (runs of slow requests allowed).
// Effect: Hodges–Lehmann shift (median of all pairwise differences) with its Moses interval, widened
// when the design effect is above 1 (the rank-sum sd × √design effect: the interval of the block test,
// approximately — it uses the normal, not t).
// Level: the group medians. Margin: max(tolerance × baseline median, 1 ms).

function latencyP50(c: Samples, b: Samples, ctx: MetricContext): MetricVerdict {
  const metric: MetricName = 'latency_p50';
  const mc = median(c.latency), mb = median(b.latency);
  const short = tooFewLatencies(c, b, ctx);
  if (short) return noData(metric, mc, mb, ctx, short, c.latency.length, b.latency.length);
  const q1 = pooledQuantile(c.latency, b.latency, 0.25), q3 = pooledQuantile(c.latency, b.latency, 0.75);
  const low = q1 - IQR_FACTOR * (q3 - q1), high = q3 + IQR_FACTOR * (q3 - q1);
  let cc = within(c.latency, low, high), bb = within(b.latency, low, high);
  const share = Math.max(1 - cc.length / c.latency.length, 1 - bb.length / b.latency.length);
  const cleaned = share <= MAX_CLEANED;
  if (!cleaned) { cc = c.latency; bb = b.latency; } // the "outliers" are the canary's latency: keep them
  const removed = c.latency.length - cc.length + b.latency.length - bb.length;
  const t = mannWhitneySorted(cc, bb);
  let bt: BlockTest | null = null;
  if (!ctx.independent) {
    // scores: pooled mid-ranks in observed order; their mean difference is the rank-sum statistic
    const n = cc.length, m = bb.length;
    const [lo, hi] = cleaned ? [low, high] : [-Infinity, Infinity];
    bt = blockTest(midRanks(c.ordered, lo, hi, cc, bb), midRanks(b.ordered, lo, hi, bb, cc), ((n + m) * t.sd / (n * m)) ** 2);
  }
  const p = combine(t, bt);
  const hl = hodgesLehmannSorted(cc, bb, 1 - ctx.alpha, widened(t, bt));
  const margin = Math.max(ctx.tolerance * Math.abs(mb), ctx.minEffect);
  const cls = classify(p.pGreater, p.pLess, ctx.alpha, hl.estimate, margin, fmtMsDelta);
  const reason = [
    `canary median ${fmtMs(mc)} vs baseline ${fmtMs(mb)}, shift ${fmtMsDelta(hl.estimate)} (Hodges–Lehmann) ` +
      `[${fmtLevel(1 - ctx.alpha)} CI ${fmtMsDelta(hl.lower)}..${fmtMsDelta(hl.upper)}], p=${fmtP(p.pValue)} ` +
      `(${cc.length} vs ${bb.length} latencies, ` +
      (cleaned ? `${removed} beyond 3×IQR removed)` : `no cleaning: 3×IQR would remove ${fmtPct(share)} of a group)`),
    bt ? blockNote(t, bt) : '',
    `${cls.result}: ${cls.why}`,
  ].filter(Boolean).join('; ');
  return {
    metric, result: cls.result, canary: mc, baseline: mb, pValue: p.pValue, effect: hl.estimate, lower: hl.lower, upper: hl.upper,
    guardExceeded: false, reason, failed: cls.result === 'High',
    headline: `${metric}: canary ${fmtMs(mc)} vs baseline ${fmtMs(mb)}, ${fmtMsDelta(hl.estimate)} (${fmtRel(hl.estimate, mb)}), p=${fmtP(p.pValue)}`,
    margin, alpha: ctx.alpha, weight: ctx.weight, canarySamples: cc.length, baselineSamples: bb.length,
    test: `Mann–Whitney (${t.method}${t.ties ? ', tie-corrected' : ''}) on latencies of successful requests, pooled 3×IQR cleaning` +
      (bt ? `; ${blockTestName(bt, 'mean ranks')}` : ''),
  };
}

// ---------------------------------------------------------------------------------------------
// latency_p99
//
// The question is "are more canary requests slow, in the p99 sense?". The test:
//   t = the pooled p99 of canary + baseline latencies (successful requests; NO outlier removal — a
//       3×IQR fence sits near the p99 of a typical latency distribution and would delete the very
//       regression this metric exists to see);
//   each request becomes 1 if slower than t, else 0, and the two groups' 0/1 samples are compared by
//   the exact Mann–Whitney test for 0/1 data (binaryRankSum = Fisher's exact test).
// Under H0 the pooled sample is exchangeable and t is a symmetric function of it, so the labels of the
// requests above t are a uniformly random split: the test is exact, whatever the latency
// distribution, ties included (ties at t count as "not above" for both groups alike) — as long as
// requests are independent. A paused process sends a whole run of its requests above t at once, so
// the same 0/1 scores also go through the block test (blocks.ts) and the larger p decides; the p99
// interval below is widened by √(design effect) for the same reason.
// Why not the alternatives: per-window p99s (5-s windows of 100 requests) make p99 ≈ the 2nd-largest
// value of each window and leave a few noisy numbers per group; Mann–Whitney on all raw latencies is
// dominated by the body (it is latency_p50's test) and blind to a tail-only regression; Mann–Whitney
// on the observations above the pooled p90, tried in the benchmark's model, had under half the power
// of this test for a tail that is 1.5× at p99, because most of a p90 tail barely moves. A p99
// regression is, by definition, a larger share of requests beyond the old p99 (1 % → ~2.2 % in the
// benchmark), and this is the exact test of that share.
// Effect: the difference of the sample p99s (canary − baseline, ms) — the number operators read; its
// interval uses distribution-free order-statistic standard errors (quantile.ts). Margin: max(tolerance ×
// baseline p99, 1 ms). The test decides "is the tail worse", the p99 estimate decides "by enough".
// Small samples: the test stays exact at any size, it just cannot reject with a handful of requests
// above t (≈ 1 % of the pooled requests), so below FEW_FOR_P99 per group the metric still judges —
// like the others, above the operator's min_requests — and its reason says the p99 is barely estimable.

function latencyP99(c: Samples, b: Samples, ctx: MetricContext): MetricVerdict {
  const metric: MetricName = 'latency_p99';
  const qc = quantileSorted(c.latency, 0.99), qb = quantileSorted(b.latency, 0.99);
  const short = tooFewLatencies(c, b, ctx);
  if (short) return noData(metric, qc, qb, ctx, short, c.latency.length, b.latency.length);
  const threshold = pooledQuantile(c.latency, b.latency, 0.99);
  const kc = c.latency.length - upperBound(c.latency, threshold);
  const kb = b.latency.length - upperBound(b.latency, threshold);
  const t = binaryRankSum(kc, c.latency.length, kb, b.latency.length);
  let bt: BlockTest | null = null;
  if (!ctx.independent) {
    const n = c.latency.length, m = b.latency.length, N = n + m, q = (kc + kb) / N;
    bt = blockTest(above(c.ordered, threshold), above(b.ordered, threshold), (q * (1 - q) * (1 / n + 1 / m) * N) / (N - 1));
  }
  const p = combine(t, bt);
  const effect = qc - qb;
  // order-statistic errors assume independent requests; clustering inflates them like the test's variance
  const se = Math.hypot(quantileStandardError(c.latency, 0.99), quantileStandardError(b.latency, 0.99)) * Math.sqrt(inflation(bt));
  const half = normalQuantile(1 - ctx.alpha / 2) * se;
  const margin = Math.max(ctx.tolerance * Math.abs(qb), ctx.minEffect);
  const cls = classify(p.pGreater, p.pLess, ctx.alpha, effect, margin, fmtMsDelta);
  const guardExceeded = ctx.guard !== undefined && qc > ctx.guard;
  const result = guardExceeded ? 'High' : cls.result;
  const reason = [
    `canary p99 ${fmtMs(qc)} vs baseline ${fmtMs(qb)}, ${fmtMsDelta(effect)} (${fmtRel(effect, qb)}) ` +
      `[${fmtLevel(1 - ctx.alpha)} CI ${fmtMsDelta(effect - half)}..${fmtMsDelta(effect + half)}]; ` +
      `slower than the pooled p99 ${fmtMs(threshold)}: canary ${kc}/${c.latency.length} (${fmtPct(kc / c.latency.length)}), ` +
      `baseline ${kb}/${b.latency.length} (${fmtPct(kb / b.latency.length)}), p=${fmtP(p.pValue)}`,
    bt ? blockNote(t, bt) : '',
    guardExceeded ? `over the absolute guard max_latency_p99 ${fmtMs(ctx.guard!)}` : '',
    `${cls.result}: ${cls.why}`,
    Math.min(c.latency.length, b.latency.length) < FEW_FOR_P99
      ? `few requests: a p99 of under ${FEW_FOR_P99} values is about the maximum, and this test has little power until there are several hundred`
      : '',
  ].filter(Boolean).join('; ');
  return {
    metric, result, canary: qc, baseline: qb, pValue: p.pValue, effect, lower: effect - half, upper: effect + half, guardExceeded, reason,
    failed: result === 'High',
    headline: `${metric}: canary ${fmtMs(qc)} vs baseline ${fmtMs(qb)}, ${fmtMsDelta(effect)} (${fmtRel(effect, qb)}), ` +
      `${fmtPct(kc / c.latency.length)} vs ${fmtPct(kb / b.latency.length)} slower than ${fmtMs(threshold)}, p=${fmtP(p.pValue)}` +
      (guardExceeded ? `, over guard ${fmtMs(ctx.guard!)}` : ''),
    margin, alpha: ctx.alpha, weight: ctx.weight, canarySamples: c.latency.length, baselineSamples: b.latency.length,
    test: 'exact Mann–Whitney on 0/1 "slower than the pooled p99" (= Fisher exact test)' + (bt ? `; ${blockTestName(bt, '0/1 shares')}` : ''),
  };
}

// ---------------------------------------------------------------------------------------------
// Serial correlation (blocks.ts has the reasoning): each latency metric also runs the block test on
// its per-request scores, and on each side the larger of the two p-values decides.

const blockTestName = (bt: BlockTest, what: string) =>
  `Welch t on ${bt.canaryBlocks} + ${bt.baselineBlocks} consecutive blocks' ${what} (serial correlation); p = the larger of the two`;

function combine(t: RankSumTest, bt: BlockTest | null): { pGreater: number; pLess: number; pValue: number } {
  const pGreater = bt ? Math.max(t.pGreater, bt.pGreater) : t.pGreater;
  const pLess = bt ? Math.max(t.pLess, bt.pLess) : t.pLess;
  return { pGreater, pLess, pValue: Math.min(1, 2 * Math.min(pGreater, pLess)) };
}

/** The factor by which clustering inflates the variance of per-request estimates: the design effect, never below 1. */
function inflation(bt: BlockTest | null): number {
  return bt && bt.designEffect > 1 ? bt.designEffect : 1;
}

/** The rank-sum test with its variance inflated by the design effect — for the Moses interval only. */
function widened(t: RankSumTest, bt: BlockTest | null): RankSumTest {
  const f = inflation(bt);
  return f > 1 ? { ...t, method: 'normal', sd: t.sd * Math.sqrt(f) } : t;
}

function blockNote(t: RankSumTest, bt: BlockTest): string {
  const decides = Math.min(bt.pGreater, bt.pLess) > Math.min(t.pGreater, t.pLess) ? 'blocks decide' : 'per-request test decides';
  return `per request p=${fmtP(t.pValue)}${t.method === 'exact' ? ' (exact)' : ''}, in ${bt.canaryBlocks} + ${bt.baselineBlocks} blocks ` +
    `p=${fmtP(bt.pValue)}${Number.isFinite(bt.df) ? ` (t, ${bt.df.toFixed(0)} df)` : ''}, design effect ` +
    `${Number.isFinite(bt.designEffect) ? bt.designEffect.toFixed(2) : 'n/a'}: ${decides}`;
}

/**
 * Pooled mid-ranks (1-based, among `own` ∪ `other`, both ascending) of the values of `ordered` inside
 * [low, high] — the latency_p50 cleaning, as `within` applies it to the sorted samples — in observed order.
 * `own` holds exactly those values.
 */
function midRanks(ordered: Float64Array, low: number, high: number, own: Float64Array, other: Float64Array): Float64Array {
  // one merge pass gives the mid-rank of every position of `own`; each value then needs one search
  const rankOfOwn = new Float64Array(own.length);
  for (let i = 0, j = 0; i < own.length;) {
    const v = own[i];
    while (j < other.length && other[j] < v) j++;
    let ca = 1, cb = 0;
    while (i + ca < own.length && own[i + ca] === v) ca++;
    while (j + cb < other.length && other[j + cb] === v) cb++;
    const r = i + j + (ca + cb + 1) / 2;
    for (const end = i + ca; i < end; i++) rankOfOwn[i] = r;
  }
  const out = new Float64Array(own.length);
  for (let k = 0, w = 0; k < ordered.length; k++) {
    const x = ordered[k];
    if (!(x >= low && x <= high)) continue;
    let lo = 0, hi = own.length;
    while (lo < hi) { const mid = (lo + hi) >>> 1; if (own[mid] < x) lo = mid + 1; else hi = mid; }
    out[w++] = rankOfOwn[lo];
  }
  return out;
}

/** 1 where the latency is above `threshold`, else 0, in observed order. */
function above(ordered: Float64Array, threshold: number): Float64Array {
  return ordered.map((x) => (x > threshold ? 1 : 0));
}

function tooFewLatencies(c: Samples, b: Samples, ctx: MetricContext): string | null {
  if (c.latency.length >= ctx.minLatencySamples && b.latency.length >= ctx.minLatencySamples) return null;
  return `too few successful requests with a latency: canary ${c.latency.length}, baseline ${b.latency.length}, need ${ctx.minLatencySamples}`;
}

// ---------------------------------------------------------------------------------------------

function classify(pUp: number, pDown: number, alpha: number, effect: number, margin: number, fmt: (x: number) => string):
  { result: 'Pass' | 'High' | 'Low'; why: string } {
  const p = Math.min(1, 2 * Math.min(pUp, pDown));
  if (!(p < alpha)) return { result: 'Pass', why: `not significant (p=${fmtP(p)} >= alpha ${fmtP(alpha)})` };
  const up = pUp <= pDown;
  const m = fmt(margin).replace(/^\+/, '');
  if (up && effect > margin) return { result: 'High', why: `significant (p < ${fmtP(alpha)}) and ${fmt(effect)} exceeds the margin ${m}` };
  if (!up && effect < -margin) return { result: 'Low', why: `significant (p < ${fmtP(alpha)}) and ${fmt(effect)} is below -${m}` };
  return { result: 'Pass', why: `significant but ${fmt(effect)} is within the margin ±${m}` };
}

export function fmtP(p: number): string {
  if (p === 0) return '<1e-300';
  if (p < 0.001) return p.toExponential(1);
  return String(Number(p.toPrecision(2)));
}
const fmtLevel = (c: number) => `${Number((c * 100).toPrecision(3))}%`;
export const fmtPct = (r: number) => (Number.isFinite(r) ? `${(r * 100).toFixed(r !== 0 && r < 0.001 ? 2 : 1)}%` : 'n/a');
const fmtPts = (d: number) => `${d >= 0 ? '+' : '-'}${(Math.abs(d) * 100).toFixed(Math.abs(d) < 0.001 && d !== 0 ? 2 : 1)} pts`;
export const fmtMs = (x: number) => (Number.isFinite(x) ? `${x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0)} ms` : 'n/a');
const fmtMsDelta = (d: number) => `${d >= 0 ? '+' : '-'}${fmtMs(Math.abs(d))}`;
const fmtRel = (d: number, base: number) => (base > 0 ? `${d >= 0 ? '+' : '-'}${Math.abs((d / base) * 100).toFixed(0)}%` : 'n/a');
