import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeQuery, formatValue, renderMetricNames, renderQueryResult, sparkline, unitOf } from '../../../src/telemetry/metrics/render.ts';
import type { QueryResult } from '../../../src/telemetry/metrics/types.ts';

const T0 = Date.UTC(2025, 0, 1, 12, 0);
const M = 60_000;

test('sparkline: scaled to the row, one character per step (or per group of steps), gaps as spaces', () => {
  assert.equal(sparkline([0, 1, 2, 3, 4, 5, 6, 7], 8), '▁▂▃▄▅▆▇█');
  assert.equal(sparkline([5, NaN, NaN, 5], 40), '▄  ▄', 'fewer steps than columns: one character each');
  assert.equal(sparkline([0, 10, 0, 10, 0, 10, 0, 10], 2), '▄▄', 'columns average their steps');
  assert.equal(sparkline([1, 1, NaN, NaN, 3, 3], 3), '▁ █');
  assert.equal(sparkline([NaN, NaN], 3), '  ');
  assert.equal(sparkline([], 3), '');
});

test('values: units from Prometheus naming conventions', () => {
  assert.equal(unitOf('http_request_duration_seconds', 'histogram_quantile'), 'seconds');
  assert.equal(unitOf('process_resident_memory_bytes', 'raw'), 'bytes');
  assert.equal(unitOf('http_requests_total', 'rate'), 'per_second');
  assert.equal(unitOf('process_cpu_seconds_total', 'rate'), 'ratio');
  assert.equal(formatValue(0.0123, 'seconds'), '12.3ms');
  assert.equal(formatValue(0.0000042, 'seconds'), '4.20µs');
  assert.equal(formatValue(3600 * 5, 'seconds'), '5.00h');
  assert.equal(formatValue(52_428_800, 'bytes'), '50.0 MiB');
  assert.equal(formatValue(1234.5, 'per_second'), '1235/s');
  assert.equal(formatValue(123_456, 'plain'), '123k');
  assert.equal(formatValue(7, 'plain'), '7');
  assert.equal(formatValue(NaN), '-');
  assert.equal(formatValue(-Infinity), '-Inf');
});

const steps = Array.from({ length: 8 }, (_, i) => T0 + i * M);
const col = (values: (number | null)[]) => values.map((v) => v ?? NaN);
const result = (over: Partial<QueryResult>): QueryResult => ({
  metric: 'http_requests_total', fn: 'rate', agg: 'sum', by: ['release'], resolution: '1m',
  start: T0, end: T0 + 8 * M, stepMs: M, windowMs: M, timestamps: steps, series: [], ...over,
});

test('renderQueryResult: a title saying what was computed, one row per series, stats and a trend', () => {
  const text = renderQueryResult(result({
    series: [
      { labels: { app: 'hello', release: 'v1' }, values: col([10, 10, 10, 5, 0, 0, null, null]) },
      { labels: { app: 'hello', release: 'v2' }, values: col([null, null, null, 5, 10, 20, 20, 20]) },
    ],
  }), { width: 8 });
  assert.equal(text, [
    'sum(rate(http_requests_total[1m])) by (release)  ·  2025-01-01 12:00 → 2025-01-01 12:08 UTC  ·  step 1m (1m rollups)',
    'all series: app=hello',
    '',
    'SERIES      LAST  MIN  AVG     MAX   TREND',
    'release=v1   0/s  0/s  5.83/s  10/s  ███▅▁▁  ',
    'release=v2  20/s  5/s    15/s  20/s     ▁▃███',
  ].join('\n'));
  assert.equal(renderQueryResult(result({ series: [] })).split('\n').at(-1), 'no data in this range');
  const many = renderQueryResult(result({ agg: undefined, by: undefined, series: Array.from({ length: 5 }, (_, i) => ({ labels: { i: String(i) }, values: col([i]) })) }), { maxRows: 3 });
  assert.match(many, /… and 2 more series/);
});

test('describeQuery reads like PromQL', () => {
  assert.equal(describeQuery(result({ fn: 'raw', agg: undefined, by: undefined, metric: 'up' })), 'up');
  assert.equal(describeQuery(result({ fn: 'histogram_quantile', quantile: 0.99, metric: 'lat_seconds', windowMs: 5 * M, agg: undefined, by: ['path'] })), 'histogram_quantile(0.99, rate(lat_seconds_bucket[5m])) by (path)');
  assert.equal(describeQuery(result({ fn: 'avg_over_time', agg: 'max', by: [], metric: 'mem_bytes', windowMs: 3_600_000 })), 'max(avg_over_time(mem_bytes[1h]))');
});

test('renderMetricNames: names with type and first help line', () => {
  const text = renderMetricNames(['lat_seconds_bucket', 'up'], [{ name: 'lat_seconds', type: 'histogram', help: 'Latency.\nMore.' }]);
  assert.deepEqual(text.split('\n').map((l) => l.trimEnd()), ['METRIC              TYPE       HELP', 'lat_seconds_bucket  histogram  Latency.', 'up']);
  assert.equal(renderMetricNames([]), 'no metrics recorded yet');
});

test('renderQueryResult takes the result as it comes over HTTP too (NaN became null in JSON)', () => {
  const over = JSON.parse(JSON.stringify(result({ agg: undefined, by: undefined, series: [{ labels: { i: '1' }, values: col([1, null, 3, null, null, null, null, 8]) }] })));
  const row = renderQueryResult(over, { width: 8 }).split('\n').at(-1)!;
  assert.match(row, /^i=1\s+8\/s\s+1\/s\s+4\/s\s+8\/s\s+▁ ▃    █$/);
});
