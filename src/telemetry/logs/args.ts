import { tryParseDuration } from '../../core/duration.ts';
import { SlipwayError } from '../../core/errors.ts';
import { LEVELS, SOURCES, STREAMS, type Level, type LogFilter, type LogSource, type LogStream } from './types.ts';
import { MAX_LIMIT } from './filter.ts';

// What a person types (`--since 15m`, `--level warn`, `--field k=v`) turned into a LogFilter.
// The CLI options and the API query string use the same names, so both go through
// `filterFromParams`. Pure: `now` is passed in.

const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;
const EPOCH_MS = /^\d{12,14}$/;

/**
 * "15m" (that long before `now`), "2026-11-21T10:00:00Z", "2026-11-21 10:00" or "2026-11-21"
 * (no zone: local time, as a person reading a wall clock means), or epoch milliseconds.
 */
export function parseTimeArg(text: string, now: number, what = '--since'): number {
  const trimmed = text.trim();
  const ms = tryParseDuration(trimmed);
  if (ms !== undefined) return now - ms;
  if (EPOCH_MS.test(trimmed)) return Number(trimmed);
  const iso = ISO.exec(trimmed);
  if (iso) {
    // Date.parse reads a bare date as UTC but a date with a time as local; make both local.
    const local = iso[1] === undefined && !trimmed.includes(':') ? `${trimmed}T00:00` : trimmed;
    const t = Date.parse(local.replace(' ', 'T'));
    if (!Number.isNaN(t)) return t;
  }
  throw new SlipwayError('usage.bad_time', `${what} "${text}" is not a duration or a time`, {
    hint: 'write how long ago (30s, 15m, 2h, 7d) or a time (2026-11-21T10:00:00Z, or 2026-11-21 10:00 in local time)',
  });
}

export function parseLevelArg(text: string): Level {
  const level = text.trim().toLowerCase();
  if ((LEVELS as readonly string[]).includes(level)) return level as Level;
  throw new SlipwayError('usage.bad_level', `--level "${text}" is not a log level`, {
    hint: `use one of ${LEVELS.join(', ')}; lines at that level and above are shown`,
  });
}

/** "k=v" pairs; the value may itself contain "=". */
export function parseFieldArgs(pairs: string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) {
      throw new SlipwayError('usage.bad_field', `--field "${pair}" is not key=value`, {
        hint: 'write the field name, "=" and the exact value, e.g. --field status=500 or --field req.method=POST',
      });
    }
    fields[pair.slice(0, at).trim()] = pair.slice(at + 1);
  }
  return fields;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], what: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new SlipwayError('usage.bad_value', `${what} "${value}" is not one of ${allowed.join(', ')}`, { hint: `use one of ${allowed.join(', ')}` });
}

function count(value: string, what: string): number {
  if (!/^\d+$/.test(value.trim())) throw new SlipwayError('usage.bad_value', `${what} "${value}" is not a whole number`, { hint: `e.g. ${what} 100` });
  return Number(value);
}

export type FilterParams = Record<string, string | string[] | undefined>;

/**
 * Builds a LogFilter from CLI options or an API query string: app, env, release, instance,
 * source, stream, since, until, level, grep, field (repeatable k=v), limit, after, before.
 * Unknown keys are ignored (the caller owns the rest of its options).
 */
export function filterFromParams(params: FilterParams, now: number): LogFilter {
  const one = (key: string): string | undefined => {
    const value = params[key];
    const text = Array.isArray(value) ? value.at(-1) : value;
    return text === undefined || text === '' ? undefined : text;
  };
  const filter: LogFilter = {};
  for (const key of ['app', 'env', 'release', 'instance', 'grep'] as const) {
    const value = one(key);
    if (value !== undefined) filter[key] = value;
  }
  const source = one('source');
  if (source) filter.source = oneOf<LogSource>(source, SOURCES, '--source');
  const stream = one('stream');
  if (stream) filter.stream = oneOf<LogStream>(stream, STREAMS, '--stream');
  const since = one('since');
  if (since) filter.since = parseTimeArg(since, now, '--since');
  const until = one('until');
  if (until) filter.until = parseTimeArg(until, now, '--until');
  if (filter.since !== undefined && filter.until !== undefined && filter.since > filter.until) {
    throw new SlipwayError('usage.bad_time', `--since (${new Date(filter.since).toISOString()}) is after --until (${new Date(filter.until).toISOString()})`, {
      hint: 'swap them, or drop one',
    });
  }
  const level = one('level');
  if (level) filter.level = parseLevelArg(level);
  const field = params.field;
  if (field !== undefined) filter.fields = parseFieldArgs((Array.isArray(field) ? field : [field]).filter((f) => f !== ''));
  const limit = one('limit');
  if (limit) {
    filter.limit = count(limit, '--limit');
    if (filter.limit < 1 || filter.limit > MAX_LIMIT) throw new SlipwayError('usage.bad_value', `--limit ${limit} is out of range`, { hint: `use 1 to ${MAX_LIMIT}` });
  }
  const after = one('after');
  if (after) filter.afterId = count(after, '--after');
  const before = one('before');
  if (before) filter.beforeId = count(before, '--before');
  return filter;
}
