import logfmt from 'logfmt';
import type { Level } from './types.ts';

// Turns one raw output line into level, message and fields. Pure: no clock, no I/O.
// Recognised: JSON objects (pino, bunyan, winston and their relatives) and logfmt. Anything
// else is plain text and stays exactly as written, with no level: guessing "error" from a word
// in the text or from stderr (where many tools print progress) would make `--level` lie.

export interface ParsedLine {
  level: Level | null;
  message: string;
  fields: Record<string, unknown> | null;
  /** The line's own time, when it carried one we could read. */
  time?: number;
}

const LEVEL_KEYS = ['level', 'lvl', 'severity'];
const MESSAGE_KEYS = ['msg', 'message'];
const TIME_KEYS = ['time', 'timestamp', 'ts', '@timestamp'];

// Names used by winston (npm levels), syslog, Go, Python, Java and Rust loggers.
const LEVEL_NAMES: Record<string, Level> = {
  trace: 'trace', silly: 'trace', finest: 'trace', finer: 'trace',
  debug: 'debug', verbose: 'debug', fine: 'debug', dbug: 'debug',
  info: 'info', information: 'info', informational: 'info', http: 'info', notice: 'info', log: 'info',
  warn: 'warn', warning: 'warn',
  error: 'error', err: 'error', eror: 'error', severe: 'error',
  fatal: 'fatal', crit: 'fatal', critical: 'fatal', alert: 'fatal', emerg: 'fatal', emergency: 'fatal', panic: 'fatal', dpanic: 'fatal',
};

/** pino/bunyan numbers: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal; custom levels in between round down. */
export function levelFromNumber(n: number): Level | null {
  if (!Number.isFinite(n)) return null;
  if (n < 20) return 'trace';
  if (n < 30) return 'debug';
  if (n < 40) return 'info';
  if (n < 50) return 'warn';
  if (n < 60) return 'error';
  return 'fatal';
}

export function normalizeLevel(value: unknown): Level | null {
  if (typeof value === 'number') return levelFromNumber(value);
  if (typeof value !== 'string') return null;
  const name = LEVEL_NAMES[value.trim().toLowerCase()];
  if (name) return name;
  return /^\d+$/.test(value.trim()) ? levelFromNumber(Number(value)) : null;
}

/**
 * Reads a time as epoch ms: an ISO-8601 string or a number in seconds, ms, µs or ns
 * (told apart by magnitude, which is unambiguous for any date between 1973 and 5000).
 */
export function parseTime(value: unknown): number | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0) return undefined;
    if (value < 1e11) return Math.round(value * 1000);
    if (value < 1e14) return Math.round(value);
    if (value < 1e17) return Math.round(value / 1e3);
    return Math.round(value / 1e6);
  }
  if (typeof value === 'string' && value.length >= 10 && value.length <= 40) {
    if (/^\d+(\.\d+)?$/.test(value)) return parseTime(Number(value));
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

// Colour codes from dev servers would otherwise end up in messages and break `--grep`.
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;
const LOGFMT_START = /^[A-Za-z_][\w.\-/@]*=/;
const LOGFMT_PAIR = /(?:^|\s)[A-Za-z_][\w.\-/@]*=/g;

export function parseLine(raw: string): ParsedLine {
  let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  if (line.includes('\u001b')) line = line.replace(ANSI, '');
  const first = firstNonSpace(line);
  if (first === '{') {
    const parsed = parseJson(line);
    if (parsed) return parsed;
  } else if (first !== -1 && LOGFMT_START.test(line.trimStart())) {
    const parsed = parseLogfmt(line);
    if (parsed) return parsed;
  }
  return { level: null, message: line, fields: null };
}

function firstNonSpace(line: string): string | -1 {
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c !== ' ' && c !== '\t') return c;
  }
  return -1;
}

function parseJson(line: string): ParsedLine | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  return structured(value as Record<string, unknown>);
}

function parseLogfmt(line: string): ParsedLine | undefined {
  // "a=b is odd" parses as logfmt (with flags is, odd), so without a level or a message ask
  // for more evidence than one pair.
  const object = logfmt.parse(line) as Record<string, unknown>;
  const known = LEVEL_KEYS.some((k) => k in object) || MESSAGE_KEYS.some((k) => k in object);
  if (!known && (line.match(LOGFMT_PAIR)?.length ?? 0) < 2) return undefined;
  return structured(object);
}

/**
 * Pulls the well-known keys out of a structured line; what is left are its fields. One pass,
 * building a new object: `delete` would turn every parsed object into a slow dictionary.
 */
function structured(object: Record<string, unknown>): ParsedLine {
  let levelKey: string | undefined;
  let messageKey: string | undefined;
  let timeKey: string | undefined;
  for (const key in object) {
    if (levelKey === undefined && LEVEL_KEYS.includes(key)) levelKey = key;
    else if (messageKey === undefined && MESSAGE_KEYS.includes(key)) messageKey = key;
    else if (timeKey === undefined && TIME_KEYS.includes(key)) timeKey = key;
  }
  // An unrecognised level or an unreadable time stays a field, so nothing the line said is lost.
  const level = levelKey === undefined ? null : normalizeLevel(object[levelKey]);
  if (level === null) levelKey = undefined;
  const time = timeKey === undefined ? undefined : parseTime(object[timeKey]);
  if (time === undefined) timeKey = undefined;
  let message = '';
  if (messageKey !== undefined) {
    const value = object[messageKey];
    message = typeof value === 'string' ? value : JSON.stringify(value) ?? '';
  }
  let fields: Record<string, unknown> | null = null;
  for (const key in object) {
    if (key === levelKey || key === messageKey || key === timeKey) continue;
    (fields ??= {})[key] = object[key];
  }
  return time === undefined ? { level, message, fields } : { level, message, fields, time };
}
