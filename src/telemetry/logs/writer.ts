import { transaction, type Db } from '../../store/db.ts';
import { levelNumber } from './filter.ts';
import { IdAllocator, PER_MS, tsOf } from './ids.ts';
import { parseLine } from './parse.ts';
import { usedBytes } from './schema.ts';
import { searchText } from './search.ts';
import { labelKey, type LogLabels, type LogRecord, type NewLogRecord } from './types.ts';

// The one writer of logs.db (it runs in the store's worker thread). Synchronous: one call, one
// transaction; the caller decides how often and how much.

/** Lines longer than this (in characters) are cut and marked truncated. */
export const MAX_LINE = 16 * 1024;
/** A line's own time is believed unless it is further ahead of us than a clock can drift. */
const MAX_FUTURE_MS = 60_000;

export interface OffsetMark {
  file: string;
  ino: number;
  /** -1: forget the file. */
  offset: number;
}

export type WriteItem =
  | { line: string; ts: number; labels: LogLabels; truncated?: boolean }
  | { record: NewLogRecord }
  | { offset: OffsetMark };

export class LogWriter {
  private readonly db: Db;
  private readonly ids: IdAllocator;
  private readonly insertLog;
  private readonly insertText;
  private readonly upsertOffset;
  private readonly deleteOffset;
  private readonly oldestIds;
  private readonly deleteText;
  private readonly deleteLogs;
  private readonly upsertLabelSet;
  private count: number;

