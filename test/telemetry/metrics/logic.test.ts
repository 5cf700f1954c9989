// The pure parts: rollups, the chunk codec, step evaluation, aggregation, planning, labels.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { throwsCode } from '../../helpers/errors.ts';
import { aggregate, bucketQuantile, histogramQuantile } from '../../../src/telemetry/metrics/aggregate.ts';
import { decodeChunk, encodeChunk, mergeChunk } from '../../../src/telemetry/metrics/chunk.ts';
import { evaluate, type Steps } from '../../../src/telemetry/metrics/evaluate.ts';
import { canonicalLabels, compileMatchers, parseMatcher } from '../../../src/telemetry/metrics/labels.ts';
import { chooseResolution, defaultStep, planQuery, type PlanContext } from '../../../src/telemetry/metrics/plan.ts';
import { bucketsToJSON, emptyBuckets, rollupBuckets, rollupSamples, type Buckets } from '../../../src/telemetry/metrics/rollup.ts';
import { closeMatches } from '../../../src/telemetry/metrics/suggest.ts';

const M = 60_000;
const H = 3_600_000;
const plain = (b: Buckets) => bucketsToJSON(b);


test('rollup keeps count/sum/min/max/first/last and a reset-aware increase per bucket', () => {
  // Counter: 10, 20, 30, reset → 5 | 15 | 25, reset → 20; NaN is a gap. A sample at exactly
  // 60 s belongs to the bucket ending at 60 s.
  const ts = [1, 15_000, 30_000, 60_000, 61_000, 75_000, 130_000, 140_000];
  const vs = [10, 20, 30, 5, 15, NaN, 25, 20];
  const b = rollupSamples(ts, vs, M);
  assert.deepEqual(plain(b), {
    width: M, start: [0, 60_000, 120_000], count: [4, 1, 2], sum: [65, 15, 45], min: [5, 15, 20], max: [30, 15, 25],
    first: [10, 15, 25], last: [5, 15, 20], inc: [10 + 10 + 5, 0, 20],
  });
  // Re-rolled to 1h, the increase across bucket edges is added the same way:
  // 25 inside m0, +10 (5→15) at the edge, +10 (15→25) at the edge, +20 (reset to 20) inside m2.
  const hour = rollupBuckets(b, H);
  assert.deepEqual(plain(hour), { width: H, start: [0], count: [7], sum: [125], min: [5], max: [30], first: [10], last: [20], inc: [65] });
});

test('chunk codec: sparse round trip, slot placement, merge replaces equal starts', () => {
  const b = rollupSamples([H + 2 * M + 1, H + 2 * M + 30_000, H + 59 * M + 1], [1, 3, 7], M);
  const blob = encodeChunk(b, H);
  assert.equal(Object.values(blob).reduce((a, x) => a + x.byteLength, 0), 2 * 58);
  const out = emptyBuckets(M);
  decodeChunk(blob, H, out);
  assert.deepEqual(plain(out), plain(b));
  const window = emptyBuckets(M);
  decodeChunk(blob, H, window, H + 3 * M, 2 * H);
  assert.deepEqual(bucketsToJSON(window).start, [H + 59 * M]);

  const update = rollupSamples([H + 1, H + 59 * M + 1], [100, 200], M);
  const merged = emptyBuckets(M);
  decodeChunk(mergeChunk(blob, H, update), H, merged);
  assert.deepEqual(bucketsToJSON(merged).start, [H, H + 2 * M, H + 59 * M]);
  assert.deepEqual(bucketsToJSON(merged).last, [100, 3, 200]);
  // A reader may load only some fields.
  const lastOnly = emptyBuckets(M, 0, ['last']);
  decodeChunk(blob, H, lastOnly);
  assert.deepEqual(bucketsToJSON(lastOnly), { width: M, start: [H + 2 * M, H + 59 * M], last: [3, 7] });
  assert.throws(() => encodeChunk(rollupSamples([1], [1], M), H), /does not belong/);
});

const steps = (firstStep: number, stepMs: number, stepCount: number, windowMs = stepMs, lookbackMs = 5 * M): Steps => ({ firstStep, stepMs, stepCount, windowMs, lookbackMs });

test('raw: last value at or before each step, within the lookback', () => {
  const raw = rollupSamples([10_000, 70_000, 400_000], [1, 2, 3], 0);
  const v = evaluate('raw', raw, steps(60_000, 60_000, 8));
  // 60s:1, 120s:2 (70s), …, 360s:2 (still within 5 min of 70s? 360-70=290 < 300), 420s:3, 480s:3
  assert.deepEqual([...v], [1, 2, 2, 2, 2, 2, 3, 3]);
  const v2 = evaluate('raw', raw, steps(60_000, 60_000, 8, 60_000, 60_000));
  assert.deepEqual([...v2].map((x) => (Number.isNaN(x) ? null : x)), [1, 2, null, null, null, null, 3, null]);
});

