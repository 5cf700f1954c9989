// Background compaction, one small unit of work per step so the event loop is never held for
// long (node:sqlite is synchronous): roll raw samples up into 1-minute buckets, those into
// 1-hour buckets, merge finished open chunks into sealed ones, redo buckets that got late
// samples, and delete what retention says is too old.
//
// A unit covers a time range for a batch of series ids (seriesPerStep), so its cost does not
// grow with the number of series; a cursor walks the ids. Progress (watermarks, cursors) is
// committed in the same transaction as the work, so a crash repeats at most one unit,
// harmlessly: writing a bucket replaces it. Readers never see a half-done unit: they take
// chunks only below the watermark, which moves when the last batch of the unit commits.
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { transaction } from '../../store/db.ts';
import type { Catalog } from './catalog.ts';
import { floorTo, type ChunkTable } from './chunks.ts';
import { DAY, HOUR, MINUTE } from './plan.ts';
import type { Watermarks } from './reader.ts';
import { Accumulator, bucketOf, rollupBuckets, type Buckets } from './rollup.ts';

export interface CompactionConfig {
  rawRetentionMs: number;
  minuteRetentionMs: number;
  hourRetentionMs: number;
  /** A minute is rolled up once it ended this long ago (scrapes in flight may still add to it). */
  graceMs: number;
  /** Series ids per compaction step: bounds the chunk rewrites (and so the time) of one step. */
  seriesPerStep: number;
}

/** Raw rows a rollup unit aims to read per series batch. */
const UNIT_ROWS = 100_000;
const DELETE_BATCH = 50_000; // raw rows per retention unit
const EXPIRE_BATCH = 1_000; // chunks per retention unit
const LATE_BATCH = 1_000; // late (bucket, series) pairs per redo unit
const GC_EVERY_MS = HOUR;

export class Compactor {
  private readonly db: DatabaseSync;
  private readonly catalog: Catalog;
  private readonly m1: ChunkTable;
  private readonly h1: ChunkTable;
  private readonly config: CompactionConfig;
  private readonly s: Record<string, StatementSync>;
  private readonly meta = new Map<string, number>();
  private readonly pending = new Map<string, number>();
  private rowsPerMinute = 0;
  private lastGc = -Infinity;

  constructor(db: DatabaseSync, catalog: Catalog, m1: ChunkTable, h1: ChunkTable, config: CompactionConfig) {
    this.db = db;
    this.catalog = catalog;
    this.m1 = m1;
    this.h1 = h1;
    this.config = config;
    this.s = {
      rawRange: db.prepare('SELECT series_id, ts, value FROM raw WHERE ts > ? AND ts <= ? AND series_id >= ? AND series_id <= ?'),
      rawSeries: db.prepare('SELECT series_id, ts, value FROM raw WHERE ts > ? AND ts <= ? AND series_id IN (SELECT value FROM json_each(?))'),
      rawAny: db.prepare('SELECT 1 FROM raw WHERE ts > ? AND ts <= ? LIMIT 1'),
      rawNext: db.prepare('SELECT ts FROM raw WHERE ts > ? ORDER BY ts LIMIT 1'),
      rawMin: db.prepare('SELECT min(ts) AS ts FROM raw'),
      rawNth: db.prepare('SELECT ts FROM raw ORDER BY ts LIMIT 1 OFFSET ?'),
      rawDelete: db.prepare('DELETE FROM raw WHERE ts < ?'),
      lateNext: db.prepare('SELECT bucket FROM dirty WHERE tier = ? ORDER BY bucket LIMIT 1'),
      lateSeries: db.prepare('SELECT series_id FROM dirty WHERE tier = ? AND bucket = ? LIMIT ?'),
      lateAdd: db.prepare('INSERT OR IGNORE INTO dirty (tier, bucket, series_id) VALUES (?, ?, ?)'),
      lateDelete: db.prepare('DELETE FROM dirty WHERE tier = ? AND bucket = ? AND series_id = ?'),
      lateExpire: db.prepare("DELETE FROM dirty WHERE tier = '1m' AND bucket < ?"),
      metaSet: db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
      gcCandidates: db.prepare('SELECT id FROM series WHERE last_seen < ? LIMIT 500'),
      gcDelete: db.prepare('DELETE FROM series WHERE id = ?'),
    };
    this.s.rawRange.setReturnArrays(true);
    this.s.rawSeries.setReturnArrays(true);
    for (const row of db.prepare('SELECT key, value FROM meta').all() as { key: string; value: number }[]) this.meta.set(row.key, row.value);
  }

