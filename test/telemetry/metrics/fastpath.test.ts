// The query fast paths give exactly what the straightforward code gives: the dense-bucket
// rate/increase path against the scanning one, the batched chunk read against one read per
// series, and the binary-searched chunk decode against a filter of the whole chunk.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeChunk, encodeChunk } from '../../../src/telemetry/metrics/chunk.ts';
import { ChunkTable, TIER_1M } from '../../../src/telemetry/metrics/chunks.ts';
import { increases, type Steps } from '../../../src/telemetry/metrics/evaluate.ts';
import { bucketsToJSON, emptyBuckets, pushBucket, type Buckets } from '../../../src/telemetry/metrics/rollup.ts';
import { openMetricsDb } from '../../../src/telemetry/metrics/schema.ts';

const M = 60_000;
const H = 3_600_000;
const D = 86_400_000;

/** Deterministic pseudo-random numbers (mulberry32), so a failure reproduces. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Counter-like buckets of `width` from `start`: n of them, dense or with gaps, with resets. */
function counterBuckets(r: () => number, width: number, start: number, n: number, gaps: boolean): Buckets {
  const b = emptyBuckets(width);
  let v = r() * 100;
  let s = start;
  for (let i = 0; i < n; i++) {
    const first = r() < 0.05 ? r() * 3 : v + r() * 10; // sometimes a reset between buckets
    const inc = r() < 0.05 ? r() * 7 : r() * 30 + 0.1; // sometimes a reset inside
    const last = first + inc * 0.5;
    pushBucket(b, s, 4, first + last, first, last, first, last, inc);
    v = last;
    s += gaps && r() < 0.2 ? width * (2 + Math.floor(r() * 5)) : width;
  }
  return b;
}

const same = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => Object.is(x, b[i]));

test('increases: the dense-bucket path gives exactly the scanning path\'s values', () => {
  const r = rng(42);
  let dense = 0;
  for (let round = 0; round < 400; round++) {
    const width = r() < 0.7 ? M : H;
    const t0 = Date.UTC(2025, 0, 1) + Math.floor(r() * 1000) * width;
    const n = Math.floor(r() * 200);
    const b = counterBuckets(r, width, t0, n, r() < 0.3);
    // Steps and windows mostly on multiples of the width (the fast path), sometimes not (fallback);
    // first steps before, inside and after the data.
    const mult = (k: number) => (r() < 0.85 ? k * width : k * width + Math.floor(r() * width));
    const steps: Steps = {
      stepMs: mult(1 + Math.floor(r() * 4)),
      windowMs: mult(1 + Math.floor(r() * 6)),
      lookbackMs: Math.max(5 * M, 2 * width) + (r() < 0.5 ? 0 : width * Math.floor(r() * 4)),
      firstStep: t0 + (Math.floor(r() * (n + 20)) - 10) * width + (r() < 0.85 ? 0 : Math.floor(r() * width)),
      stepCount: 1 + Math.floor(r() * 300),
    };
    if (steps.stepMs % width === 0 && steps.windowMs % width === 0 && (steps.firstStep - t0) % width === 0) dense++;
    for (const perSecond of [true, false]) {
      const fast = increases(b, steps, perSecond, new Array(steps.stepCount).fill(NaN));
      const scan = increases(b, steps, perSecond, new Array(steps.stepCount).fill(NaN), true);
      assert.ok(same(fast, scan), `round ${round} perSecond ${perSecond}: ${JSON.stringify({ steps, n })}`);
    }
  }
  assert.ok(dense > 200, `the fast path was exercised (${dense} rounds)`);
});

test('decodeChunk: a time range gives exactly the buckets of the whole chunk inside it', () => {
  const r = rng(7);
  for (let round = 0; round < 200; round++) {
    const chunkStart = 10 * D;
    const b = counterBuckets(r, M, chunkStart, Math.floor(r() * 300), true);
    while (b.n > 0 && b.start[b.n - 1] >= chunkStart + D) b.n--; // stay inside the day
    const blob = encodeChunk(b, chunkStart);
    const all = emptyBuckets(M);
    decodeChunk(blob, chunkStart, all);
    const from = chunkStart + Math.floor(r() * 1600 - 100) * M + (r() < 0.3 ? Math.floor(r() * M) : 0);
    const to = from + Math.floor(r() * 1600 - 50) * M;
    const part = emptyBuckets(M);
    decodeChunk(blob, chunkStart, part, from, to);
    const want = bucketsToJSON(all);
    const keep = (want.start as number[]).map((s) => s >= from && s < to);
    for (const k of Object.keys(want)) if (Array.isArray(want[k])) want[k] = (want[k] as number[]).filter((_, i) => keep[i]);
    assert.deepEqual(bucketsToJSON(part), want, `round ${round}`);
  }
});

test('ChunkTable.readEach: the same buckets as readSeries per series, in the order asked, across batches', () => {
  const db = openMetricsDb(':memory:');
  try {
    const table = new ChunkTable(db, TIER_1M);
    const r = rng(3);
    const day0 = 20 * D;
    const ids: number[] = [];
    // 250 series (more than one read batch): a sealed day chunk, hour chunks of the next day,
    // some with gaps and some with nothing at all.
    for (let id = 1; id <= 250; id++) {
      ids.push(id);
      if (id % 17 === 0) continue; // no chunks
      const sealed = counterBuckets(r, M, day0 + Math.floor(r() * 600) * M, Math.floor(r() * 400), id % 3 === 0);
      while (sealed.n > 0 && sealed.start[sealed.n - 1] >= day0 + D) sealed.n--;
      if (sealed.n) table.writeSpan(day0, new Map([[id, sealed]]), Infinity); // written as open…
      for (let h = 0; h < 3; h++) {
        const hour = counterBuckets(r, M, day0 + D + h * H + Math.floor(r() * 10) * M, Math.floor(r() * 40), id % 5 === 0);
        while (hour.n > 0 && hour.start[hour.n - 1] >= day0 + D + (h + 1) * H) hour.n--;
        if (hour.n) table.writeSpan(day0 + D + h * H, new Map([[id, hour]]), day0 + D);
      }
    }
    for (let h = 0; h < 24; h++) table.seal(day0 + h * H, 0, 1_000); // …then sealed into the day chunk
    const spans = db.prepare('SELECT span, count(*) AS n FROM m1 GROUP BY span ORDER BY span').all().map((x) => [x.span, x.n]);
    assert.deepEqual(spans.map(([span]) => span), [H, D]);
    const order = [...ids].sort(() => r() - 0.5).concat([9_999]); // any order, and an unknown id
    for (const fields of [['last'], ['first', 'last', 'inc']] as const) {
      for (const [from, to] of [[day0 - D, day0 + 2 * D], [day0 + 5 * H + 7 * M, day0 + D + 90 * M], [day0 + D + 30 * M, day0 + D + 31 * M]]) {
        const got: unknown[] = [];
        table.readEach(order, from, to, emptyBuckets(M, 0, fields), (i) => i % 4, (i, b) => {
          assert.equal(got.length, i);
          got.push(bucketsToJSON(b));
        });
        const want = order.map((id) => bucketsToJSON(table.readSeries(id, from, to, fields)));
        assert.deepEqual(got, want, `fields ${fields} from ${from} to ${to}`);
        assert.ok(want.some((b) => (b as { start: number[] }).start.length > 0));
      }
    }
  } finally {
    db.close();
  }
});
