import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_ANALYSIS, judge, observation } from '../../src/analysis/judge.ts';
import type { AnalysisConfig, MetricVerdict, Observation, Verdict } from '../../src/analysis/types.ts';

// Deterministic synthetic traffic (the judge itself has no randomness; these fixtures are seeded).
function traffic(seed: number) {
  let s = seed >>> 0;
  const uniform = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return (s + 0.5) / 4294967296; };
  const gauss = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  /** n requests: lognormal latency (median 20 ms, σ 0.5) through `shape`, error with probability `errorRate`. */
  return (n: number, errorRate = 0.01, shape: (ms: number) => number = (x) => x): Observation[] =>
    Array.from({ length: n }, () => ({ latencyMs: shape(20 * Math.exp(0.5 * gauss())), error: uniform() < errorRate }));
}
const canaryGen = traffic(1), baselineGen = traffic(2);
const metric = (v: Verdict, name: string): MetricVerdict => v.metrics.find((m) => m.metric === name)!;
const cfg = (over: Partial<AnalysisConfig> = {}): AnalysisConfig => ({ ...DEFAULT_ANALYSIS, ...over });

test('identical distributions → Successful, every metric Pass, score 100', () => {
  const v = judge(canaryGen(1200), baselineGen(1200), DEFAULT_ANALYSIS);
  assert.equal(v.outcome, 'Successful', v.summary);
  assert.equal(v.score, 100);
  assert.deepEqual(v.metrics.map((m) => m.result), ['Pass', 'Pass', 'Pass']);
  assert.equal(v.canaryCount, 1200);
  assert.match(v.summary, /^Successful: score 100 >= 95/);
  for (const m of v.metrics) {
    assert.ok(m.pValue !== null && m.pValue >= 0 && m.pValue <= 1);
    assert.ok(m.lower! <= m.effect! && m.effect! <= m.upper!, `${m.metric} interval ${m.lower}..${m.upper} around ${m.effect}`);
  }
});

test('10 % errors vs 1 % → Failed, naming error_rate with the numbers', () => {
  const v = judge(canaryGen(1000, 0.1), baselineGen(1000, 0.01), DEFAULT_ANALYSIS);
  assert.equal(v.outcome, 'Failed');
  const e = metric(v, 'error_rate');
  assert.equal(e.result, 'High');
  assert.ok(e.failed && !e.guardExceeded);
  assert.ok(e.canary > 0.07 && e.baseline < 0.02);
  assert.ok(e.pValue! < 1e-9);
  assert.ok(e.lower! > 0.03, 'the whole interval is above 0');
  assert.equal(v.score, 66.7);
  assert.match(v.summary, /^Failed: score 66\.7 < 75\. error_rate: canary \d+\.\d% vs baseline \d\.\d%, \+\d+\.\d pts, p=\d\.\de-\d+/);
  assert.doesNotMatch(v.summary, /latency/);
  assert.match(e.reason, /exceeds the margin/);
});

test('+50 % latency → Failed, naming latency', () => {
  const v = judge(canaryGen(1200, 0.01, (x) => 1.5 * x), baselineGen(1200), DEFAULT_ANALYSIS);
  assert.equal(v.outcome, 'Failed');
  const p50 = metric(v, 'latency_p50');
  assert.equal(p50.result, 'High');
  assert.ok(p50.effect! > p50.margin! && p50.effect! > 5, `HL shift ${p50.effect}`);
  assert.match(v.summary, /latency_p50: canary \d+\.\d ms vs baseline \d+\.\d ms, \+\d+\.\d+ ms \(\+\d+%\), p=/);
  assert.equal(metric(v, 'error_rate').result, 'Pass');
});

test('a tail-only regression (p99 × 1.5, median unchanged) fails latency_p99 but not latency_p50', () => {
  // every latency above the model p90 (20·e^(0.5·1.2816) = 37.9 ms) is stretched log-linearly up to ×1.5 at the p99 (64.0 ms)
  const q90 = 20 * Math.exp(0.5 * 1.2815515655446004), q99 = 20 * Math.exp(0.5 * 2.3263478740408408);
  const stretch = (x: number) => (x <= q90 ? x : x * 1.5 ** (Math.log(x / q90) / Math.log(q99 / q90)));
  const v = judge(canaryGen(7200, 0.01, stretch), baselineGen(7200), DEFAULT_ANALYSIS);
  assert.equal(v.outcome, 'Failed', v.summary);
  assert.equal(metric(v, 'latency_p99').result, 'High');
  assert.equal(metric(v, 'latency_p50').result, 'Pass');
  assert.ok(metric(v, 'latency_p99').canary / metric(v, 'latency_p99').baseline > 1.3);
  assert.match(v.summary, /latency_p99: canary .* slower than/);
});

