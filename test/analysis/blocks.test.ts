import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BLOCKS, MIN_BLOCK, blockCount, blockTest } from '../../src/analysis/blocks.ts';
import { DEFAULT_ANALYSIS, judge } from '../../src/analysis/judge.ts';
import { evaluateMetric, prepare, type MetricContext } from '../../src/analysis/metrics.ts';
import { regularizedBeta, studentCdf, studentSf } from '../../src/analysis/student.ts';
import type { AnalysisConfig, MetricVerdict, Observation, Verdict } from '../../src/analysis/types.ts';

const close = (actual: number, expected: number, rel: number, what = '') =>
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected) + 1e-300, `${what}: ${actual} vs ${expected} (rel ${rel})`);

test('Student t tails match SciPy, fractional degrees of freedom and far tails included', () => {
  // scipy.stats.t.sf (SciPy 1.17)
  const ref: [number, number, number][] = [
    [3.0, 58, 0.001987136092183264], [3.23, 58, 0.0010203214443742657], [-2.0, 7.5, 0.9585515023509168],
    [0.5, 1, 0.35241638234956674], [10, 3, 0.0010641995292070751], [40, 40, 3.520405287389248e-34],
    [1.2, 1e6, 0.11506981236586235], [6, 12.3, 2.8035840359641085e-05], [12, 30, 2.7900927075996303e-13],
    [100, 2, 4.999250124978129e-05],
  ];
  // (at 10⁶ df ln Γ's cancellation leaves ~1e-9; Welch's df here never exceed ~60)
  for (const [t, df, sf] of ref) close(studentSf(t, df), sf, df > 1000 ? 1e-8 : 1e-9, `sf(${t}, ${df})`);
  close(studentCdf(-12, 30), 2.7900927075996303e-13, 1e-9, 'cdf(-12, 30): the lower tail keeps its digits');
  close(studentCdf(-3.5, 4.2), 0.01149687122773869, 1e-9, 'cdf(-3.5, 4.2)');
  assert.equal(studentSf(0, 5), 0.5);
  assert.equal(studentSf(Infinity, 5), 0);
  assert.ok(Number.isNaN(studentSf(1, 0)));
  // scipy.special.betainc
  const beta: [number, number, number, number][] = [
    [0.3, 2, 3, 0.34829999999999994], [0.9, 0.5, 0.5, 0.7951672353008665], [0.01, 29, 0.5, 1.0482467320581663e-59],
    [0.999, 10, 0.5, 0.8888967091248604], [0.5, 100, 100, 0.4999999999999996],
  ];
  for (const [x, a, b, v] of beta) close(regularizedBeta(x, a, b), v, 1e-9, `I(${x}; ${a}, ${b})`);
});

test('block counts: 30 per group, blocks of at least MIN_BLOCK, never fewer than 2', () => {
  assert.equal(blockCount(100_000), BLOCKS);
  assert.equal(blockCount(BLOCKS * MIN_BLOCK), BLOCKS);
  assert.equal(blockCount(BLOCKS * MIN_BLOCK - 1), BLOCKS - 1);
  assert.equal(blockCount(50), 10);
  assert.equal(blockCount(3), 2);
});

// Deterministic sequences (LCG): independent scores, and the same scores with runs.
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return (s + 0.5) / 4294967296; };
}

