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

/**
 * Series per statement in readEach. Small on purpose: a batch's blobs (~1 MB for a day of
 * 3 fields × 10 series) are decoded while still in the CPU cache; 100 per batch measured slower.
 */
const READ_BATCH = 10;

/** A chunk row as an array: [series_id?, start, span, slots, ...fields]. */
type ChunkArrayRow = (number | Uint8Array)[];

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
    const rows = this.seriesStatement(out.fields).all(seriesId, from - this.tier.sealedSpan, to) as unknown as ChunkArrayRow[];
    return this.decodeRows(rows, 0, rows.length, from, to, out, extra);
  }

  /**
   * readInto for many series at once, the way a query reads: one statement per batch of
   * READ_BATCH series rather than one per series (a 24 h query over 1,000 series is ~3,000
   * chunk rows either way; the per-statement cost is what this saves). Visits in the order of
   * `ids` (aggregations add in that order, so sums stay bit-identical). For each ids[i] in
   * order, `out` is emptied, filled with its buckets in [from, to) (room for extra(i) more) and
   * passed to visit(i, buckets) — `out` itself or a reordered copy, valid during the call only.
   */
  readEach(ids: readonly number[], from: number, to: number, out: Buckets, extra: (i: number) => number, visit: (i: number, b: Buckets) => void): void {
    const stmt = this.batchStatement(out.fields);
    const at = new Map<number, number>();
    for (let b0 = 0; b0 < ids.length; b0 += READ_BATCH) {
      const batch = ids.slice(b0, b0 + READ_BATCH);
      // Rows come ordered by series_id, then start: each series' rows are one run.
      const rows = stmt.all(JSON.stringify(batch), from - this.tier.sealedSpan, to) as unknown as ChunkArrayRow[];
      at.clear();
      for (let r = 0; r < rows.length; r++) if (r === 0 || rows[r][0] !== rows[r - 1][0]) at.set(rows[r][0] as number, r);
      for (let k = 0; k < batch.length; k++) {
        const id = batch[k];
        const lo = at.get(id) ?? rows.length;
        let hi = lo;
        while (hi < rows.length && rows[hi][0] === id) hi++;
        out.n = 0;
        visit(b0 + k, this.decodeRows(rows, lo, hi, from, to, out, extra(b0 + k), 1));
      }
    }
  }

  /** Decodes rows[lo, hi) (one series, ascending start; columns from `skip`: start, span, slots, fields…) into out. */
  private decodeRows(rows: ChunkArrayRow[], lo: number, hi: number, from: number, to: number, out: Buckets, extra: number, skip = 0): Buckets {
    const fields = out.fields;
    let total = 0;
    for (let r = lo; r < hi; r++) total += (rows[r][skip + 2] as Uint8Array).byteLength / 2;
    reserve(out, out.n + total + extra);
    for (let r = lo; r < hi; r++) {
      const row = rows[r];
      const start = row[skip] as number;
      if (start + (row[skip + 1] as number) <= from) continue;
      const cols: ChunkColumns = { slots: row[skip + 2] as Uint8Array };
      for (let k = 0; k < fields.length; k++) cols[fields[k]] = row[skip + 3 + k] as Uint8Array;
      decodeChunk(cols, start, out, from, to);
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

  private batchStatement(fields: readonly Field[]): StatementSync {
    const key = `batch:${fields.join(',')}`;
    let stmt = this.seriesReads.get(key);
    if (!stmt) {
      // The IN list is walked in id order through the (series_id, start, span) index: no sort.
      stmt = this.db.prepare(`SELECT series_id, start, span, slots${fields.map((f) => `, ${f}`).join('')} FROM ${this.tier.table}
        WHERE series_id IN (SELECT value FROM json_each(?)) AND start > ? AND start < ? ORDER BY series_id, start`);
      stmt.setReturnArrays(true);
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