test('too few requests → Inconclusive with the reason, no statistics', () => {
  const v = judge(canaryGen(12), baselineGen(400), DEFAULT_ANALYSIS);
  assert.equal(v.outcome, 'Inconclusive');
  assert.equal(v.summary, 'too little traffic: canary 12 requests, need 50');
  assert.equal(v.score, 0);
  assert.ok(v.metrics.every((m) => m.result === 'NoData' && m.pValue === null && !m.failed));
  assert.equal(judge(canaryGen(60), baselineGen(30), DEFAULT_ANALYSIS).summary, 'too little traffic: baseline 30 requests, need 50');
  assert.equal(judge([], [], DEFAULT_ANALYSIS).summary, 'too little traffic: canary 0 requests, baseline 0 requests, need 50');
});

test('few requests: latency_p99 still judges (exactly, with little power) and says so', () => {
  const v = judge(canaryGen(80), baselineGen(80), DEFAULT_ANALYSIS);
  const p99 = metric(v, 'latency_p99');
  assert.equal(p99.result, 'Pass');
  assert.match(p99.reason, /few requests: a p99 of under 100 values is about the maximum/);
  assert.equal(v.outcome, 'Successful');
  // a clear failure is still a failure at this size
  assert.equal(judge(canaryGen(80, 0.4), baselineGen(80, 0), DEFAULT_ANALYSIS).outcome, 'Failed');
});

test('a metric without data makes the verdict Inconclusive, never Successful', () => {
  // enough requests, but nearly all canary requests fail: no latency to compare — error_rate alone
  // fails here, so use a guard-free config where error_rate is not configured
  const v = judge(canaryGen(200, 0.95), baselineGen(200, 0.95), cfg({ metrics: ['latency_p50', 'latency_p99'] }));
  assert.ok(v.metrics.every((m) => m.result === 'NoData'));
  assert.equal(v.outcome, 'Inconclusive');
  assert.match(v.summary, /^no metric has data: latency_p50: too few successful requests with a latency/);
  const w = judge(canaryGen(200, 0.95), baselineGen(200, 0.95), cfg({ metrics: ['error_rate', 'latency_p50'] }));
  assert.equal(metric(w, 'error_rate').result, 'Pass');
  assert.equal(w.outcome, 'Inconclusive');
  assert.match(w.summary, /^Inconclusive: score 100 but no data for latency_p50/);
});

test('absolute guards fail a metric regardless of the comparison', () => {
  // canary and baseline equally bad: the comparison passes, the guard does not
  const c = canaryGen(2000, 0.07), b = baselineGen(2000, 0.07);
  assert.notEqual(judge(c, b, DEFAULT_ANALYSIS).outcome, 'Failed');
  const v = judge(c, b, cfg({ maxErrorRate: 0.05 }));
  assert.equal(v.outcome, 'Failed');
  const e = metric(v, 'error_rate');
  assert.ok(e.guardExceeded && e.failed && e.result === 'High');
  assert.match(v.summary, /^Failed: absolute guard exceeded/);
  assert.match(e.reason, /over the absolute guard max_error_rate 5\.0%/);

  const p = judge(canaryGen(1200), baselineGen(1200), cfg({ maxLatencyP99Ms: 40 })); // model p99 ≈ 64 ms
  assert.equal(p.outcome, 'Failed');
  assert.ok(metric(p, 'latency_p99').guardExceeded);
  assert.match(p.summary, /latency_p99: .*over guard 40\.0 ms/);
  // a guard above the canary changes nothing
  assert.equal(judge(canaryGen(1200), baselineGen(1200), cfg({ maxLatencyP99Ms: 500, maxErrorRate: 0.05 })).outcome, 'Successful');
});

