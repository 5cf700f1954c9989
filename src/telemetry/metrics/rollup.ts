// Rollup buckets: what the 1-minute and 1-hour tiers keep per series per bucket. Pure.
//
// count/sum/min/max serve averages and extremes; first/last/inc serve counters: `inc` is the
// increase from the bucket's first to its last sample with counter resets handled (a drop
// means the counter restarted from 0), and `first`/`last` let a reader add the increase
// *between* adjacent buckets the same way. So rate over rollups sees resets inside a bucket
// too, where keeping only `last` would miss them.
//
// Raw samples use the same shape with width 0 (one sample = one bucket), so the query code has
// a single code path for every resolution. NaN values are skipped: they are gaps.
//
// A bucket holds the samples with start < ts ≤ start + width and "happens" at its end: so the
// sample at exactly 12:01:00 belongs to the bucket that ends at 12:01:00, like it belongs to
// the window (12:00:00, 12:01:00] of a raw query at that step, and every resolution agrees.
//
// Columns are growable Float64Arrays (a query over 1,000 series × 1,440 buckets would
// otherwise spend most of its time collecting garbage). A reader may load only the fields a
// function needs: the others then have length 0 and `fields` says which are there.

export const FIELDS = ['count', 'sum', 'min', 'max', 'first', 'last', 'inc'] as const;
export type Field = (typeof FIELDS)[number];

export interface Buckets {
  /** ms; 0 = raw samples. A bucket covers (start, start + width]. */
  width: number;
  /** Buckets in use; the arrays may be longer (capacity). */
  n: number;
  /** The fields held (all of FIELDS unless loaded for one query). */
  fields: readonly Field[];
  start: Float64Array;
  count: Float64Array;
  sum: Float64Array;
  min: Float64Array;
  max: Float64Array;
  first: Float64Array;
  last: Float64Array;
  inc: Float64Array;
}

const NONE = new Float64Array(0);

export function emptyBuckets(width: number, capacity = 8, fields: readonly Field[] = FIELDS): Buckets {
  const b: Buckets = { width, n: 0, fields, start: NONE, count: NONE, sum: NONE, min: NONE, max: NONE, first: NONE, last: NONE, inc: NONE };
  allocate(b, capacity);
  return b;
}

/** (Re)allocates the columns as views on one buffer (one allocation, not eight), keeping the first n. */
function allocate(b: Buckets, capacity: number): void {
  const buffer = new ArrayBuffer(capacity * 8 * (1 + b.fields.length));
  const old = b.start;
  b.start = new Float64Array(buffer, 0, capacity);
  if (b.n) b.start.set(old.subarray(0, b.n));
  b.fields.forEach((f, i) => {
    const prev = b[f];
    b[f] = new Float64Array(buffer, capacity * 8 * (i + 1), capacity);
    if (b.n) b[f].set(prev.subarray(0, b.n));
  });
}

export function size(b: Buckets): number {
  return b.n;
}

/** Makes room for `need` buckets in total. */
export function reserve(b: Buckets, need: number): void {
  if (need <= b.start.length) return;
  allocate(b, b.n === 0 ? need : Math.max(need, b.start.length * 2));
}

export function pushBucket(b: Buckets, start: number, count: number, sum: number, min: number, max: number, first: number, last: number, inc: number): void {
  const i = b.n;
  if (i === b.start.length) reserve(b, i + 1);
  b.start[i] = start;
  if (b.fields === FIELDS) {
    b.count[i] = count; b.sum[i] = sum; b.min[i] = min; b.max[i] = max; b.first[i] = first; b.last[i] = last; b.inc[i] = inc;
  } else {
    const v = { count, sum, min, max, first, last, inc };
    for (const f of b.fields) b[f][i] = v[f];
  }
  b.n = i + 1;
}

/** Increase from `prev` to `next` of a counter; a drop is a reset, so all of `next` is new. */
export function counterDelta(prev: number, next: number): number {
  return next >= prev ? next - prev : next;
}

/** The bucket of `width` (> 0) that holds a sample at ts: start < ts ≤ start + width. */
export function bucketOf(ts: number, width: number): number {
  return Math.ceil(ts / width) * width - width;
}