test('rate and increase over raw samples: counter reset, reference sample before the window', () => {
  // +10 every 15 s, reset after 45 s (30 → 5), then +10 again.
  const ts = [0, 15_000, 30_000, 45_000, 60_000, 75_000, 90_000, 105_000, 120_000];
  const vs = [0, 10, 20, 30, 5, 15, 25, 35, 45];
  const raw = rollupSamples(ts, vs, 0);
  const inc = evaluate('increase', raw, steps(60_000, 60_000, 2));
  // (0, 60]: from 0 at 0 s, the sample before the window: 10 + 10 + 10 + 5 (reset to 5) = 35.
  // (60, 120]: from 5 at 60 s to 45 = 40.
  assert.deepEqual([...inc], [35, 40]);
  const rate = evaluate('rate', raw, steps(60_000, 60_000, 2));
  assert.deepEqual([...rate], [35 / 60, 40 / 60]);
  // Without a sample before the window only the increase inside it counts, over the time it spans.
  const late = rollupSamples(ts.slice(1), vs.slice(1), 0);
  assert.deepEqual([...evaluate('increase', late, steps(60_000, 60_000, 1))], [25]);
  assert.deepEqual([...evaluate('rate', late, steps(60_000, 60_000, 1))], [25 / 45]);
  // One sample and nothing before it: no rate.
  assert.ok(Number.isNaN(evaluate('rate', rollupSamples([30_000], [1], 0), steps(60_000, 60_000, 1))[0]));
});

test('rate over 1-minute buckets equals rate over the raw samples (resets inside and across buckets)', () => {
  const ts: number[] = [];
  const vs: number[] = [];
  let c = 0;
  for (let t = 0; t < 30 * M; t += 15_000) {
    c = t === 7 * M + 30_000 || t === 12 * M ? 3 : c + 7; // a reset mid-minute and one on a minute edge
    ts.push(t);
    vs.push(c);
  }
  const raw = rollupSamples(ts, vs, 0);
  const minutes = rollupSamples(ts, vs, M);
  const s = steps(5 * M, 5 * M, 5);
  const fromRaw = evaluate('increase', raw, s);
  const fromMinutes = evaluate('increase', minutes, s);
  assert.deepEqual([...fromMinutes], [...fromRaw]);
  assert.ok(fromRaw[1] > 0);
});

test('*_over_time use sum/count, min, max of the buckets in the window', () => {
  const b = rollupSamples([1_000, 10_000, 70_000, 80_000, 130_000], [1, 3, 10, 20, 5], M);
  assert.deepEqual([...evaluate('avg_over_time', b, steps(2 * M, 2 * M, 1))], [(1 + 3 + 10 + 20) / 4]);
  assert.deepEqual([...evaluate('max_over_time', b, steps(M, M, 3))], [3, 20, 5]);
  assert.deepEqual([...evaluate('min_over_time', b, steps(3 * M, 3 * M, 1))], [1]);
});

test('aggregations by label, NaN steps ignored', () => {
  const s = (labels: Record<string, string>, values: number[]) => ({ labels, values: values });
  const list = [s({ app: 'a', r: '1' }, [1, 2, NaN]), s({ app: 'a', r: '2' }, [3, 4, 5]), s({ app: 'b', r: '1' }, [10, NaN, NaN])];
  const run = (agg: 'sum' | 'avg' | 'max' | 'min' | 'count', by: string[]) =>
    aggregate(list, agg, by, 3).map((x) => [x.labels, [...x.values].map((v) => (Number.isNaN(v) ? null : v))]);
  assert.deepEqual(run('sum', ['app']), [[{ app: 'a' }, [4, 6, 5]], [{ app: 'b' }, [10, null, null]]]);
  assert.deepEqual(run('avg', ['app']), [[{ app: 'a' }, [2, 3, 5]], [{ app: 'b' }, [10, null, null]]]);
  assert.deepEqual(run('max', []), [[{}, [10, 4, 5]]]);
  assert.deepEqual(run('min', ['r']), [[{ r: '1' }, [1, 2, null]], [{ r: '2' }, [3, 4, 5]]]);
  assert.deepEqual(run('count', []), [[{}, [3, 2, 1]]]);
});