test('score thresholds and weights', () => {
  const c = canaryGen(1000, 0.1), b = baselineGen(1000, 0.01); // error_rate fails, latencies pass
  // equal weights: 2/3 = 66.7 < 75 → Failed
  assert.equal(judge(c, b, DEFAULT_ANALYSIS).outcome, 'Failed');
  // 1 : 3 : 3 → 6/7 = 85.7: marginal → Inconclusive, still naming the failing metric
  const m = judge(c, b, cfg({ weights: { error_rate: 1, latency_p50: 3, latency_p99: 3 } }));
  assert.equal(m.score, 85.7);
  assert.equal(m.outcome, 'Inconclusive');
  assert.match(m.summary, /^Inconclusive: marginal score 85\.7 \(pass 95, marginal 75\)\. error_rate: canary/);
  // a tiny weight: 10/10.1 = 99 → Successful, and the summary says despite what
  const s = judge(c, b, cfg({ weights: { error_rate: 0.1, latency_p50: 5, latency_p99: 5 } }));
  assert.equal(s.outcome, 'Successful');
  assert.match(s.summary, /despite error_rate/);
  // lowering the marginal threshold turns the equal-weight Failed into Inconclusive
  assert.equal(judge(c, b, cfg({ marginalScore: 60 })).outcome, 'Inconclusive');
  // pass threshold 100 with everything passing is still Successful
  assert.equal(judge(canaryGen(1200), baselineGen(1200), cfg({ passScore: 100 })).outcome, 'Successful');
});

test('outlier cleaning never hides a regression', () => {
  // 60 canary requests, all 10× slower than 5,000 baseline ones: pooled 3×IQR fences would remove every one
  const v = judge(canaryGen(60, 0, (x) => 10 * x), baselineGen(5000), DEFAULT_ANALYSIS);
  const p50 = metric(v, 'latency_p50');
  assert.equal(p50.result, 'High');
  assert.equal(p50.canarySamples, 60);
  assert.match(p50.reason, /no cleaning: 3×IQR would remove \d+\.\d% of a group/);
  assert.equal(v.outcome, 'Failed');
  // ordinary traffic is cleaned (a few % at most) and the p99 metric always sees every request
  const w = judge(canaryGen(2000), baselineGen(2000), DEFAULT_ANALYSIS);
  assert.match(metric(w, 'latency_p50').reason, /\d+ beyond 3×IQR removed/);
  assert.ok(metric(w, 'latency_p50').canarySamples < metric(w, 'latency_p99').canarySamples);
});

test('an improvement is Low and does not fail', () => {
  const v = judge(canaryGen(1500, 0.01, (x) => 0.6 * x), baselineGen(1500), DEFAULT_ANALYSIS);
  assert.equal(metric(v, 'latency_p50').result, 'Low');
  assert.ok(!metric(v, 'latency_p50').failed);
  assert.equal(v.outcome, 'Successful');
});

test('statistically real but immaterial differences pass (the margin)', () => {
  // +4 % latency at 30,000 requests per group: highly significant, but within 25 % of the baseline median
  const v = judge(canaryGen(30000, 0.01, (x) => 1.04 * x), baselineGen(30000), DEFAULT_ANALYSIS);
  const p50 = metric(v, 'latency_p50');
  assert.ok(p50.pValue! < 1e-6);
  assert.equal(p50.result, 'Pass');
  assert.match(p50.reason, /significant but \+\d\.\d+ ms is within the margin ±\d\.\d+ ms/);
  assert.equal(v.outcome, 'Successful');
});

test('error rates near zero: a new failure mode fails, a negligible one does not', () => {
  const zeroErr = (n: number, k: number): Observation[] => Array.from({ length: n }, (_, i) => ({ latencyMs: 20, error: i < k }));
  const from0 = judge(zeroErr(1200, 10), zeroErr(1200, 0), cfg({ metrics: ['error_rate'] }));
  assert.equal(metric(from0, 'error_rate').result, 'High', metric(from0, 'error_rate').reason);
  assert.equal(from0.outcome, 'Failed');
  const few = judge(zeroErr(20000, 3), zeroErr(20000, 0), cfg({ metrics: ['error_rate'] }));
  assert.equal(few.outcome, 'Successful');
  // significant, but +0.04 pts is below the 0.1-pt floor
  const tiny = judge(zeroErr(100000, 50), zeroErr(100000, 10), cfg({ metrics: ['error_rate'] }));
  const e = metric(tiny, 'error_rate');
  assert.ok(e.pValue! < 1e-5);
  assert.equal(e.result, 'Pass');
  assert.equal(e.margin, 0.001);
});