  watermarks(): Watermarks {
    return { m1: this.meta.get('wm_1m'), h1: this.meta.get('wm_1h') };
  }

  /**
   * Samples at or before this are for 1-minute buckets already rolled up, or being rolled up
   * by a unit in progress (its batch for their series may be done): they must be redone.
   */
  lateBefore(): number {
    const wm = this.meta.get('wm_1m') ?? -Infinity;
    return this.meta.get('cursor_1m') ? Math.max(wm, this.meta.get('unit_1m_end')!) : wm;
  }

  /** Like lateBefore, for 1-hour buckets (as minute bucket starts: hours before this are rolled up). */
  private hoursBefore(): number {
    const wm = this.meta.get('wm_1h')!;
    return this.meta.get('cursor_1h') ? wm + HOUR : wm;
  }

  /** Open spans before this are (being) merged into sealed chunks: writes for them go there. */
  private sealedBefore(table: ChunkTable, key: 'seal_1m' | 'seal_1h'): number {
    const start = this.meta.get(key)!;
    return this.meta.get(`${key}_cursor`) ? start + table.tier.openSpan : start;
  }

  /** Records samples that arrived for 1-minute buckets already rolled up (caller holds the ingest transaction). */
  markLate(late: Iterable<[bucket: number, seriesId: number]>): void {
    for (const [bucket, id] of late) this.s.lateAdd.run('1m', bucket, id);
  }

  /** Does one unit of work; returns what it did, or undefined when there is nothing to do. */
  step(now: number): string | undefined {
    if (this.meta.get('wm_1m') === undefined && !this.init()) return this.retention(now);
    return this.redo('1m', now) ?? this.rollMinutes(now) ?? this.redo('1h', now) ?? this.rollHours()
      ?? this.seal(this.m1, 'seal_1m') ?? this.seal(this.h1, 'seal_1h') ?? this.retention(now);
  }

  /** Starts the watermarks at the oldest raw sample. */
  private init(): boolean {
    const min = (this.s.rawMin.get() as { ts: number | null }).ts;
    if (min === null) return false;
    const wm = bucketOf(min, MINUTE);
    this.tx(() => {
      this.set('wm_1m', wm);
      this.set('wm_1h', floorTo(wm, HOUR));
      this.set('seal_1m', floorTo(wm, HOUR));
      this.set('seal_1h', floorTo(wm, DAY));
    });
    return true;
  }

  /** Raw samples of closed minutes → 1-minute buckets, for one batch of series. */
  private rollMinutes(now: number): string | undefined {
    const wm = this.meta.get('wm_1m')!;
    let cursor = this.meta.get('cursor_1m') ?? 0;
    let end = this.meta.get('unit_1m_end') ?? wm;
    if (cursor === 0) {
      const closed = floorTo(now - this.config.graceMs, MINUTE);
      if (wm >= closed) return undefined;
      const perMinute = this.rowsPerMinute || Math.min(this.config.seriesPerStep, Math.max(1, this.catalog.size)) * 4;
      const minutes = Math.min(60, Math.max(1, Math.floor(UNIT_ROWS / perMinute)));
      end = Math.min(wm + minutes * MINUTE, floorTo(wm, HOUR) + HOUR, closed);
      if (!this.s.rawAny.get(wm, end)) {
        // Nothing here (the server was down?): jump to the next sample instead of walking minutes.
        const next = (this.s.rawNext.get(end) as { ts: number } | undefined)?.ts;
        const to = Math.max(end, Math.min(closed, next === undefined ? closed : bucketOf(next, MINUTE)));
        this.tx(() => this.set('wm_1m', to));
        return 'rollup 1m';
      }
    }
    const last = cursor + this.config.seriesPerStep >= this.catalog.maxId();
    this.tx(() => {
      const { buckets, rows } = this.rollRaw(wm, end, cursor + 1, cursor + this.config.seriesPerStep);
      if (rows > 0) this.rowsPerMinute = Math.max(rows / ((end - wm) / MINUTE), 1);
      this.m1.writeSpan(floorTo(wm, HOUR), buckets, this.sealedBefore(this.m1, 'seal_1m'));
      for (const [id, b] of buckets) this.catalog.touch(id, b.start[b.n - 1]);
      cursor = last ? 0 : cursor + this.config.seriesPerStep;
      this.set('cursor_1m', cursor);
      this.set('unit_1m_end', end);
      if (last) this.set('wm_1m', end);
    });
    return 'rollup 1m';
  }

