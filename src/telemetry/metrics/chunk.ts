// Rollup chunks: the buckets of one series over one span (an hour, a day, 30 days) packed into
// BLOBs, one per field. Pure. Why blobs and not a row per bucket: a 24-hour query over 1,000
// series at 1-minute steps is 1.44 M buckets; node:sqlite costs ~0.5 µs per row returned, so
// rows alone would blow the 100 ms budget, while ~10,000 chunk rows read in a few ms. Why a
// blob per field: a query reads only the fields its function needs (the last value: 1 of 7).
//
// Sparse, so a series that lived for 10 minutes of a day costs 10 slots, not 1,440 (release
// labels make short-lived series common). For n present buckets:
//   slots  n × uint16: bucket index within the chunk, ascending
//   <field> n × float64 for each of FIELDS
// 58 bytes per bucket. Platform byte order (little-endian everywhere Node runs).
import { FIELDS, emptyBuckets, reserve, type Buckets, type Field } from './rollup.ts';

export type ChunkColumns = { slots: Uint8Array } & { [F in Field]?: Uint8Array };

function f64(blob: Uint8Array): Float64Array {
  // Float64Array needs 8-byte alignment; blobs from node:sqlite normally have their own buffer.
  const bytes = blob.byteOffset % 8 === 0 ? blob : blob.slice();
  return new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
}

function u16(blob: Uint8Array): Uint16Array {
  const bytes = blob.byteOffset % 2 === 0 ? blob : blob.slice();
  return new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
}

/** The first index i ≥ lo with chunkStart + slots[i] × w ≥ t (slots ascending), or slots.length. */
function firstAtOrAfter(slots: Uint16Array, chunkStart: number, w: number, t: number, lo: number): number {
  let hi = slots.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (chunkStart + slots[mid] * w < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function chunkLength(c: ChunkColumns): number {
  return c.slots.byteLength / 2;
}

/** Appends the chunk's buckets with start in [from, to) to `out`, reading the fields `out` holds. */
export function decodeChunk(c: ChunkColumns, chunkStart: number, out: Buckets, from = -Infinity, to = Infinity): void {
  const slots = u16(c.slots);
  const n = slots.length;
  const w = out.width;
  // Buckets are ascending: find the sub-range inside [from, to) first (binary search).
  const lo = firstAtOrAfter(slots, chunkStart, w, from, 0);
  const hi = firstAtOrAfter(slots, chunkStart, w, to, lo);
  if (hi === lo) return;
  reserve(out, out.n + hi - lo);
  const base = out.n;
  const start = out.start;
  for (let i = lo; i < hi; i++) start[base + i - lo] = chunkStart + slots[i] * w;
  for (const f of out.fields) {
    const blob = c[f];
    if (!blob || blob.byteLength !== n * 8) throw new Error(`corrupt metrics chunk: field ${f} has ${blob?.byteLength ?? 0} bytes for ${n} buckets`);
    out[f].set(f64(blob).subarray(lo, hi), base);
  }
  out.n = base + hi - lo;
}

/** Packs buckets (all fields; ascending; all within [chunkStart, chunkStart + 65536 × width)). */
export function encodeChunk(b: Buckets, chunkStart: number): Required<ChunkColumns> {
  const n = b.n;
  // One buffer, one view per column: a single allocation per chunk written.
  const buffer = new ArrayBuffer(n * (2 + 8 * FIELDS.length));
  const slots = new Uint16Array(buffer, n * 8 * FIELDS.length, n);
  for (let i = 0; i < n; i++) {
    const slot = (b.start[i] - chunkStart) / b.width;
    if (!Number.isInteger(slot) || slot < 0 || slot > 0xffff) throw new Error(`bucket ${b.start[i]} does not belong to the chunk at ${chunkStart}`);
    slots[i] = slot;
  }
  const out = { slots: new Uint8Array(buffer, n * 8 * FIELDS.length, n * 2) } as Required<ChunkColumns>;
  FIELDS.forEach((f, k) => {
    new Float64Array(buffer, k * n * 8, n).set(b[f].subarray(0, n));
    out[f] = new Uint8Array(buffer, k * n * 8, n * 8);
  });
  return out;
}

/**
 * Read-modify-write of one chunk: `updates` (ascending, within the chunk) replace buckets with
 * the same start; the rest of `existing` stays. Replacing, not adding, makes recomputing a
 * bucket (late samples) idempotent.
 */
export function mergeChunk(existing: ChunkColumns | undefined, chunkStart: number, updates: Buckets): Required<ChunkColumns> {
  if (!existing || existing.slots.byteLength === 0) return encodeChunk(updates, chunkStart);
  const old = emptyBuckets(updates.width, chunkLength(existing));
  decodeChunk(existing, chunkStart, old);
  const merged = emptyBuckets(updates.width, old.n + updates.n);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < old.n || j < updates.n) {
    const useNew = j < updates.n && (i >= old.n || updates.start[j] <= old.start[i]);
    if (useNew && i < old.n && updates.start[j] === old.start[i]) i++; // replaced
    const src = useNew ? updates : old;
    const s = useNew ? j++ : i++;
    merged.start[k] = src.start[s];
    for (const f of FIELDS) merged[f][k] = src[f][s];
    k++;
  }
  merged.n = k;
  return encodeChunk(merged, chunkStart);
}