test('repeated looks: the per-look level is (1 − confidence)/(looks × metrics)', () => {
  const v = judge(canaryGen(500), baselineGen(500), DEFAULT_ANALYSIS);
  for (const m of v.metrics) assert.ok(Math.abs(m.alpha - 0.02 / 9) < 1e-15);
  const one = judge(canaryGen(500), baselineGen(500), cfg({ metrics: ['error_rate'], looks: 1 }));
  assert.equal(one.metrics.length, 1);
  assert.ok(Math.abs(one.metrics[0].alpha - 0.02) < 1e-15);
  assert.match(one.metrics[0].reason, /98% CI/);
});

test('NaN, infinite and negative latencies are cleaned; failed requests count only for error_rate', () => {
  const c = canaryGen(600), b = baselineGen(600);
  const dirty = [...c, { latencyMs: NaN, error: false }, { latencyMs: -3, error: false }, { latencyMs: Infinity, error: false }, { latencyMs: NaN, error: true }];
  const v = judge(dirty, b, DEFAULT_ANALYSIS);
  assert.equal(v.canaryCount, 604);
  assert.equal(metric(v, 'latency_p99').canarySamples, c.filter((o) => !o.error).length);
  assert.ok(Number.isFinite(metric(v, 'latency_p50').canary));
  assert.equal(v.outcome, 'Successful', v.summary);
});

test('pure: same input, same verdict; inputs are not modified', () => {
  const c = canaryGen(900, 0.03), b = baselineGen(900);
  const before = JSON.stringify(c);
  assert.deepEqual(judge(c, b, DEFAULT_ANALYSIS), judge(c, b, DEFAULT_ANALYSIS));
  assert.equal(JSON.stringify(c), before);
});

test('invalid configuration is rejected with an actionable error', () => {
  const bad: [Partial<AnalysisConfig>, RegExp][] = [
    [{ confidence: 1.2 }, /analysis\.confidence: must be in \(0\.5, 1\)/],
    [{ metrics: ['latency_p95' as never] }, /unknown metric "latency_p95"/],
    [{ metrics: [] }, /at least one metric/],
    [{ passScore: 70, marginalScore: 75 }, /marginal_score <= pass_score/],
    [{ minObservations: 0 }, /min_observations/],
    [{ looks: 0 }, /looks/],
    [{ maxErrorRate: 5 }, /max_error_rate/],
    [{ weights: { error_rate: 0, latency_p50: 0, latency_p99: 0 } }, /weight > 0/],
    [{ weights: { latency_p95: 1 } as never }, /weights\.latency_p95: unknown metric/],
  ];
  for (const [over, message] of bad) {
    assert.throws(() => judge([], [], cfg(over)), (err: Error & { code?: string }) => err.code === 'analysis.invalid_config' && message.test(err.message));
  }
});

test('observation(): an error is status >= 500 or no response', () => {
  assert.deepEqual(observation(200, 12), { latencyMs: 12, error: false });
  assert.equal(observation(404, 3).error, false);
  assert.equal(observation(503, 3).error, true);
  assert.equal(observation(null, 30000).error, true);
});

test('performance: 30,000 observations per group in well under 100 ms of CPU', () => {
  const c = canaryGen(30000, 0.01, (x) => 1.1 * x), b = baselineGen(30000);
  judge(c, b, DEFAULT_ANALYSIS); // warm-up (JIT)
  const cpu: number[] = [];
  for (let i = 0; i < 5; i++) {
    const u0 = process.cpuUsage();
    judge(c, b, DEFAULT_ANALYSIS);
    const u = process.cpuUsage(u0);
    cpu.push((u.user + u.system) / 1000);
  }
  cpu.sort((x, y) => x - y);
  assert.ok(cpu[2] < 100, `median CPU ${cpu[2].toFixed(1)} ms`);
});
