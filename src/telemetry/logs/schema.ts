import { DatabaseSync } from 'node:sqlite';
import { migrate, type Db } from '../../store/db.ts';
import type { SearchMode } from './search.ts';

// logs.db: its own file, so a flood of log writes never contends with the control plane's
// state (slipway.db) for the one SQLite write lock, and so it can be deleted to start afresh.

// Word mode keeps no token positions (detail=none): about 12% less work per line and a smaller
// index; phrases are matched as "all these words" and the literal check in search.ts does the
// rest. Trigram substring queries are phrases of trigrams, so that mode keeps positions.
const FTS_OPTIONS: Record<SearchMode, string> = {
  word: "tokenize='unicode61 remove_diacritics 0', detail=none",
  substring: "tokenize='trigram'",
};

// Append only, like src/store/migrations.ts.
const MIGRATIONS: ((mode: SearchMode) => string)[] = [
  (mode) => `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  INSERT INTO meta (key, value) VALUES ('search', '${mode}');
  -- id = ts * 1000 + n (n < 1000 in the same millisecond): one key that is the time order,
  -- so "newest first", --since and --until are rowid ranges and every index below, which ends
  -- in the rowid, hands out an app's or an instance's lines already in time order.
  CREATE TABLE logs (
    id INTEGER PRIMARY KEY,
    app TEXT,
    env TEXT,
    release TEXT,
    instance TEXT,
    source TEXT NOT NULL,     -- instance | pipeline | event | external
    stream TEXT NOT NULL,     -- stdout | stderr | system
    level INTEGER,            -- 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal; NULL: unknown
    message TEXT NOT NULL,
    fields TEXT,              -- JSON object, NULL when none
    truncated INTEGER         -- 1 when the line was cut at the length cap
  );
  -- Every question names an app (\`slipway logs <app>\`); env, release and instance narrow
  -- it further while reading this index, which keeps the cost to one index per line.
  CREATE INDEX logs_app ON logs(app);
  -- Problems are few and often what a person asks first (--level warn/error): a partial index,
  -- an app's warnings and worse in time order, written only for those lines.
  CREATE INDEX logs_problems ON logs(app) WHERE level >= 40;
  -- Contentless: the text lives once, in logs; the index holds only tokens and rowids, and
  -- contentless_delete lets retention delete by rowid.
  CREATE VIRTUAL TABLE logs_fts USING fts5(text, content='', contentless_delete=1, ${FTS_OPTIONS[mode]});
  -- Merge segments 8 at a time instead of 4: ~8% less write work, queries stay under a ms.
  INSERT INTO logs_fts (logs_fts, rank) VALUES ('automerge', 8);
  -- One row per label set: the ids it was written between and its worst level. A filter on a
  -- release, instance or level with no lines answers at once; one with lines reads only the
  -- period they were written in (an old release's lines are not found by scanning all since).
  CREATE TABLE label_sets (
    key TEXT PRIMARY KEY,
    app TEXT,
    env TEXT,
    release TEXT,
    instance TEXT,
    source TEXT NOT NULL,
    stream TEXT NOT NULL,
    first_id INTEGER NOT NULL,
    last_id INTEGER NOT NULL,
    max_level INTEGER NOT NULL   -- 0: none of its lines had a level
  );
  -- How far each followed file has been stored, written in the same transaction as its lines.
  CREATE TABLE offsets (
    file TEXT PRIMARY KEY,
    ino INTEGER NOT NULL,
    offset INTEGER NOT NULL
  );
  `,
];

/** Opens (and migrates) a log database. The search mode is fixed when the file is created. */
export function openLogDb(file: string, mode: SearchMode = 'word', opts: { readOnly?: boolean } = {}): { db: Db; mode: SearchMode } {
  const db = new DatabaseSync(file, { readOnly: opts.readOnly ?? false });
  db.exec('PRAGMA busy_timeout = 5000');
  if (!opts.readOnly) {
    // synchronous=NORMAL: a power cut may lose the last batches, never corrupt the file; logs
    // do not justify an fsync per batch. journal_size_limit keeps the WAL from staying huge.
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA journal_size_limit = 67108864;');
    migrate(db, MIGRATIONS.map((m) => m(mode)));
  }
  const stored = db.prepare("SELECT value FROM meta WHERE key = 'search'").get() as { value: SearchMode } | undefined;
  return { db, mode: stored?.value ?? mode };
}

/** Bytes the database's pages hold, free pages excluded (they are reused before the file grows). */
export function usedBytes(db: Db): number {
  const pages = db.prepare('PRAGMA page_count').get() as { page_count: number };
  const free = db.prepare('PRAGMA freelist_count').get() as { freelist_count: number };
  const size = db.prepare('PRAGMA page_size').get() as { page_size: number };
  return (pages.page_count - free.freelist_count) * size.page_size;
}
