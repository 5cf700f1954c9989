// The canary judge: canary vs baseline observations in, an explained verdict out. Pure: no I/O, no
// clock, no randomness — the same observations always give the same verdict, so a stored verdict can
// be re-derived and a replayed judgement cannot disagree with the one that rolled a release back.
//
// Pipeline (Kayenta's, adapted): validate config → enough traffic? → per metric: samples, test, effect,
// High/Low/Pass/NoData, absolute guards → weighted score → Successful / Inconclusive / Failed.
//
// Metrics (metrics.ts has the reasoning for each):
//   error_rate   per-request 0/1 errors; exact Mann–Whitney for 0/1 data (= Fisher); effect = rate
//                difference with Newcombe's interval
//   latency_p50  latencies of successful requests, pooled 3×IQR cleaning; Mann–Whitney; effect =
//                Hodges–Lehmann shift with its Moses interval
//   latency_p99  0/1 "slower than the pooled p99" per successful request; exact test; effect = difference
//                of the sample p99s. No outlier cleaning: the 3×IQR fence sits near the p99.
//   Both latency metrics also run the block test (blocks.ts) on the same per-request scores in observed
//   order — a Welch t on 30 consecutive blocks' means per group — and take the larger p. Per-request
//   tests alone take one stalled or paused process (a run of slow requests) for a slower release: with
//   the benchmark's stalls (one instance per group on a busy host) they failed 40 % of unchanged
//   releases, the judge 0.3 %. error_rate keeps its per-request test (metrics.ts says why).
//
// Deciding High/Low:
//   High ⇔ the metric's two-sided p < alpha, the evidence points up, AND the point estimate of the effect
//          (canary − baseline) > margin;   Low: the same downwards;   otherwise Pass
//   margin = max(tolerance × |baseline level|, minEffect)      (tolerance 0.25; minEffect 0.1 pt / 1 ms)
// The test bounds false alarms; the margin keeps statistically real but immaterial differences (easy to
// find with lots of traffic) from failing a release. Harm is "higher" for all three metrics: High fails
// the metric, Low (an improvement) is reported and does not. Deliberately not Kayenta's rule "CI lower
// bound > 0.25 × |HL estimate|": that is a precision requirement, not a materiality one (with enough data
// any significant shift passes it), and the HL estimate of 0/1 error outcomes is 0. Requiring the whole
// interval to clear tolerance × baseline (a minimum-effect test) would instead roughly double the
// traffic a canary needs before it can fail; a release whose estimate is 30 % worse with p < alpha is
// worth stopping. Rates near 0: the relative margin vanishes with the baseline rate and the absolute
// floor (0.1 pt) takes over; the exact test keeps small error counts honest.
//
// Repeated looks and several metrics: the controller judges after every interval on the step's
// cumulative data, so within a step each metric is tested `looks` times (default 3). Every test runs at
//   alpha = (1 − confidence) / (looks × metrics)        (defaults: 0.02 / 9 = 0.0022 two-sided)
// with its intervals at 1 − alpha, consistent with the test. Only the harmful side (alpha/2) can fail a
// release, so by Bonferroni an unchanged release is Failed within a step with probability at most
// looks × metrics × alpha/2 = (1 − confidence)/2 = 1 %, whatever the correlation between looks and
// metrics. That is conservative (cumulative looks share most of their data; the latency margins
// almost never let noise through) — the benchmark measures ~0.1–0.2 %. Group-sequential boundaries
// (Pocock, O'Brien–Fleming spending) would buy ~5 % of traffic back but need the look index and equal
// information per look; Bonferroni needs neither, so irregular intervals (traffic dips) stay covered.
// Below minObservations requests per group nothing but Inconclusive is returned.
//
// Score and outcome: score = 100 × Σ weight(metrics that did not fail) / Σ weight(metrics with data).
//   too little traffic (either group < minObservations)      → Inconclusive (score 0), says how much
//   any absolute guard exceeded                              → Failed (guards are hard limits)
//   score < marginalScore                                    → Failed, naming the failing metrics
//   a metric without data                                    → Inconclusive (never Successful unchecked)
//   score ≥ passScore → Successful; otherwise                → Inconclusive (marginal)
// Defaults: pass 95, marginal 75. With the three default metrics at equal weight any failing metric
// gives 66.7 → Failed; the marginal band matters once weights or more metrics are configured.
//
// What traffic buys (benchmark, defaults): a doubled 1 % error rate or a tail-only p99 × 1.5 is caught
// ≥ 95 % of the time within 3 × 20 s at ~120 req/s per group (7,200 requests each); at 20 req/s per group
// not even an uncorrected single test told what to look for gets 40 %. Gross regressions (10 % errors,
// +50 % latency) fail at the first look with 400 requests. The block test costs the p99 metric about a
// point of detection at 100–120 req/s per group (p99 × 1.5: 98.1 % → 97.5 % at 120) and needs ~100
// requests per group before +50 % latency fails reliably (blocks.ts).