  /** Raw samples in (from, to] of series ids [idFrom, idTo] (or of `ids`), as 1-minute buckets. */
  private rollRaw(from: number, to: number, idFrom: number, idTo: number, ids?: number[]): { buckets: Map<number, Buckets>; rows: number } {
    const accs = new Map<number, Accumulator>();
    const rows = (ids ? this.s.rawSeries.all(from, to, JSON.stringify(ids)) : this.s.rawRange.all(from, to, idFrom, idTo)) as unknown as [number, number, number | null][];
    for (let r = 0; r < rows.length; r++) {
      const [id, ts, value] = rows[r];
      let acc = accs.get(id);
      if (!acc) accs.set(id, (acc = new Accumulator(MINUTE)));
      acc.addSample(ts, value ?? NaN);
    }
    const buckets = new Map<number, Buckets>();
    for (const [id, acc] of accs) buckets.set(id, acc.flush());
    return { buckets, rows: rows.length };
  }

  /** 1-minute buckets of complete hours → 1-hour buckets, for one batch of series. */
  private rollHours(): string | undefined {
    const wm = this.meta.get('wm_1h')!;
    const closed = floorTo(this.meta.get('wm_1m')!, HOUR);
    if (wm >= closed) return undefined;
    const cursor = this.meta.get('cursor_1h') ?? 0;
    if (cursor === 0) {
      // Minutes not yet rolled into hours are always in open (hour) chunks: sealing waits for wm_1h.
      const next = this.m1.nextStart(wm);
      if (next === undefined || next >= wm + HOUR) { // an empty hour (the server was down?): skip ahead
        this.tx(() => this.set('wm_1h', Math.max(wm + HOUR, Math.min(closed, next === undefined ? closed : floorTo(next, HOUR)))));
        return 'rollup 1h';
      }
    }
    const last = cursor + this.config.seriesPerStep >= this.catalog.maxId();
    this.tx(() => {
      this.rollHour(wm, cursor + 1, cursor + this.config.seriesPerStep);
      this.set('cursor_1h', last ? 0 : cursor + this.config.seriesPerStep);
      if (last) this.set('wm_1h', wm + HOUR);
    });
    return 'rollup 1h';
  }

  private rollHour(hour: number, idFrom: number, idTo: number): void {
    const minutes = this.m1.readSpan(hour, idFrom, idTo);
    const hours = new Map<number, Buckets>();
    for (const [id, b] of minutes) hours.set(id, rollupBuckets(b, HOUR));
    this.h1.writeSpan(floorTo(hour, DAY), hours, this.sealedBefore(this.h1, 'seal_1h'));
  }

  /** Recomputes a bucket that got late samples, for the series that got them. */
  private redo(tier: '1m' | '1h', now: number): string | undefined {
    const bucket = (this.s.lateNext.get(tier) as { bucket: number } | undefined)?.bucket;
    if (bucket === undefined) return undefined;
    const ids = (this.s.lateSeries.all(tier, bucket, LATE_BATCH) as { series_id: number }[]).map((r) => r.series_id);
    this.tx(() => {
      if (tier === '1m') {
        if (bucket >= now - this.config.rawRetentionMs) { // else its raw samples are gone: keep what is rolled up
          this.m1.writeSpan(floorTo(bucket, HOUR), this.rollRaw(bucket, bucket + MINUTE, 0, 0, ids).buckets, this.sealedBefore(this.m1, 'seal_1m'));
          if (bucket < this.hoursBefore()) for (const id of ids) this.s.lateAdd.run('1h', floorTo(bucket, HOUR), id);
        }
      } else {
        for (const id of ids) this.rollHour(bucket, id, id);
      }
      for (const id of ids) this.s.lateDelete.run(tier, bucket, id);
    });
    return `redo ${tier}`;
  }

