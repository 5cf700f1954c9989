// The shapes the log store hands out and takes in. Times are epoch milliseconds.

export const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type Level = (typeof LEVELS)[number];

export const SOURCES = ['instance', 'pipeline', 'event', 'external'] as const;
export type LogSource = (typeof SOURCES)[number];

export const STREAMS = ['stdout', 'stderr', 'system'] as const;
export type LogStream = (typeof STREAMS)[number];

/** Where a line came from. Everything but `source` and `stream` is optional (an event may have no release). */
export interface LogLabels {
  app?: string | null;
  env?: string | null;
  release?: string | null;
  instance?: string | null;
  source: LogSource;
  stream: LogStream;
  /** Added to the fields of every line with these labels (a pipeline step: `{ run, step }`). */
  fields?: Record<string, string>;
}

/** Identifies a label set (fields aside): the same key for the same six labels. */
export function labelKey(l: { app?: string | null; env?: string | null; release?: string | null; instance?: string | null; source: string; stream: string }): string {
  return `${l.source}\u0000${l.stream}\u0000${l.app ?? ''}\u0000${l.env ?? ''}\u0000${l.release ?? ''}\u0000${l.instance ?? ''}`;
}

export interface LogRecord {
  /** Ordering key, unique: `ts * 1000 + n` (see writer.ts). Absent until the record is stored. */
  id?: number;
  ts: number;
  app: string | null;
  env: string | null;
  release: string | null;
  instance: string | null;
  source: LogSource;
  stream: LogStream;
  level: Level | null;
  message: string;
  fields: Record<string, unknown> | null;
  /** The line was longer than the cap and was cut. */
  truncated: boolean;
}

/** What a caller hands to `LogStore.ingest`: labels are optional, `ts` defaults to now. */
export type NewLogRecord = Partial<Omit<LogRecord, 'id' | 'source' | 'stream' | 'message'>> & Pick<LogRecord, 'source' | 'stream' | 'message'>;

/**
 * A query or a live-tail subscription. Every given criterion must hold.
 * Ordering: without `afterId`, the newest `limit` records (returned oldest first, newest last);
 * with `afterId`, the first `limit` records after that id (catching up a tail, an SSE reconnect).
 */
export interface LogFilter {
  app?: string;
  env?: string;
  release?: string;
  instance?: string;
  source?: LogSource;
  stream?: LogStream;
  /** Inclusive lower bound on ts. */
  since?: number;
  /** Inclusive upper bound on ts. */
  until?: number;
  /** This level and above; lines without a level never match. */
  level?: Level;
  /** Case-insensitive text that must appear, starting at a word, in the message or a `key=value` field (see search.ts). */
  grep?: string;
  /** Exact field values (`--field k=v`); `k` may be a dotted path into nested objects. */
  fields?: Record<string, string>;
  limit?: number;
  afterId?: number;
  beforeId?: number;
}

export interface LogStats {
  /** Lines waiting in memory for the writer. */
  buffered: number;
  capacity: number;
  /** Lines dropped since start because the buffer was full, in total and per origin. */
  dropped: number;
  droppedBy: { origin: string; labels: LogLabels; count: number }[];
  /** Records in the database and the bytes its pages use. */
  stored: number;
  bytes: number;
  /** Records written and pruned since start. */
  written: number;
  pruned: number;
  /** Lines lost because a write failed (disk full, say), and the last error from the writer. */
  failed: number;
  lastError?: string;
}
