// Rollup chunk tables (m1, h1): reading buckets out, read-modify-writing buckets in, sealing
// open chunks into big ones, deleting expired chunks. All SQL about chunks lives here.
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { chunkLength, decodeChunk, encodeChunk, mergeChunk, type ChunkColumns } from './chunk.ts';
import { DAY, HOUR, MINUTE } from './plan.ts';
import { FIELDS, emptyBuckets, orderBuckets, reserve, type Buckets, type Field } from './rollup.ts';
import { CHUNK_COLUMNS } from './schema.ts';

export interface Tier {
  name: '1m' | '1h';
  table: 'm1' | 'h1';
  /** Bucket width. */
  width: number;
  /** Compaction writes buckets into chunks of this span (small, so rewriting one each minute is cheap)… */
  openSpan: number;
  /**
   * …and once an open span is complete, merges it into the chunk of this span that covers it
   * (one bigger rewrite per open span), so a day of 1-minute buckets is read as one row.
   */
  sealedSpan: number;
}

export const TIER_1M: Tier = { name: '1m', table: 'm1', width: MINUTE, openSpan: HOUR, sealedSpan: DAY };
export const TIER_1H: Tier = { name: '1h', table: 'h1', width: HOUR, openSpan: DAY, sealedSpan: 30 * DAY };

export const floorTo = (t: number, span: number) => Math.floor(t / span) * span;

type ChunkRow = { id: number; series_id: number; start: number; span: number } & Required<ChunkColumns>;

const ALL = CHUNK_COLUMNS.join(', ');
const values = (c: Required<ChunkColumns>) => CHUNK_COLUMNS.map((k) => c[k]);

export class ChunkTable {
  readonly tier: Tier;
  private readonly db: DatabaseSync;
  private readonly stmts: Record<string, StatementSync>;
  private readonly seriesReads = new Map<string, StatementSync>();

  constructor(db: DatabaseSync, tier: Tier) {
    this.db = db;
    this.tier = tier;
    const t = tier.table;
    this.stmts = {
      span: db.prepare(`SELECT id, series_id, start, span, ${ALL} FROM ${t} WHERE ((start = ? AND span = ?) OR (start = ? AND span = ?)) AND series_id >= ? AND series_id <= ?`),
      open: db.prepare(`SELECT id, series_id, start, span, ${ALL} FROM ${t} WHERE start = ? AND span = ? AND series_id >= ? AND series_id <= ?`),
      one: db.prepare(`SELECT id, series_id, start, span, ${ALL} FROM ${t} WHERE series_id = ? AND start = ? AND span = ?`),
      insert: db.prepare(`INSERT OR REPLACE INTO ${t} (series_id, start, span, ${ALL}) VALUES (?, ?, ?, ${CHUNK_COLUMNS.map(() => '?').join(', ')})`),
      update: db.prepare(`UPDATE ${t} SET ${CHUNK_COLUMNS.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`),
      sealable: db.prepare(`SELECT id, series_id, start, span, ${ALL} FROM ${t} WHERE start = ? AND span = ? AND series_id >= ? AND series_id <= ?`),
      delete: db.prepare(`DELETE FROM ${t} WHERE id = ?`),
      expire: db.prepare(`DELETE FROM ${t} WHERE id IN (SELECT id FROM ${t} WHERE start < ? AND start + span <= ? LIMIT ?)`),
      next: db.prepare(`SELECT min(start) AS start FROM ${t} WHERE start >= ?`),
      deleteSeries: db.prepare(`DELETE FROM ${t} WHERE series_id = ?`),
    };
  }

  /**
   * One series' buckets with start in [from, to), holding only `fields` (all by default), with
   * room for `extra` more (the caller's fresh tail) so appending does not reallocate.
   */
  readSeries(seriesId: number, from: number, to: number, fields: readonly Field[] = FIELDS, extra = 0): Buckets {
    return this.readInto(seriesId, from, to, emptyBuckets(this.tier.width, 0, fields), extra);
  }

  /** readSeries into `out` (appending; its fields decide what is read). Returns `out`, or a reordered copy. */
  readInto(seriesId: number, from: number, to: number, out: Buckets, extra = 0): Buckets {
    const fields = out.fields;
    const stmt = this.seriesStatement(fields);
    const rows = stmt.all(seriesId, from - this.tier.sealedSpan, to) as unknown as [number, number, Uint8Array, ...Uint8Array[]][];
    let total = 0;
    for (const r of rows) total += r[2].byteLength / 2;
    reserve(out, out.n + total + extra);
    for (const r of rows) {
      if (r[0] + r[1] <= from) continue;
      const cols: ChunkColumns = { slots: r[2] };
      for (let k = 0; k < fields.length; k++) cols[fields[k]] = r[3 + k] as Uint8Array;
      decodeChunk(cols, r[0], out, from, to);
    }
    return orderBuckets(out);
  }