  /** Merges the oldest complete open span into the sealed chunks, a batch of series at a time. */
  private seal(table: ChunkTable, key: 'seal_1m' | 'seal_1h'): string | undefined {
    const span = table.tier.openSpan;
    const start = this.meta.get(key)!;
    // Complete: every bucket in it is rolled up, and (1m) rolled on into the hour.
    const done = floorTo(Math.min(this.meta.get('wm_1m')!, this.meta.get('wm_1h')!), span);
    if (start >= done) return undefined;
    const cursorKey = `${key}_cursor`;
    const cursor = this.meta.get(cursorKey) ?? 0;
    this.tx(() => {
      if (cursor === 0) {
        const next = table.nextStart(start);
        if (next === undefined || next >= start + span) {
          // Nothing to merge in this span: skip to the span of the next chunk.
          this.set(key, Math.max(start + span, Math.min(done, next === undefined ? done : floorTo(next, span))));
          return;
        }
      }
      const to = cursor + Math.max(1, this.config.seriesPerStep >> 1); // sealed chunks are bigger: half as many
      table.seal(start, cursor + 1, to);
      if (to >= this.catalog.maxId()) {
        this.set(key, start + span);
        this.set(cursorKey, 0);
      } else {
        this.set(cursorKey, to);
      }
    });
    return `seal ${table.tier.name}`;
  }

  private retention(now: number): string | undefined {
    const { rawRetentionMs, minuteRetentionMs, hourRetentionMs } = this.config;
    // Raw samples go once too old, but never before they are rolled up.
    const rawCutoff = Math.min(now - rawRetentionMs, this.meta.get('wm_1m') ?? -Infinity);
    const oldest = (this.s.rawMin.get() as { ts: number | null }).ts;
    if (oldest !== null && oldest < rawCutoff) {
      const nth = (this.s.rawNth.get(DELETE_BATCH) as { ts: number } | undefined)?.ts;
      this.tx(() => {
        this.s.rawDelete.run(nth === undefined || nth <= oldest ? rawCutoff : Math.min(nth, rawCutoff));
        this.s.lateExpire.run(now - rawRetentionMs);
      });
      return 'retention raw';
    }
    if (this.m1.expire(Math.min(now - minuteRetentionMs, this.meta.get('wm_1h') ?? -Infinity), EXPIRE_BATCH) > 0) return 'retention 1m';
    if (this.h1.expire(now - hourRetentionMs, EXPIRE_BATCH) > 0) return 'retention 1h';
    if (now - this.lastGc >= GC_EVERY_MS) {
      this.lastGc = now;
      return this.collectSeries(now - Math.max(rawRetentionMs, minuteRetentionMs, hourRetentionMs));
    }
    return undefined;
  }

  /** Forgets series with no sample newer than every retention (e.g. of long-gone releases). */
  private collectSeries(cutoff: number): string | undefined {
    const ids = (this.s.gcCandidates.all(cutoff) as { id: number }[]).map((r) => r.id);
    if (ids.length === 0) return undefined;
    this.tx(() => {
      for (const id of ids) {
        this.m1.deleteSeries(id);
        this.h1.deleteSeries(id);
        this.s.gcDelete.run(id);
      }
    });
    this.catalog.forget(ids);
    if (ids.length === 500) this.lastGc = -Infinity; // more to do
    return 'forget series';
  }

  /** Writes a watermark inside the current transaction; the in-memory copy follows on commit (see tx). */
  private set(key: string, value: number): void {
    this.s.metaSet.run(key, value);
    this.pending.set(key, value);
  }

  private tx(fn: () => void): void {
    this.pending.clear();
    try {
      transaction(this.db, fn);
      for (const [k, v] of this.pending) this.meta.set(k, v);
    } finally {
      this.pending.clear();
    }
  }
}