import { SlipwayError } from '../core/errors.ts';
import { DEFAULT_MIN_EFFECT, METRIC_NAMES, evaluateMetric, fmtMs, fmtPct, noData, prepare, type MetricContext } from './metrics.ts';
import { median, quantileSorted } from './quantile.ts';
import type { AnalysisConfig, MetricName, MetricVerdict, Observation, Verdict } from './types.ts';

/** Defaults (frozen: spread it and override, `{ ...DEFAULT_ANALYSIS, maxErrorRate: 0.05 }`). */
export const DEFAULT_ANALYSIS: AnalysisConfig = Object.freeze<AnalysisConfig>({
  metrics: Object.freeze(['error_rate', 'latency_p50', 'latency_p99']) as AnalysisConfig['metrics'],
  confidence: 0.98,
  tolerance: 0.25,
  passScore: 95,
  marginalScore: 75,
  minObservations: 50,
  looks: 3,
});

/** The router's view of one request as an Observation: an error is status >= 500 or no response (null). */
export function observation(status: number | null, latencyMs: number): Observation {
  return { latencyMs, error: status === null || status >= 500 };
}

export function judge(canary: Observation[], baseline: Observation[], config: AnalysisConfig): Verdict {
  validate(config);
  const looks = config.looks ?? 3;
  const metrics = [...new Set(config.metrics)];
  const alpha = (1 - config.confidence) / (looks * metrics.length);
  const c = prepare(canary), b = prepare(baseline);
  const ctx = (name: MetricName): MetricContext => ({
    alpha,
    tolerance: config.tolerance,
    minEffect: config.minEffect?.[name] ?? DEFAULT_MIN_EFFECT[name],
    minLatencySamples: Math.ceil(config.minObservations / 2),
    weight: config.weights?.[name] ?? 1,
    guard: name === 'error_rate' ? config.maxErrorRate : name === 'latency_p99' ? config.maxLatencyP99Ms : undefined,
  });
  const counts = { canaryCount: c.count, baselineCount: b.count };

  if (c.count < config.minObservations || b.count < config.minObservations) {
    const short = [c.count < config.minObservations ? `canary ${c.count} requests` : '', b.count < config.minObservations ? `baseline ${b.count} requests` : '']
      .filter(Boolean).join(', ');
    const reason = `too little traffic: ${short}, need ${config.minObservations}`;
    const level = (name: MetricName, s: typeof c) =>
      name === 'error_rate' ? (s.count ? s.errors / s.count : NaN) : name === 'latency_p50' ? median(s.latency) : quantileSorted(s.latency, 0.99);
    return {
      outcome: 'Inconclusive', score: 0, summary: reason, ...counts,
      metrics: metrics.map((name) => noData(name, level(name, c), level(name, b), ctx(name), reason, name === 'error_rate' ? c.count : c.latency.length, name === 'error_rate' ? b.count : b.latency.length)),
    };
  }

  const verdicts = metrics.map((name) => evaluateMetric(name, c, b, ctx(name)));
  const withData = verdicts.filter((v) => v.result !== 'NoData');
  const failing = verdicts.filter((v) => v.failed);
  const total = withData.reduce((s, v) => s + v.weight, 0);
  const kept = withData.reduce((s, v) => s + (v.failed ? 0 : v.weight), 0);
  const score = total > 0 ? Math.round((1000 * kept) / total) / 10 : 0;
  const missing = verdicts.filter((v) => v.result === 'NoData');
  const verdict = (outcome: Verdict['outcome'], summary: string): Verdict => ({ outcome, score, metrics: verdicts, summary, ...counts });
  const failures = failing.map((v) => v.headline).join('; ');

  if (failing.some((v) => v.guardExceeded)) {
    return verdict('Failed', `Failed: absolute guard exceeded (score ${score}). ${failures}`);
  }
  if (withData.length === 0) return verdict('Inconclusive', `no metric has data: ${missing.map((v) => `${v.metric}: ${v.reason}`).join('; ')}`);
  if (total === 0) return verdict('Inconclusive', `the metrics with data all have weight 0: ${withData.map((v) => v.metric).join(', ')}`);
  if (score < config.marginalScore) return verdict('Failed', `Failed: score ${score} < ${config.marginalScore}. ${failures}`);
  if (missing.length > 0) {
    return verdict('Inconclusive', `Inconclusive: score ${score} but no data for ${missing.map((v) => `${v.metric} (${v.reason})`).join(', ')}` +
      (failing.length ? `; failing: ${failures}` : ''));
  }
  if (score >= config.passScore) {
    const passed = verdicts.map((v) => shortLevel(v)).join('; ');
    return verdict('Successful', `Successful: score ${score} >= ${config.passScore}${failing.length ? ` despite ${failures}` : ''}. ${passed}`);
  }
  return verdict('Inconclusive', `Inconclusive: marginal score ${score} (pass ${config.passScore}, marginal ${config.marginalScore}). ${failures}`);
}

