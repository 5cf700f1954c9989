import { fieldMatches, searchText, textMatches, type SearchMode } from './search.ts';
import { LEVELS, type Level, type LogFilter, type LogRecord } from './types.ts';

// The in-memory meaning of a LogFilter: used for live tail, and as the final check on what SQL
// proposes. Pure.

export const DEFAULT_LIMIT = 500;
export const MAX_LIMIT = 10_000;

/** Levels as stored: 10 trace … 60 fatal, the pino numbers, so "this level and above" is `>=`. */
export function levelNumber(level: Level): number {
  return (LEVELS.indexOf(level) + 1) * 10;
}

export function levelName(n: number | null): Level | null {
  return n === null ? null : LEVELS[n / 10 - 1] ?? null;
}

export function limitOf(filter: LogFilter): number {
  const limit = filter.limit ?? DEFAULT_LIMIT;
  return Math.max(1, Math.min(MAX_LIMIT, Math.floor(limit)));
}

/** Whether `record` passes every criterion of `filter` (limit and paging aside). */
export function matches(record: LogRecord, filter: LogFilter, mode: SearchMode): boolean {
  if (filter.app !== undefined && record.app !== filter.app) return false;
  if (filter.env !== undefined && record.env !== filter.env) return false;
  if (filter.release !== undefined && record.release !== filter.release) return false;
  if (filter.instance !== undefined && record.instance !== filter.instance) return false;
  if (filter.source !== undefined && record.source !== filter.source) return false;
  if (filter.stream !== undefined && record.stream !== filter.stream) return false;
  if (filter.since !== undefined && record.ts < filter.since) return false;
  if (filter.until !== undefined && record.ts > filter.until) return false;
  if (filter.level !== undefined && (record.level === null || levelNumber(record.level) < levelNumber(filter.level))) return false;
  if (filter.fields) {
    for (const key in filter.fields) if (!fieldMatches(record.fields, key, filter.fields[key])) return false;
  }
  if (filter.grep && !textMatches(searchText(record.message, record.fields), filter.grep, mode)) return false;
  return true;
}
