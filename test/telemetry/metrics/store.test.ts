import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { throwsCode } from '../../helpers/errors.ts';
import { MetricsStore } from '../../../src/telemetry/metrics/store.ts';
import { withPoints } from '../../../src/telemetry/metrics/result.ts';
import type { MetricQuery, Sample } from '../../../src/telemetry/metrics/types.ts';
import { ManualClock } from './clock.ts';

const S = 1000;
const M = 60_000;
const H = 3_600_000;
const D = 86_400_000;
const T0 = Date.UTC(2025, 0, 1, 0, 0, 0); // midnight UTC

const dir = mkdtempSync(join(tmpdir(), 'slipway-metrics-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

function open(opts: { file?: string; start?: number } = {}) {
  const clock = new ManualClock(opts.start ?? T0);
  const store = new MetricsStore({ file: opts.file ?? join(dir, `m${files++}.db`), clock });
  return { clock, store };
}

/** Scrapes every 15 s from `from` to `to` (inclusive), compacting every `compactEvery` ms. */
function feed(store: MetricsStore, clock: ManualClock, from: number, to: number, gen: (t: number) => Sample[], compactEvery = 5 * M) {
  for (let t = from; t <= to; t += 15 * S) {
    clock.set(t);
    store.ingest(gen(t));
    if ((t - from) % compactEvery === 0) drain(store);
  }
  drain(store);
}

function drain(store: MetricsStore) {
  for (let i = 0; i < 10_000; i++) if (!store.compact({ budgetMs: 1_000 }).more) return;
  assert.fail('compaction never finished');
}

type Result = ReturnType<typeof withPoints>;
const values = (r: Result, i = 0) => r.series[i].points.map((p) => p[1]);
const times = (r: Result, i = 0) => r.series[i].points.map((p) => p[0]);
/** Queries and returns [ts, value] pairs, which read better in assertions. */
const query = (store: MetricsStore, q: MetricQuery) => withPoints(store.query(q));


test('round trip: samples come back at their steps, with labels, filtered by =, !=, =~', () => {
  const { clock, store } = open();
  const gen = (t: number): Sample[] => ['web-1', 'web-2', 'worker-1'].map((instance, i) => ({
    name: 'queue_depth', labels: { app: 'hello', env: 'staging', instance }, value: (t - T0) / 1000 + i * 1000, ts: t,
  }));
  feed(store, clock, T0 + 15 * S, T0 + 10 * M, gen);
  const r = query(store, { metric: 'queue_depth', since: '10m', step: '15s' });
  assert.equal(r.resolution, 'raw');
  assert.deepEqual(r.series.map((s) => s.labels.instance), ['web-1', 'web-2', 'worker-1']);
  assert.deepEqual(r.series[0].labels, { app: 'hello', env: 'staging', instance: 'web-1' });
  assert.equal(r.series[1].points.length, 40);
  for (const [ts, v] of r.series[1].points) assert.equal(v, (ts - T0) / 1000 + 1000);
  assert.deepEqual(query(store, { metric: 'queue_depth', matchers: ['instance=~web-.*', 'instance!=web-1'], since: '1m', step: '15s' }).series.map((s) => s.labels.instance), ['web-2']);
  assert.deepEqual(query(store, { metric: 'queue_depth', match: { instance: 'worker-1' }, since: '1m', step: '15s' }).series.length, 1);
  assert.deepEqual(store.metricNames({ app: 'hello' }), ['queue_depth']);
  assert.deepEqual(store.metricNames({ app: 'other' }), []);
  store.close();
});

test('ingest: NaN is a gap, ±Inf are values, too-old and far-future samples are dropped', () => {
  const { clock, store } = open();
  clock.set(T0 + 10 * H);
  const now = clock.now();
  const res = store.ingest([
    { name: 'g', labels: {}, value: 1, ts: now - 2 * M },
    { name: 'g', labels: {}, value: NaN, ts: now - M },
    { name: 'g', labels: {}, value: Infinity, ts: now },
    { name: 'g', labels: {}, value: 5, ts: now - 7 * H },
    { name: 'g', labels: {}, value: 5, ts: now + 2 * H },
  ]);
  assert.deepEqual(res, { accepted: 3, dropped: 2 });
  const r = query(store, { metric: 'g', since: '3m', step: '1m', window: '1m', fn: 'max_over_time', resolution: 'raw' });
  assert.deepEqual(r.series[0].points, [[now - 2 * M, 1], [now, Infinity]]);
  assert.deepEqual(store.stats().dropped, 2);
  store.close();
});

test('rollups and retention over 8 hours, then 8 and 91 days later (manual clock)', () => {
  const { clock, store } = open();
  // A counter growing 2/s, and a gauge that is the minute of the hour.
  const gen = (t: number): Sample[] => [
    { name: 'requests_total', labels: { app: 'a' }, value: 2 * (t - T0) / 1000, ts: t },
    { name: 'temperature', labels: { app: 'a' }, value: new Date(t).getUTCMinutes(), ts: t },
  ];
  const end = T0 + 8 * H;
  feed(store, clock, T0 + 15 * S, end, gen);
  const wm = store.stats().watermarks;
  assert.ok(wm.m1! >= end - 2 * M && wm.h1 === end - H, JSON.stringify(wm));

  // Raw samples older than 6 h are gone; 1-minute rollups still cover them.
  const old = { start: T0 + H, end: T0 + 90 * M };
  assert.equal(query(store, { metric: 'temperature', ...old, step: '15s', resolution: 'raw' }).series.length, 0, 'no values: no series');
  const avg = query(store, { metric: 'temperature', ...old, step: '1m', fn: 'avg_over_time' });
  assert.equal(avg.resolution, '1m');
  // The bucket ending at hh:mm holds samples at hh:(mm-1):15, :30, :45 and hh:mm:00.
  for (const [ts, v] of avg.series[0].points) {
    const m = new Date(ts).getUTCMinutes();
    assert.equal(v, (3 * ((m + 59) % 60) + m) / 4, new Date(ts).toISOString());
  }
  const rate = query(store, { metric: 'requests_total', start: T0 + 2 * H, end, step: '1m', fn: 'rate' });
  assert.equal(rate.series[0].points.length, 6 * 60 + 1);
  for (const v of values(rate)) assert.equal(v, 2);

  // 1-hour rollups: max of the gauge is 59 in every complete hour, the rate is still 2/s.
  const hourly = query(store, { metric: 'temperature', start: T0, end, step: '1h', fn: 'max_over_time' });
  assert.equal(hourly.resolution, '1h');
  assert.deepEqual(times(hourly), Array.from({ length: 8 }, (_, i) => T0 + (i + 1) * H));
  assert.deepEqual(values(hourly), Array(8).fill(59));
  assert.ok(values(query(store, { metric: 'requests_total', start: T0 + 2 * H, end, step: '1h', fn: 'rate' })).every((v) => v === 2));

  // 8 days on, with no new data: the 1-minute tier has expired, the 1-hour tier has not.
  clock.set(end + 8 * D);
  drain(store);
  assert.equal(query(store, { metric: 'temperature', start: T0, end, step: '1m', resolution: '1m' }).series.length, 0);
  assert.equal(query(store, { metric: 'temperature', start: T0, end, step: '1h', fn: 'max_over_time' }).series[0].points.length, 8);

  // 91 days on, everything has expired and the series are forgotten.
  clock.set(end + 91 * D);
  drain(store);
  assert.deepEqual(store.metricNames(), []);
  throwsCode(() => query(store, { metric: 'temperature' }), 'metrics.unknown_metric', /no metric named "temperature"; no metrics have been recorded yet/);
  store.close();
});

test('rate with counter resets agrees at raw, 1-minute and 1-hour resolution', () => {
  const { clock, store } = open();
  let c = 0;
  const gen = (t: number): Sample[] => {
    const k = (t - T0) / (15 * S);
    c = k % 97 === 0 ? 1 : c + 3; // a restart every 97 scrapes (not aligned to minutes or hours)
    return [{ name: 'jobs_total', labels: { app: 'a' }, value: c, ts: t }];
  };
  feed(store, clock, T0 + 15 * S, T0 + 5 * H, gen);
  const q: MetricQuery = { metric: 'jobs_total', fn: 'increase', start: T0 + H, end: T0 + 5 * H, step: '1h' };
  const raw = query(store, { ...q, resolution: 'raw' });
  const minute = query(store, { ...q, resolution: '1m' });
  const hour = query(store, q);
  assert.deepEqual([raw.resolution, minute.resolution, hour.resolution], ['raw', '1m', '1h']);
  // Each hour has 240 scrapes: +3 each, except a restart (to 1) now and then — never a drop.
  for (const r of [raw, minute, hour]) assert.deepEqual(times(r), [T0 + H, T0 + 2 * H, T0 + 3 * H, T0 + 4 * H, T0 + 5 * H]);
  assert.deepEqual(values(minute), values(raw));
  assert.deepEqual(values(hour), values(raw));
  for (const v of values(raw).slice(1)) assert.ok(v > 230 * 3 - 10 && v <= 240 * 3, String(v));
  // Rates at 1-minute steps: no negative spike at a reset.
  const perMinute = query(store, { metric: 'jobs_total', fn: 'rate', since: '2h', step: '1m' });
  for (const v of values(perMinute)) assert.ok(v > 0 && v <= 3 / 15, String(v));
  store.close();
});

test('sum / avg / max / min / count by labels', () => {
  const { clock, store } = open();
  const series = [['a', 'v1', 1], ['a', 'v2', 3], ['b', 'v1', 10]] as const;
  const gen = (t: number): Sample[] => series.map(([app, release, v]) => ({ name: 'inflight', labels: { app, release }, value: v, ts: t }));
  feed(store, clock, T0 + 15 * S, T0 + 5 * M, gen);
  const q = (agg: MetricQuery['agg'], by: string[]) => query(store, { metric: 'inflight', agg, by, since: '2m', step: '1m' })
    .series.map((s) => [s.labels, s.points.at(-1)![1]]);
  assert.deepEqual(q('sum', ['app']), [[{ app: 'a' }, 4], [{ app: 'b' }, 10]]);
  assert.deepEqual(q('avg', ['app']), [[{ app: 'a' }, 2], [{ app: 'b' }, 10]]);
  assert.deepEqual(q('max', ['release']), [[{ release: 'v1' }, 10], [{ release: 'v2' }, 3]]);
  assert.deepEqual(q('min', []), [[{}, 1]]);
  assert.deepEqual(q('count', ['release']), [[{ release: 'v1' }, 2], [{ release: 'v2' }, 1]]);
  assert.deepEqual(query(store, { metric: 'inflight', agg: 'sum', match: { app: 'a' }, since: '2m', step: '1m' }).series[0].points.at(-1)![1], 4);
  store.close();
});

test('histogram_quantile from _bucket counters, hand-computed, at raw and rolled-up resolution', () => {
  const { clock, store } = open();
  // Per scrape, path /a observes 10 requests ≤ 0.1 s, 20 in (0.1, 0.5], 10 in (0.5, 1], 10 slower;
  // path /b observes 50, all in (0.5, 1]. Cumulative buckets grow by these amounts.
  const per: Record<string, number[]> = { '/a': [10, 30, 40, 50], '/b': [0, 0, 50, 50] };
  const les = ['0.1', '0.5', '1', '+Inf'];
  const gen = (t: number): Sample[] => {
    const k = (t - T0) / (15 * S);
    return Object.entries(per).flatMap(([path, inc]) => les.map((le, i) => ({ name: 'latency_seconds_bucket', labels: { app: 'a', path, le }, value: k * inc[i], ts: t })));
  };
  feed(store, clock, T0 + 15 * S, T0 + 2 * H, gen);
  for (const step of ['15s', '1m', '1h']) {
    const r = query(store, { metric: 'latency_seconds', quantile: 0.5, since: '1h', step });
    assert.deepEqual(r.series.map((s) => s.labels), [{ app: 'a', path: '/a' }, { app: 'a', path: '/b' }], step);
    assert.ok(values(r, 0).every((v) => Math.abs(v - 0.4) < 1e-12), `${step} /a p50: ${values(r, 0)}`); // 0.1 + 0.4 × 15/20
    assert.ok(values(r, 1).every((v) => Math.abs(v - 0.75) < 1e-12), `${step} /b p50`); // 0.5 + 0.5 × 25/50
  }
  const p = (q: number, by: string[]) => values(query(store, { metric: 'latency_seconds', quantile: q, by, since: '10m', step: '1m' })).at(-1);
  assert.equal(p(0.9, ['path']), 1); // /a: rank 45 in +Inf → highest finite bound
  assert.ok(Math.abs(p(0.5, ['app'])! - (0.5 + 0.5 * (20 / 60))) < 1e-12); // summed: 10, 30, 90, 100
  assert.ok(Math.abs(p(0.1, ['app'])! - 0.1) < 1e-12); // rank 10 = the whole first bucket
  store.close();
});

test('errors: unknown metric with close matches, unmatched labels, not a histogram, bad parameters', () => {
  const { clock, store } = open();
  const gen = (t: number): Sample[] => [
    { name: 'http_requests_total', labels: { app: 'hello', env: 'staging' }, value: 1, ts: t },
    { name: 'http_request_duration_seconds_bucket', labels: { app: 'hello', env: 'staging', le: '+Inf' }, value: 1, ts: t },
    { name: 'rpc_seconds', labels: { app: 'hello', env: 'staging', quantile: '0.5' }, value: 1, ts: t },
    { name: 'go_goroutines', labels: { app: 'other', env: 'staging' }, value: 1, ts: t },
  ];
  feed(store, clock, T0 + 15 * S, T0 + M, gen);
  const unknown = throwsCode(() => query(store, { metric: 'http_request_total', match: { app: 'hello' } }), 'metrics.unknown_metric',
    /^no metric named "http_request_total"; known metrics for app="hello": http_requests_total, http_request_duration_seconds_bucket, rpc_seconds$/,
    /did you mean "http_requests_total"\?/);
  assert.equal(unknown.status, 404);
  assert.deepEqual(unknown.details?.suggestions, ['http_requests_total']);
  throwsCode(() => query(store, { metric: 'goroutines' }), 'metrics.unknown_metric', /known metrics: go_goroutines/, /did you mean "go_goroutines"/);
  throwsCode(() => query(store, { metric: 'http_requests_total', match: { env: 'prodution' } }), 'metrics.no_series',
    /metric "http_requests_total" has no series with env="prodution"/, /env values of "http_requests_total": "staging"/);
  throwsCode(() => query(store, { metric: 'http_requests_total', quantile: 0.99 }), 'metrics.not_histogram', /"http_requests_total" is not a histogram/, /needs a Prometheus histogram/);
  throwsCode(() => query(store, { metric: 'rpc_seconds', quantile: 0.99 }), 'metrics.not_histogram', /not a histogram/, /is a summary/);
  throwsCode(() => query(store, { metric: 'http_request_duration', quantile: 0.99 }), 'metrics.unknown_metric', /no histogram named "http_request_duration"; known histograms: http_request_duration_seconds/);
  assert.equal(query(store, { metric: 'http_request_duration_seconds', quantile: 0.99 }).fn, 'histogram_quantile');
  throwsCode(() => query(store, { metric: 'http_request_duration_seconds', quantile: 99 }), 'metrics.bad_quantile', /quantile 99 is outside 0–1/);
  throwsCode(() => query(store, { metric: 'http_requests_total', since: '1hour' }), 'usage.bad_duration', /since "1hour" is not a duration/);
  throwsCode(() => query(store, { metric: 'http_requests_total', step: '1x' }), 'usage.bad_duration', /step "1x"/);
  throwsCode(() => new MetricsStore({ file: ':memory:', rawRetentionMs: H }), 'metrics.bad_retention');
  store.close();
});

test('late samples: a minute already rolled up is redone', () => {
  const { clock, store } = open();
  feed(store, clock, T0 + 15 * S, T0 + 10 * M, (t) => [{ name: 'g', labels: {}, value: 1, ts: t }]);
  const minute = T0 + 3 * M; // bucket (3m, 4m]
  assert.ok(store.stats().watermarks.m1! > minute + M);
  const q = { metric: 'g', fn: 'max_over_time', at: minute + M, window: '1m', resolution: '1m' } as const;
  assert.equal(store.instant(q)[0].value, 1);
  assert.deepEqual(store.ingest([{ name: 'g', labels: {}, value: 50, ts: minute + 20 * S }]), { accepted: 1, dropped: 0 });
  drain(store);
  assert.equal(store.instant(q)[0].value, 50);
  assert.equal(store.instant({ ...q, at: minute + 2 * M })[0].value, 1, 'the next minute is untouched');
  // The running hour, rolled up on the fly from the minutes, sees it too.
  assert.equal(store.instant({ ...q, resolution: '1h', at: T0 + H, window: '1h' })[0].value, 50);
  store.close();
});

test('day chunks: finished hours are merged into one chunk per series per day; late samples still land; restart keeps everything', () => {
  const file = join(dir, 'sealing.db');
  const start = T0 - 2 * H; // 22:00 the day before
  let { clock, store } = open({ file, start });
  const gen = (t: number): Sample[] => [
    ...[0, 1, 2].map((i) => ({ name: 'up_seconds_total', labels: { i: String(i) }, value: (t - start) / 1000, ts: t })),
    { name: 'temp', labels: {}, value: 1, ts: t },
  ];
  feed(store, clock, start + 15 * S, T0 + 4 * H, gen, 30 * M);
  const chunks = () => {
    const db = new DatabaseSync(file, { readOnly: true });
    try {
      return (db.prepare('SELECT span, count(*) AS n FROM m1 GROUP BY span ORDER BY span').all() as { span: number; n: number }[]).map((c) => [c.span, c.n]);
    } finally {
      db.close();
    }
  };
  // Finished hours are merged into day chunks: one for yesterday and one for today per series;
  // only the running hour (03:00–04:00, not complete yet) is still an hour chunk.
  assert.deepEqual(chunks(), [[H, 4], [D, 4 * 2]]);
  const q: MetricQuery = { metric: 'up_seconds_total', fn: 'rate', agg: 'sum', start: start + 30 * M, end: T0 + 4 * H, step: '1m' };
  const before = query(store, q);
  assert.equal(before.series[0].points.length, 330 + 1);
  assert.ok(values(before).every((v) => Math.abs(v - 3) < 1e-9));
  const raw = query(store, { ...q, step: '15s', since: '2h', start: undefined });

  // Late samples for yesterday (still within raw retention): into the sealed chunk of an old
  // series, and an open chunk for a new one; the 1-hour bucket is redone as well.
  const lateTs = T0 - 30 * M + 20 * S;
  store.ingest([{ name: 'temp', labels: {}, value: 99, ts: lateTs }, { name: 'newcomer', labels: {}, value: 7, ts: lateTs }]);
  drain(store);
  assert.deepEqual(chunks(), [[H, 4 + 1], [D, 4 * 2]]);
  const at = (metric: string, resolution: '1m' | '1h') => store.instant({ metric, fn: 'max_over_time', resolution, window: resolution, at: resolution === '1m' ? T0 - 29 * M : T0 })[0].value;
  assert.deepEqual([at('temp', '1m'), at('temp', '1h'), at('newcomer', '1m'), at('newcomer', '1h')], [99, 99, 7, 7]);
  store.close();

  ({ store } = open({ file, start: clock.now() }));
  assert.deepEqual(query(store, q), before);
  assert.deepEqual(query(store, { ...q, step: '15s', since: '2h', start: undefined }), raw);
  assert.equal(store.stats().series, 5);
  store.close();
});

test('background compaction runs on the injected clock and stops cleanly', async () => {
  const { clock, store } = open();
  for (let t = T0 + 15 * S; t <= T0 + 5 * M; t += 15 * S) store.ingest([{ name: 'g', labels: {}, value: 1, ts: t }]);
  clock.set(T0 + 5 * M);
  store.startCompaction({ intervalMs: 10_000 });
  await new Promise((r) => setTimeout(r, 20));
  const first = store.stats().watermarks.m1!;
  assert.equal(first, T0 + 4 * M, 'caught up to the last closed minute (30 s grace)');
  for (let t = T0 + 5 * M + 15 * S; t <= T0 + 7 * M; t += 15 * S) store.ingest([{ name: 'g', labels: {}, value: 1, ts: t }]);
  clock.advance(2 * M);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(store.stats().watermarks.m1, T0 + 6 * M);
  await store.stopCompaction();
  store.close();
});

test('query results do not depend on compaction progress (checked after every step, 2 series per step)', () => {
  const clock = new ManualClock(T0 + 50 * M);
  const store = new MetricsStore({ file: join(dir, 'progress.db'), clock, compactionSeriesPerStep: 2 });
  const gen = (t: number): Sample[] => [0, 1, 2, 3, 4].map((i) => ({
    name: 'work_total', labels: { i: String(i) }, value: ((t - T0) / 1000) * (i + 1) + (t > T0 + 70 * M && i === 2 ? -50 : 0), ts: t,
  }));
  // 50 min … 2 h 10 min, crossing the 1 h and 2 h boundaries, without compacting.
  for (let t = T0 + 50 * M + 15 * S; t <= T0 + 130 * M; t += 15 * S) { clock.set(t); store.ingest(gen(t)); }
  const queries: MetricQuery[] = [
    { metric: 'work_total', fn: 'rate', start: T0 + 55 * M, end: T0 + 130 * M, step: '1m' },
    { metric: 'work_total', fn: 'increase', agg: 'sum', start: T0 + H, end: T0 + 2 * H, step: '1h', window: '1h' },
    { metric: 'work_total', fn: 'max_over_time', start: T0 + H, end: T0 + 2 * H, step: '1h', window: '1h', resolution: '1h' },
  ];
  const expected = queries.map((q) => store.query(q));
  assert.ok(expected[0].series.length === 5 && expected[1].series[0].values.every((v) => v > 0));
  let steps = 0;
  for (; steps < 1_000; steps++) {
    const { steps: did } = store.compact({ budgetMs: 0 });
    if (did.length === 0) break;
    queries.forEach((q, i) => assert.deepEqual(store.query(q), expected[i], `after step ${steps} (${did.join(', ')})`));
  }
  assert.ok(steps > 10, `only ${steps} steps`);
  assert.equal(store.stats().watermarks.h1, T0 + 2 * H);
  store.close();
});

test('a sample that arrives while its minute is being rolled up (between series batches) is not lost', () => {
  const make = (name: string) => new MetricsStore({ file: join(dir, `${name}.db`), clock: new ManualClock(T0 + 130 * M), compactionSeriesPerStep: 2 });
  const reference = make('late-ref');
  const store = make('late-mid');
  const gen = (t: number): Sample[] => [0, 1, 2, 3, 4].map((i) => ({ name: 'g', labels: { i: String(i) }, value: i, ts: t }));
  for (let t = T0 + 71 * M; t <= T0 + 130 * M; t += 15 * S) { reference.ingest(gen(t)); store.ingest(gen(t)); }
  const late: Sample = { name: 'g', labels: { i: '0' }, value: 99, ts: T0 + 72 * M + 7 * S };
  reference.ingest([late]);
  const first = store.compact({ budgetMs: 0 }).steps;
  assert.deepEqual(first, ['rollup 1m']); // the first batch of series (i=0, i=1) of the first unit
  assert.deepEqual(store.ingest([late]), { accepted: 1, dropped: 0 });
  drain(reference);
  drain(store);
  for (const q of [{ metric: 'g', fn: 'max_over_time', since: '1h', step: '1m' }, { metric: 'g', fn: 'max_over_time', start: T0 + 2 * H, end: T0 + 2 * H, window: '1h', resolution: '1h' }] as MetricQuery[]) {
    const r = store.query(q);
    assert.deepEqual(r, reference.query(q));
    assert.ok(r.series[0].values.includes(99));
  }
  reference.close();
  store.close();
});