test('bucketQuantile: Prometheus linear interpolation, hand-computed', () => {
  const bounds = [0.1, 0.5, 1, Infinity];
  const counts = [10, 30, 40, 50];
  assert.equal(bucketQuantile(0.5, bounds, counts), 0.1 + 0.4 * (15 / 20)); // rank 25 in (0.1, 0.5]
  assert.equal(bucketQuantile(0.1, bounds, counts), 0.1 * (5 / 10)); // rank 5 in (0, 0.1]
  assert.equal(bucketQuantile(0.7, bounds, counts), 0.5 + 0.5 * (5 / 10)); // rank 35 in (0.5, 1]
  assert.equal(bucketQuantile(0.9, bounds, counts), 1); // rank 45 in +Inf → highest finite bound
  assert.equal(bucketQuantile(0, bounds, counts), 0);
  assert.equal(bucketQuantile(1, bounds, counts), 1);
  assert.ok(Number.isNaN(bucketQuantile(0.5, [0.1, 1], [1, 2])), 'no +Inf bucket');
  assert.ok(Number.isNaN(bucketQuantile(0.5, bounds, [0, 0, 0, 0])), 'no observations');
  assert.equal(bucketQuantile(0.5, [-1, 0, Infinity], [5, 8, 10]), -1, 'a first bucket with bound ≤ 0 returns its bound');
  assert.equal(bucketQuantile(0.5, bounds, [10, 9, 40, 50]), 0.5 + 0.5 * (15 / 30), 'non-monotonic counts are evened out (9 → 10)');
});

test('histogramQuantile groups buckets by labels minus le, or by `by`', () => {
  const s = (labels: Record<string, string>, v: number) => ({ labels, values: [v] });
  const list = [
    s({ path: '/a', le: '0.1' }, 10), s({ path: '/a', le: '0.5' }, 30), s({ path: '/a', le: '1' }, 40), s({ path: '/a', le: '+Inf' }, 50),
    s({ path: '/b', le: '0.1' }, 0), s({ path: '/b', le: '0.5' }, 0), s({ path: '/b', le: '1' }, 50), s({ path: '/b', le: '+Inf' }, 50),
  ];
  const per = histogramQuantile(0.5, list, [], 1);
  assert.deepEqual(per.map((x) => [x.labels, x.values[0]]), [[{ path: '/a' }, 0.4], [{ path: '/b' }, 0.75]]);
  // Summed: 0.1:10, 0.5:30, 1:90, +Inf:100 → rank 50 in (0.5, 1]: 0.5 + 0.5 × 20/60.
  const all = histogramQuantile(0.5, list, ['app'], 1);
  assert.deepEqual(all.map((x) => [x.labels, x.values[0]]), [[{}, 0.5 + 0.5 * (20 / 60)]]);
});

const ctx: PlanContext = { now: 100 * 24 * H, rawRetentionMs: 6 * H, minuteRetentionMs: 7 * 24 * H };

test('resolution follows the step, and the age of the data', () => {
  const now = ctx.now;
  assert.equal(chooseResolution(15_000, now - H, ctx), 'raw');
  assert.equal(chooseResolution(59_000, now - H, ctx), 'raw');
  assert.equal(chooseResolution(M, now - H, ctx), '1m');
  assert.equal(chooseResolution(30 * M, now - H, ctx), '1m');
  assert.equal(chooseResolution(H, now - H, ctx), '1h');
  assert.equal(chooseResolution(15_000, now - 7 * H, ctx), '1m', 'raw is gone after 6 h');
  assert.equal(chooseResolution(M, now - 8 * 24 * H, ctx), '1h', '1-minute rollups are gone after 7 d');
  const p = (q: object) => planQuery({ metric: 'm', ...q }, ctx);
  assert.equal(p({ since: '1h' }).resolution, '1m'); // default step 1m
  assert.equal(p({ since: '30m' }).resolution, 'raw'); // default step 30s
  assert.equal(p({ since: '24h' }).resolution, '1m'); // default step 30m
  assert.equal(p({ since: '30d' }).resolution, '1h');
  assert.equal(p({ since: '12h', step: '15s' }).resolution, '1m');
  assert.equal(p({ since: '12h', step: '15s' }).stepMs, M, 'a step finer than the buckets is raised to their width');
  assert.equal(p({ since: '1h', resolution: '1h' }).resolution, '1h');
});