test('block test: design effect ~1 on independent scores, large on runs; same statistic as the per-request test', () => {
  const u = lcg(9);
  const a = Float64Array.from({ length: 3000 }, () => u()), b = Float64Array.from({ length: 3000 }, () => u());
  const v0 = (1 / 12) * (1 / 3000 + 1 / 3000); // variance of a difference of means of U(0, 1) scores
  const iid = blockTest(a, b, v0);
  assert.equal(iid.canaryBlocks, 30);
  assert.ok(iid.designEffect > 0.6 && iid.designEffect < 1.5, `design effect ${iid.designEffect}`);
  assert.ok(iid.df > 40 && iid.df <= 58, `df ${iid.df}`);
  assert.ok(iid.pValue > 0.01);
  const mean = (x: Float64Array) => x.reduce((s, v) => s + v, 0) / x.length;
  close(iid.difference, mean(a) - mean(b), 1e-12, 'difference of the means');

  // the canary's scores come in runs of 50 equal values: as many runs as blocks would be one "request" each
  const runs = Float64Array.from({ length: 3000 }, (_, i) => a[i - (i % 50)]);
  const clustered = blockTest(runs, b, v0);
  assert.ok(clustered.designEffect > 10, `design effect ${clustered.designEffect}`);

  // constant groups: no spread, the per-request test must decide (p 0 on the side of the difference)
  const flat = blockTest(new Float64Array(100).fill(1), new Float64Array(100), 0.01);
  assert.deepEqual([flat.pGreater, flat.pLess], [0, 1]);
  const same = blockTest(new Float64Array(100), new Float64Array(100), 0);
  assert.deepEqual([same.pGreater, same.pLess, same.pValue], [1, 1, 1]);
  assert.equal(blockTest([1], [1, 2, 3], 1).pValue, 1, 'a group of 1 has no block spread');
});

// ---------------------------------------------------------------------------------------------
// The judge on a busy host: each group's process stalls now and then, slowing a run of consecutive
// requests. Both groups run the same release; the canary merely had more stalls in this window.

