import type { StatementSync } from 'node:sqlite';
import type { Db } from '../../store/db.ts';
import { levelName, levelNumber, limitOf, matches } from './filter.ts';
import { PER_MS } from './ids.ts';
import { ftsTerm, type SearchMode } from './search.ts';
import type { LogFilter, LogRecord, LogSource, LogStream } from './types.ts';

// Answers LogFilter queries from logs.db. SQL narrows (label columns, level, id range, FTS5),
// and when the filter has text criteria every candidate is checked in memory by the same
// `matches` the live tail uses, reading further pages until `limit` records pass.

const COLUMNS = 'l.id, l.app, l.env, l.release, l.instance, l.source, l.stream, l.level, l.message, l.fields, l.truncated';
const MAX_PAGE = 20_000;
const WARN = 40;

interface Row {
  id: number; app: string | null; env: string | null; release: string | null; instance: string | null;
  source: string; stream: string; level: number | null; message: string; fields: string | null; truncated: number | null;
}

interface Plan {
  /** Placeholders: `before`, then the id range (lo, hi), then `after`, then the page size. */
  sql: string;
  before: (string | number)[];
  after: (string | number)[];
  verify: boolean;
  ascending: boolean;
  lo: number;
  hi: number;
}

/** Turns a filter into one SQL statement over an id range and a page size. Pure. */
export function plan(filter: LogFilter, mode: SearchMode): Plan {
  const where: string[] = [];
  const params: (string | number)[] = [];
  const terms: string[] = [];
  if (filter.grep) {
    const term = ftsTerm(filter.grep, mode);
    if (term) terms.push(term);
  }
  for (const [key, value] of Object.entries(filter.fields ?? {})) {
    const term = ftsTerm(`${key}=${value}`, mode);
    if (term) terms.push(term);
  }
  for (const key of ['app', 'env', 'release', 'instance', 'source', 'stream'] as const) {
    if (filter[key] === undefined) continue;
    where.push(`l.${key} = ?`);
    params.push(filter[key]);
  }
  let problems = false;
  if (filter.level) {
    const n = levelNumber(filter.level);
    where.push('l.level >= ?');
    params.push(n);
    if (n >= WARN) {
      // Spelled out: the partial index logs_problems (an app's warn and worse) applies.
      where.push(`l.level >= ${WARN}`);
      problems = filter.app !== undefined;
    }
  }
  let lo = 0;
  let hi = Number.MAX_SAFE_INTEGER;
  if (filter.since !== undefined) lo = Math.max(lo, Math.ceil(filter.since) * PER_MS);
  if (filter.until !== undefined) hi = Math.min(hi, (Math.floor(filter.until) + 1) * PER_MS - 1);
  if (filter.afterId !== undefined) lo = Math.max(lo, filter.afterId + 1);
  if (filter.beforeId !== undefined) hi = Math.min(hi, filter.beforeId - 1);
  const ascending = filter.afterId !== undefined;
  const order = ascending ? 'ASC' : 'DESC';
  const extra = where.map((w) => ` AND ${w}`).join('');
  const verify = Boolean(filter.grep) || Object.keys(filter.fields ?? {}).length > 0;
  if (terms.length === 0) {
    // SQLite cannot know that an app's problems are far fewer than its lines: tell it.
    const sql = `SELECT ${COLUMNS} FROM logs l${problems ? ' INDEXED BY logs_problems' : ''} WHERE l.id BETWEEN ? AND ?${extra} ORDER BY l.id ${order} LIMIT ?`;
    return { sql, before: [], after: params, verify, ascending, lo, hi };
  }
  // FTS first (CROSS JOIN fixes the order): it hands out matching rowids newest first within
  // the range, so the LIMIT ends the scan early.
  const sql = `SELECT ${COLUMNS} FROM logs_fts f CROSS JOIN logs l ON l.id = f.rowid WHERE logs_fts MATCH ? AND f.rowid BETWEEN ? AND ?${extra} ORDER BY f.rowid ${order} LIMIT ?`;
  return { sql, before: [terms.map((t) => `(${t})`).join(' AND ')], after: params, verify, ascending, lo, hi };
}

export class LogReader {
  private readonly db: Db;
  private readonly mode: SearchMode;
  private readonly statements = new Map<string, StatementSync>();

  constructor(db: Db, mode: SearchMode) {
    this.db = db;
    this.mode = mode;
  }

  /** Up to `limit` matching records, oldest first (see LogFilter for which ones). */
  query(filter: LogFilter): LogRecord[] {
    const limit = limitOf(filter);
    const p = plan(filter, this.mode);
    const span = this.span(filter);
    if (!span) return [];
    const stmt = this.statement(p.sql);
    const out: LogRecord[] = [];
    let lo = Math.max(p.lo, span.lo);
    let hi = Math.min(p.hi, span.hi);
    let page = p.verify ? Math.min(MAX_PAGE, limit * 2) : limit;
    while (lo <= hi) {
      const rows = stmt.all(...p.before, lo, hi, ...p.after, page) as unknown as Row[];
      for (const row of rows) {
        const record = toRecord(row);
        if (!p.verify || matches(record, filter, this.mode)) out.push(record);
        if (out.length === limit) break;
      }
      if (out.length === limit || rows.length < page) break;
      const last = rows[rows.length - 1].id;
      if (p.ascending) lo = last + 1;
      else hi = last - 1;
      page = Math.min(MAX_PAGE, page * 4);
    }
    return p.ascending ? out : out.reverse();
  }

  /**
   * The ids between which the filter's label sets (and level) were written; undefined when
   * none were. Without label or level criteria, everything.
   */
  private span(filter: LogFilter): { lo: number; hi: number } | undefined {
    const where: string[] = [];
    const params: (string | number)[] = [];
    for (const key of ['app', 'env', 'release', 'instance', 'source', 'stream'] as const) {
      if (filter[key] === undefined) continue;
      where.push(`${key} = ?`);
      params.push(filter[key]);
    }
    if (filter.level) {
      where.push('max_level >= ?');
      params.push(levelNumber(filter.level));
    }
    if (where.length === 0) return { lo: 0, hi: Number.MAX_SAFE_INTEGER };
    const row = this.statement(`SELECT count(*) AS n, min(first_id) AS lo, max(last_id) AS hi FROM label_sets WHERE ${where.join(' AND ')}`)
      .get(...params) as { n: number; lo: number; hi: number };
    return row.n === 0 ? undefined : { lo: row.lo, hi: row.hi };
  }

  /** Where the tailer stopped reading `file`, if it ever stored any of it. */
  offset(file: string): { ino: number; offset: number } | undefined {
    const row = this.statement('SELECT ino, offset FROM offsets WHERE file = ?').get(file) as { ino: number; offset: number } | undefined;
    return row ? { ino: row.ino, offset: row.offset } : undefined;
  }

  private statement(sql: string): StatementSync {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      if (this.statements.size >= 64) this.statements.clear();
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }
}

export function toRecord(row: Row): LogRecord {
  return {
    id: row.id,
    ts: Math.floor(row.id / PER_MS),
    app: row.app,
    env: row.env,
    release: row.release,
    instance: row.instance,
    source: row.source as LogSource,
    stream: row.stream as LogStream,
    level: levelName(row.level),
    message: row.message,
    fields: row.fields === null ? null : JSON.parse(row.fields) as Record<string, unknown>,
    truncated: row.truncated === 1,
  };
}