function shortLevel(v: MetricVerdict): string {
  const fmt = v.metric === 'error_rate' ? fmtPct : fmtMs;
  return `${v.metric} ${v.result} (${fmt(v.canary)} vs ${fmt(v.baseline)})`;
}

function validate(config: AnalysisConfig): void {
  const bad = (key: string, message: string) => {
    throw new SlipwayError('analysis.invalid_config', `analysis.${key}: ${message}`, {
      hint: 'defaults: confidence 0.98, tolerance 0.25, pass_score 95, marginal_score 75, min_observations 50, metrics error_rate, latency_p50, latency_p99',
    });
  };
  if (!Array.isArray(config.metrics) || config.metrics.length === 0) bad('metrics', 'at least one metric is required');
  for (const m of config.metrics) if (!METRIC_NAMES.includes(m)) bad('metrics', `unknown metric "${m}" (known: ${METRIC_NAMES.join(', ')})`);
  if (!(config.confidence > 0.5 && config.confidence < 1)) bad('confidence', `must be in (0.5, 1), got ${config.confidence}`);
  if (!(config.tolerance >= 0)) bad('tolerance', `must be >= 0, got ${config.tolerance}`);
  if (!(config.marginalScore >= 0 && config.marginalScore <= config.passScore && config.passScore <= 100)) {
    bad('pass_score', `need 0 <= marginal_score <= pass_score <= 100, got ${config.marginalScore} and ${config.passScore}`);
  }
  if (!(Number.isInteger(config.minObservations) && config.minObservations >= 2)) bad('min_observations', `must be an integer >= 2, got ${config.minObservations}`);
  if (config.looks !== undefined && !(Number.isInteger(config.looks) && config.looks >= 1)) bad('looks', `must be an integer >= 1, got ${config.looks}`);
  for (const [k, w] of Object.entries(config.weights ?? {})) {
    if (!METRIC_NAMES.includes(k as MetricName)) bad(`weights.${k}`, `unknown metric (known: ${METRIC_NAMES.join(', ')})`);
    if (!(typeof w === 'number' && w >= 0 && Number.isFinite(w))) bad(`weights.${k}`, `must be a number >= 0, got ${w}`);
  }
  if (!config.metrics.some((m) => (config.weights?.[m] ?? 1) > 0)) bad('weights', 'at least one configured metric needs a weight > 0');
  for (const [k, e] of Object.entries(config.minEffect ?? {})) {
    if (!METRIC_NAMES.includes(k as MetricName)) bad(`min_effect.${k}`, `unknown metric (known: ${METRIC_NAMES.join(', ')})`);
    if (!(typeof e === 'number' && e >= 0)) bad(`min_effect.${k}`, `must be >= 0, got ${e}`);
  }
  if (config.maxErrorRate !== undefined && !(config.maxErrorRate >= 0 && config.maxErrorRate <= 1)) bad('max_error_rate', `must be in [0, 1], got ${config.maxErrorRate}`);
  if (config.maxLatencyP99Ms !== undefined && !(config.maxLatencyP99Ms > 0)) bad('max_latency_p99', `must be > 0 ms, got ${config.maxLatencyP99Ms}`);
}