test('plan: aligned steps, defaults, window, read range', () => {
  const end = ctx.now - 25_000; // 25 s past a minute
  const p = planQuery({ metric: 'x_total', fn: 'rate', start: end - 10 * M, end, step: '1m', window: '5m' }, ctx);
  assert.equal(p.firstStep % M, 0);
  assert.equal(p.firstStep, ctx.now - 10 * M);
  assert.equal(p.stepCount, 10);
  assert.equal(p.firstStep + (p.stepCount - 1) * p.stepMs <= end, true);
  assert.equal(p.windowMs, 5 * M);
  assert.equal(p.readFrom, p.firstStep - p.windowMs - p.lookbackMs);
  const q = planQuery({ metric: 'h', quantile: 0.9, since: '1h' }, ctx);
  assert.equal(q.fn, 'histogram_quantile');
  assert.equal(q.seriesName, 'h_bucket');
  assert.equal(defaultStep(H), M);
  assert.equal(defaultStep(30 * M), 30_000);
  assert.equal(defaultStep(24 * H), 30 * M);
  const instant = planQuery({ metric: 'm', fn: 'rate', window: '5m', start: end, end }, ctx);
  assert.deepEqual([instant.firstStep, instant.stepCount, instant.resolution], [end, 1, 'raw']);
});

test('plan: errors say what is wrong and how to fix it', () => {
  throwsCode(() => planQuery({ metric: 'm', since: '1 hour' }, ctx), 'usage.bad_duration', /since "1 hour" is not a duration/);
  throwsCode(() => planQuery({ metric: 'm', window: 'fast' }, ctx), 'usage.bad_duration', /window "fast"/);
  throwsCode(() => planQuery({ metric: 'm', step: 0 }, ctx), 'usage.bad_duration');
  throwsCode(() => planQuery({ metric: 'm', quantile: 1.5 }, ctx), 'metrics.bad_quantile', /quantile 1.5 is outside 0–1/);
  throwsCode(() => planQuery({ metric: 'm', fn: 'histogram_quantile', quantile: -0.1 }, ctx), 'metrics.bad_quantile');
  throwsCode(() => planQuery({ metric: 'm', fn: 'histogram_quantile' }, ctx), 'metrics.bad_quantile');
  throwsCode(() => planQuery({ metric: 'm', fn: 'rate', quantile: 0.5 }, ctx), 'metrics.bad_query', /quantile applies to histogram_quantile/);
  throwsCode(() => planQuery({ metric: 'm', fn: 'irate' as never }, ctx), 'metrics.bad_query', /unknown function "irate"/);
  throwsCode(() => planQuery({ metric: 'm', agg: 'median' as never }, ctx), 'metrics.bad_query', /unknown aggregation/);
  throwsCode(() => planQuery({ metric: 'm', by: ['app'] }, ctx), 'metrics.bad_query', /"by" needs an aggregation/);
  throwsCode(() => planQuery({ metric: 'not a name' }, ctx), 'metrics.bad_query');
  throwsCode(() => planQuery({ metric: 'm', since: '30d', step: '15s', resolution: 'raw' }, ctx), 'metrics.too_many_points', /more than 11000 points/);
  throwsCode(() => planQuery({ metric: 'm', matchers: ['code=~5(('] }, ctx), 'metrics.bad_matcher', /invalid regular expression/);
});

test('labels: canonical text ignores order; matchers =, !=, =~ (anchored), !~; missing label is ""', () => {
  assert.equal(canonicalLabels({ b: '2', a: '1' }), canonicalLabels({ a: '1', b: '2' }));
  assert.equal(canonicalLabels({}), '{}');
  const t = (m: string[], labels: Record<string, string>) => compileMatchers(m.map(parseMatcher))(labels);
  assert.equal(t(['env=staging'], { env: 'staging' }), true);
  assert.equal(t(['env!=staging'], { env: 'staging' }), false);
  assert.equal(t(['code=~5..'], { code: '503' }), true);
  assert.equal(t(['code=~5..'], { code: '1503' }), false, 'anchored');
  assert.equal(t(['code!~2..|3..'], { code: '404' }), true);
  assert.equal(t(['release=""'], { app: 'x' }), true);
  assert.equal(t(['path="/a b"'], { path: '/a b' }), true);
  assert.deepEqual(parseMatcher(' env = prod '), { label: 'env', op: '=', value: 'prod' });
  throwsCode(() => parseMatcher('env'), 'metrics.bad_matcher', /is not label=value/);
});

test('close matches: typos and fragments, best first', () => {
  const names = ['http_requests_total', 'http_request_duration_seconds_bucket', 'process_cpu_seconds_total', 'up'];
  assert.deepEqual(closeMatches('http_request_total', names), ['http_requests_total']);
  assert.deepEqual(closeMatches('cpu_seconds', names), ['process_cpu_seconds_total']);
  assert.deepEqual(closeMatches('zzz', names), []);
});