  constructor(db: Db) {
    this.db = db;
    const max = db.prepare('SELECT max(id) AS id FROM logs').get() as { id: number | null };
    const lastInMs = db.prepare('SELECT max(id) AS id FROM logs WHERE id >= ? AND id < ?');
    this.ids = new IdAllocator(max.id ?? -1, (ms) => (lastInMs.get(ms * PER_MS, (ms + 1) * PER_MS) as { id: number | null }).id ?? undefined);
    this.insertLog = db.prepare('INSERT INTO logs (id, app, env, release, instance, source, stream, level, message, fields, truncated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    this.insertText = db.prepare('INSERT INTO logs_fts (rowid, text) VALUES (?, ?)');
    this.upsertOffset = db.prepare('INSERT INTO offsets (file, ino, offset) VALUES (?, ?, ?) ON CONFLICT (file) DO UPDATE SET ino = excluded.ino, offset = excluded.offset');
    this.deleteOffset = db.prepare('DELETE FROM offsets WHERE file = ?');
    this.oldestIds = db.prepare('SELECT id FROM logs WHERE id < ? ORDER BY id LIMIT ?');
    this.deleteText = db.prepare('DELETE FROM logs_fts WHERE rowid = ?');
    this.deleteLogs = db.prepare('DELETE FROM logs WHERE id <= ?');
    this.upsertLabelSet = db.prepare(`INSERT INTO label_sets (key, app, env, release, instance, source, stream, first_id, last_id, max_level)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET first_id = min(first_id, excluded.first_id),
      last_id = max(last_id, excluded.last_id), max_level = max(max_level, excluded.max_level)`);
    this.count = (db.prepare('SELECT count(*) AS n FROM logs').get() as { n: number }).n;
  }

  /**
   * Stores a batch in one transaction; returns the stored records (ids assigned), in id order.
   * Offset marks are applied in the same transaction: a mark only ever follows its lines.
   */
  write(items: WriteItem[], now: number): LogRecord[] {
    const records: LogRecord[] = [];
    const marks: OffsetMark[] = [];
    for (const item of items) {
      if ('offset' in item) marks.push(item.offset);
      else records.push('line' in item ? fromLine(item.line, item.ts, item.labels, now, item.truncated) : fromRecord(item.record, now));
    }
    // Ascending ids within the batch (see IdAllocator); sort is stable, arrival order breaks ties.
    if (!sorted(records)) records.sort((a, b) => a.ts - b.ts);
    this.ids.startBatch();
    for (const record of records) {
      record.id = this.ids.next(record.ts);
      record.ts = tsOf(record.id);
    }
    transaction(this.db, () => {
      for (const record of records) this.insert(record);
      for (const [key, s] of spans(records)) {
        const r = s.record;
        this.upsertLabelSet.run(key, r.app, r.env, r.release, r.instance, r.source, r.stream, s.first, s.last, s.maxLevel);
      }
      for (const { file, ino, offset } of marks) {
        if (offset < 0) this.deleteOffset.run(file);
        else this.upsertOffset.run(file, ino, offset);
      }
    });
    this.count += records.length;
    return records;
  }

  private insert(record: LogRecord): void {
    const id = record.id!;
    const fields = record.fields ? JSON.stringify(record.fields) : null;
    this.insertLog.run(id, record.app, record.env, record.release, record.instance, record.source, record.stream,
      record.level ? levelNumber(record.level) : null, record.message, fields, record.truncated ? 1 : null);
    this.insertText.run(id, searchText(record.message, record.fields));
  }

  /**
   * Where the next prune pass stops: everything older than the retention period, and enough of
   * the oldest records to bring the used size down to 90% of `maxBytes` (estimated from the
   * average record size: freed FTS space only shows after its segments merge, so re-measuring
   * after each batch would delete far too much).
   */
  pruneCutoff(now: number, retentionMs: number, maxBytes: number): number {
    let cutoff = Math.max(0, now - retentionMs) * PER_MS;
    const bytes = usedBytes(this.db);
    if (bytes > maxBytes && this.count > 0) {
      const excess = bytes - maxBytes * 0.9;
      const rows = Math.min(this.count, Math.ceil(excess / (bytes / this.count)));
      const row = this.db.prepare('SELECT id FROM logs ORDER BY id LIMIT 1 OFFSET ?').get(rows - 1) as { id: number } | undefined;
      if (row) cutoff = Math.max(cutoff, row.id + 1);
    }
    return cutoff;
  }

  /** Deletes up to `batch` of the oldest records with id < cutoff, in one short transaction. */
  pruneBatch(cutoff: number, batch: number): number {
    return transaction(this.db, () => {
      const rows = this.oldestIds.all(cutoff, batch) as { id: number }[];
      if (rows.length === 0) {
        // The pass is over: label sets keep spans of what is still stored.
        this.db.prepare('DELETE FROM label_sets WHERE last_id < ?').run(cutoff);
        this.db.prepare('UPDATE label_sets SET first_id = ? WHERE first_id < ?').run(cutoff, cutoff);
        return 0;
      }
      for (const row of rows) this.deleteText.run(row.id);
      this.deleteLogs.run(rows[rows.length - 1].id);
      this.count -= rows.length;
      return rows.length;
    });
  }

  /** Lets SQLite refresh its planner statistics cheaply (as its docs advise, now and then). */
  optimize(): void {
    this.db.exec('PRAGMA analysis_limit = 1000; PRAGMA optimize;');
  }

  stats(): { stored: number; bytes: number } {
    return { stored: this.count, bytes: usedBytes(this.db) };
  }
}

function sorted(records: LogRecord[]): boolean {
  for (let i = 1; i < records.length; i++) if (records[i].ts < records[i - 1].ts) return false;
  return true;
}

/** Per label set in a batch: the first and last id and the worst level. */
function spans(records: LogRecord[]): Map<string, { record: LogRecord; first: number; last: number; maxLevel: number }> {
  const out = new Map<string, { record: LogRecord; first: number; last: number; maxLevel: number }>();
  let previous: LogRecord | undefined;
  let previousKey = '';
  for (const record of records) {
    // Neighbours usually share their labels: skip building the key then.
    const same = previous !== undefined && previous.app === record.app && previous.instance === record.instance && previous.stream === record.stream
      && previous.release === record.release && previous.env === record.env && previous.source === record.source;
    const key = same ? previousKey : labelKey(record);
    previous = record;
    previousKey = key;
    const level = record.level ? levelNumber(record.level) : 0;
    const s = out.get(key);
    if (!s) out.set(key, { record, first: record.id!, last: record.id!, maxLevel: level });
    else {
      // Records come in id order.
      s.last = record.id!;
      if (level > s.maxLevel) s.maxLevel = level;
    }
  }
  return out;
}

function cap(text: string): { text: string; cut: boolean } {
  return text.length > MAX_LINE ? { text: text.slice(0, MAX_LINE), cut: true } : { text, cut: false };
}

function chooseTime(own: number | undefined, fallback: number, now: number): number {
  if (own === undefined || own > now + MAX_FUTURE_MS) return Math.min(fallback, now + MAX_FUTURE_MS);
  return own;
}

/** A raw line: parsed, timed by its own clock when it has one, else by when it was read. */
export function fromLine(raw: string, ts: number, labels: LogLabels, now: number, truncated = false): LogRecord {
  const { text, cut } = cap(raw);
  const parsed = parseLine(text);
  return {
    ts: chooseTime(parsed.time, ts, now),
    app: labels.app ?? null,
    env: labels.env ?? null,
    release: labels.release ?? null,
    instance: labels.instance ?? null,
    source: labels.source,
    stream: labels.stream,
    level: parsed.level,
    message: parsed.message,
    fields: labels.fields ? { ...labels.fields, ...parsed.fields } : parsed.fields,
    truncated: truncated || cut,
  };
}

export function fromRecord(r: NewLogRecord, now: number): LogRecord {
  const { text, cut } = cap(r.message);
  return {
    ts: chooseTime(r.ts, now, now),
    app: r.app ?? null,
    env: r.env ?? null,
    release: r.release ?? null,
    instance: r.instance ?? null,
    source: r.source,
    stream: r.stream,
    level: r.level ?? null,
    message: text,
    fields: r.fields && Object.keys(r.fields).length > 0 ? r.fields : null,
    truncated: r.truncated === true || cut,
  };
}