function traffic(seed: number) {
  const u = lcg(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  /**
   * n requests of a fast service (lognormal, median `median` ms, σ 0.5) × `factor`, 1 % errors; stalls at
   * the given request indices, each delaying the next `run` requests by the stall's remaining time
   * (stallMs at the first, falling to ~0 at the last) — what arrives during a descheduled process.
   */
  return (n: number, stalls: number[], { run = 40, stallMs = 40, factor = 1, median = 2 } = {}): Observation[] => {
    const out = Array.from({ length: n }, () => ({ latencyMs: factor * median * Math.exp(0.5 * gauss()), error: u() < 0.01 }));
    for (const at of stalls) for (let k = 0; k < run && at + k < n; k++) out[at + k].latencyMs += stallMs * (1 - k / run);
    return out;
  };
}
const canaryGen = traffic(11), baselineGen = traffic(12);
const spread = (n: number, k: number, offset = 0) => Array.from({ length: k }, (_, i) => Math.floor(((i + 0.5) * n) / k) + offset);
const metric = (v: Verdict, name: string): MetricVerdict => v.metrics.find((m) => m.metric === name)!;
const cfg = (over: Partial<AnalysisConfig> = {}): AnalysisConfig => ({ ...DEFAULT_ANALYSIS, ...over });
const ctx = (over: Partial<MetricContext> = {}): MetricContext => ({ alpha: 0.02 / 9, tolerance: 0.25, minEffect: 1, minLatencySamples: 25, weight: 1, ...over });

test('clustered A/A: a canary with more stalls than its baseline is not failed (per-request tests alone fail it)', () => {
  // 3,750 requests per group (1,250 req/s for 3 s); 9 stalls in the canary, 3 in the baseline, 40 requests each
  const c = canaryGen(3750, spread(3750, 9)), b = baselineGen(3750, spread(3750, 3, 200));
  const v = judge(c, b, DEFAULT_ANALYSIS);
  assert.notEqual(v.outcome, 'Failed', v.summary);
  const p99 = metric(v, 'latency_p99');
  assert.equal(p99.result, 'Pass', p99.reason);
  assert.match(p99.reason, /per request p=[0-9.e-]+ \(exact\), in 30 \+ 30 blocks p=[0-9.e-]+ \(t, \d+ df\), design effect \d+\.\d\d: blocks decide/);
  const deff = Number(/design effect (\d+\.\d+)/.exec(p99.reason)![1]);
  assert.ok(deff > 3, `design effect ${deff}`);
  assert.match(p99.test, /Welch t on 30 \+ 30 consecutive blocks' 0\/1 shares/);

  // the same data, requests taken as independent (the judge before the block test): latency_p99 fails
  const old = evaluateMetric('latency_p99', prepare(c), prepare(b), ctx({ independent: true }));
  assert.equal(old.result, 'High', old.reason);
  assert.ok(old.pValue! < 1e-4 && p99.pValue! > 100 * old.pValue!, `per-request p ${old.pValue}, judge p ${p99.pValue}`);
  assert.ok(p99.upper! - p99.lower! > old.upper! - old.lower!, 'the p99 interval is widened by the clustering');
});

test('clustered A/A on latency_p50 (no margin to hide behind): Mann–Whitney alone fails it, the judge does not', () => {
  const c = canaryGen(3750, spread(3750, 8), { stallMs: 20 }), b = baselineGen(3750, spread(3750, 3, 100), { stallMs: 20 });
  const noMargin = cfg({ tolerance: 0, minEffect: { latency_p50: 0 } });
  const p50 = metric(judge(c, b, noMargin), 'latency_p50');
  assert.equal(p50.result, 'Pass', p50.reason);
  assert.match(p50.reason, /blocks decide/);
  const old = evaluateMetric('latency_p50', prepare(c), prepare(b), ctx({ tolerance: 0, minEffect: 0, independent: true }));
  assert.equal(old.result, 'High', old.reason);
  assert.ok(p50.upper! - p50.lower! > old.upper! - old.lower!, 'the Moses interval is widened by the clustering');
});

test('independent data: the block test agrees and a regression is still caught', () => {
  // tail-only p99 × 1.5 (median unchanged), 7,200 independent requests per group, no stalls
  const q90 = 2 * Math.exp(0.5 * 1.2815515655446004), q99 = 2 * Math.exp(0.5 * 2.3263478740408408);
  const stretch = (x: number) => (x <= q90 ? x : x * 1.5 ** (Math.log(x / q90) / Math.log(q99 / q90)));
  const c = canaryGen(7200, []).map((o) => ({ ...o, latencyMs: stretch(o.latencyMs) })), b = baselineGen(7200, []);
  const v = judge(c, b, DEFAULT_ANALYSIS);
  assert.equal(v.outcome, 'Failed', v.summary);
  const p99 = metric(v, 'latency_p99');
  assert.equal(p99.result, 'High');
  const deff = Number(/design effect (\d+\.\d+)/.exec(p99.reason)![1]);
  assert.ok(deff > 0.5 && deff < 1.6, `design effect ${deff} on independent requests`);
  assert.equal(metric(v, 'latency_p50').result, 'Pass');
  // an unchanged release on independent data passes, its p50 design effect ~1 too
  const aa = judge(canaryGen(3000, []), baselineGen(3000, []), DEFAULT_ANALYSIS);
  assert.equal(aa.outcome, 'Successful', aa.summary);
  const d50 = Number(/design effect (\d+\.\d+)/.exec(metric(aa, 'latency_p50').reason)![1]);
  assert.ok(d50 > 0.5 && d50 < 1.6, `p50 design effect ${d50}`);
});

test('a real regression under the same stalls still fails', () => {
  const stalls = spread(3750, 9);
  const v = judge(canaryGen(3750, stalls, { factor: 2 }), baselineGen(3750, spread(3750, 9, 150)), DEFAULT_ANALYSIS);
  assert.equal(v.outcome, 'Failed', v.summary);
  assert.equal(metric(v, 'latency_p50').result, 'High');
});

test('the judge\'s p is never below the per-request p (the larger of the two decides)', () => {
  for (const [c, b] of [[canaryGen(2000, spread(2000, 5)), baselineGen(2000, [])], [canaryGen(2000, []), baselineGen(2000, [])]]) {
    const v = judge(c, b, DEFAULT_ANALYSIS);
    for (const name of ['latency_p50', 'latency_p99'] as const) {
      const old = evaluateMetric(name, prepare(c), prepare(b), ctx({ independent: true }));
      assert.ok(metric(v, name).pValue! >= old.pValue!, `${name}: ${metric(v, name).pValue} < ${old.pValue}`);
    }
  }
});