  private seriesStatement(fields: readonly Field[]): StatementSync {
    const key = fields.join(',');
    let stmt = this.seriesReads.get(key);
    if (!stmt) {
      stmt = this.db.prepare(`SELECT start, span, slots${fields.map((f) => `, ${f}`).join('')} FROM ${this.tier.table} WHERE series_id = ? AND start > ? AND start < ? ORDER BY start`);
      stmt.setReturnArrays(true); // rows as arrays: no object per row
      this.seriesReads.set(key, stmt);
    }
    return stmt;
  }

  /** The buckets inside the open span starting at spanStart of every series with id in [idFrom, idTo]. */
  readSpan(spanStart: number, idFrom = 0, idTo = Number.MAX_SAFE_INTEGER): Map<number, Buckets> {
    const { openSpan, sealedSpan, width } = this.tier;
    const rows = this.stmts.span.all(spanStart, openSpan, floorTo(spanStart, sealedSpan), sealedSpan, idFrom, idTo) as unknown as ChunkRow[];
    const out = new Map<number, Buckets>();
    for (const r of rows) {
      let b = out.get(r.series_id);
      if (!b) out.set(r.series_id, (b = emptyBuckets(width, Math.min(chunkLength(r), openSpan / width))));
      decodeChunk(r, r.start, b, spanStart, spanStart + openSpan);
    }
    for (const [id, b] of out) out.set(id, orderBuckets(b));
    return out;
  }

  /**
   * Writes each series' buckets (all inside the open span at spanStart), replacing buckets with
   * the same start. Spans before `sealedBefore` may already be sealed: their buckets go into the
   * sealed chunk, so chunks never overlap.
   */
  writeSpan(spanStart: number, updates: Map<number, Buckets>, sealedBefore: number): void {
    const { openSpan, sealedSpan } = this.tier;
    if (updates.size === 0) return;
    if (spanStart >= sealedBefore) {
      let lo = Infinity;
      let hi = -Infinity;
      for (const id of updates.keys()) { if (id < lo) lo = id; if (id > hi) hi = id; }
      const existing = new Map<number, ChunkRow>();
      for (const r of this.stmts.open.all(spanStart, openSpan, lo, hi) as unknown as ChunkRow[]) existing.set(r.series_id, r);
      for (const [id, b] of updates) {
        if (b.n === 0) continue;
        const row = existing.get(id);
        if (row) this.stmts.update.run(...values(mergeChunk(row, spanStart, b)), row.id);
        else this.stmts.insert.run(id, spanStart, openSpan, ...values(encodeChunk(b, spanStart)));
      }
      return;
    }
    const sealedStart = floorTo(spanStart, sealedSpan);
    for (const [id, b] of updates) {
      if (b.n === 0) continue;
      const sealed = this.stmts.one.get(id, sealedStart, sealedSpan) as unknown as ChunkRow | undefined;
      if (sealed) {
        this.stmts.update.run(...values(mergeChunk(sealed, sealedStart, b)), sealed.id);
        continue;
      }
      const open = this.stmts.one.get(id, spanStart, openSpan) as unknown as ChunkRow | undefined;
      if (open) this.stmts.update.run(...values(mergeChunk(open, spanStart, b)), open.id);
      else this.stmts.insert.run(id, spanStart, openSpan, ...values(encodeChunk(b, spanStart)));
    }
  }

  /**
   * Merges the open chunk at spanStart of each series with id in [idFrom, idTo] into the sealed
   * chunk that covers it (creating it), so readers find few big chunks instead of many small
   * ones. Returns how many series it merged.
   */
  seal(spanStart: number, idFrom: number, idTo: number): number {
    const { openSpan, sealedSpan, width } = this.tier;
    const sealedStart = floorTo(spanStart, sealedSpan);
    const open = this.stmts.sealable.all(spanStart, openSpan, idFrom, idTo) as unknown as ChunkRow[];
    for (const r of open) {
      const sealed = this.stmts.one.get(r.series_id, sealedStart, sealedSpan) as unknown as ChunkRow | undefined;
      const b = emptyBuckets(width, chunkLength(r));
      decodeChunk(r, r.start, b);
      const merged = mergeChunk(sealed, sealedStart, b);
      if (sealed) this.stmts.update.run(...values(merged), sealed.id);
      else this.stmts.insert.run(r.series_id, sealedStart, sealedSpan, ...values(merged));
      this.stmts.delete.run(r.id);
    }
    return open.length;
  }

  /** Deletes up to `limit` chunks that end at or before `cutoff`; returns how many. */
  expire(cutoff: number, limit: number): number {
    return Number(this.stmts.expire.run(cutoff, cutoff, limit).changes);
  }

  /** Start of the first chunk at or after t, if any. */
  nextStart(t: number): number | undefined {
    const row = this.stmts.next.get(t) as { start: number | null };
    return row.start ?? undefined;
  }

  deleteSeries(id: number): void {
    this.stmts.deleteSeries.run(id);
  }
}