/** Streams samples, or finer buckets, oldest first into buckets of `width` ms. */
export class Accumulator {
  readonly out: Buckets;
  private open = false;
  private cur = 0;
  private count = 0;
  private sum = 0;
  private min = 0;
  private max = 0;
  private first = 0;
  private last = 0;
  private inc = 0;

  constructor(width: number, out: Buckets = emptyBuckets(width)) {
    this.out = out;
  }

  addSample(ts: number, v: number): void {
    if (v !== v) return; // NaN: a gap
    const width = this.out.width;
    this.push(width > 0 ? bucketOf(ts, width) : ts, 1, v, v, v, v, v, 0);
  }

  /** Adds a finer bucket starting at `start` (aligned to its own width, which divides ours). */
  add(start: number, count: number, sum: number, min: number, max: number, first: number, last: number, inc: number): void {
    const width = this.out.width;
    this.push(width > 0 ? Math.floor(start / width) * width : start, count, sum, min, max, first, last, inc);
  }

  private push(start: number, count: number, sum: number, min: number, max: number, first: number, last: number, inc: number): void {
    if (!this.open || start !== this.cur) {
      this.flush();
      this.open = true;
      this.cur = start;
      this.count = count;
      this.sum = sum;
      this.min = min;
      this.max = max;
      this.first = first;
      this.last = last;
      this.inc = inc;
      return;
    }
    this.inc += counterDelta(this.last, first) + inc;
    this.last = last;
    this.count += count;
    this.sum += sum;
    if (min < this.min) this.min = min;
    if (max > this.max) this.max = max;
  }

  /** Closes the open bucket; call once after the last add. */
  flush(): Buckets {
    if (this.open) {
      pushBucket(this.out, this.cur, this.count, this.sum, this.min, this.max, this.first, this.last, this.inc);
      this.open = false;
    }
    return this.out;
  }
}

/** Raw samples (ascending ts) → buckets of `width`. */
export function rollupSamples(ts: ArrayLike<number>, values: ArrayLike<number>, width: number): Buckets {
  const acc = new Accumulator(width);
  for (let i = 0; i < ts.length; i++) acc.addSample(ts[i], values[i]);
  return acc.flush();
}

/** Finer buckets (all fields) → coarser buckets of `width` (a multiple of src.width). */
export function rollupBuckets(src: Buckets, width: number): Buckets {
  const acc = new Accumulator(width);
  appendRolledUp(acc, src);
  return acc.flush();
}

export function appendRolledUp(acc: Accumulator, src: Buckets): void {
  const { start, count, sum, min, max, first, last, inc } = src;
  for (let i = 0; i < src.n; i++) acc.add(start[i], count[i], sum[i], min[i], max[i], first[i], last[i], inc[i]);
}

/** Appends bucket i of src to dst (the fields dst holds; src must hold them too). */
export function copyBucket(dst: Buckets, src: Buckets, i: number): void {
  const k = dst.n;
  if (k === dst.start.length) reserve(dst, k + 1);
  dst.start[k] = src.start[i];
  for (const f of dst.fields) dst[f][k] = src[f][i];
  dst.n = k + 1;
}

/** True when starts strictly increase (the normal case; chunks never overlap). */
export function isOrdered(b: Buckets): boolean {
  for (let i = 1; i < b.n; i++) if (b.start[i] <= b.start[i - 1]) return false;
  return true;
}

/** Sorts by start; of equal starts the one appended last wins. */
export function orderBuckets(b: Buckets): Buckets {
  if (isOrdered(b)) return b;
  const idx = Array.from({ length: b.n }, (_, i) => i).sort((x, y) => b.start[x] - b.start[y] || x - y);
  const out = emptyBuckets(b.width, b.n, b.fields);
  for (let k = 0; k < idx.length; k++) {
    if (k + 1 < idx.length && b.start[idx[k + 1]] === b.start[idx[k]]) continue;
    copyBucket(out, b, idx[k]);
  }
  return out;
}

/** A plain-object copy (tests, debugging). */
export function bucketsToJSON(b: Buckets): Record<string, number[] | number> {
  const out: Record<string, number[] | number> = { width: b.width, start: Array.from(b.start.subarray(0, b.n)) };
  for (const f of b.fields) out[f] = Array.from(b[f].subarray(0, b.n));
  return out;
}
