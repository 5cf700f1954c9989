// The metrics database: its own SQLite file (metrics.db), so bulk sample writes and compaction
// never hold the control plane's write lock, and deleting it loses only metrics.
//
//   series  one row per (name, label set); labels as canonical JSON (sorted keys). The unique
//           (name, labels) text is the identity, so no hash is needed: collisions are
//           impossible and the hot path never touches it (series ids are cached in memory).
//   raw     one row per sample, keyed (ts, series_id): samples arrive a scrape at a time in
//           time order, so inserts append to the right edge of the b-tree (~1 M rows/s in
//           multi-row INSERTs, against ~0.2 M/s keyed by series first), retention deletes a
//           prefix, and compaction reads a contiguous time slice. Queries at raw resolution
//           scan the time range and filter series, which is fine for the ≤ 6 h it keeps.
//   m1, h1  rollup chunks (see chunk.ts), a blob per field. 1-minute buckets: the running
//           hour's open chunk (rewritten each compaction), merged into the day's sealed chunk
//           once the hour is complete — a 24 h query reads ~3 rows per series. 1-hour buckets:
//           day chunks merged into 30-day chunks. `span` tells them apart. Rowid tables: an
//           open chunk (≤ 3.5 KB) stays on its b-tree page instead of spilling to overflow pages.
//   dirty   (bucket, series) pairs that got late samples after being rolled up; compaction
//           redoes them.
//   meta    compaction watermarks and cursors.
//   families  TYPE/HELP of metric families, as scraped.
import { DatabaseSync } from 'node:sqlite';

// Blob columns in the order queries read them: SQLite stops walking a row's overflow pages
// once it has the columns asked for, so the last value (raw) costs the least to read.
export const CHUNK_COLUMNS = ['slots', 'last', 'inc', 'first', 'count', 'sum', 'max', 'min'] as const;

function chunkTable(name: string): string {
  return `CREATE TABLE ${name} (id INTEGER PRIMARY KEY, series_id INTEGER NOT NULL, start INTEGER NOT NULL, span INTEGER NOT NULL,
     ${CHUNK_COLUMNS.map((c) => `${c} BLOB NOT NULL`).join(', ')});
   CREATE UNIQUE INDEX ${name}_series ON ${name} (series_id, start, span);
   CREATE INDEX ${name}_start ON ${name} (start);`;
}

const MIGRATIONS = [
  `CREATE TABLE series (
     id INTEGER PRIMARY KEY,
     name TEXT NOT NULL,
     labels TEXT NOT NULL,
     created INTEGER NOT NULL,
     last_seen INTEGER NOT NULL,
     UNIQUE (name, labels)
   );
   CREATE TABLE raw (
     ts INTEGER NOT NULL,
     series_id INTEGER NOT NULL,
     value REAL,
     PRIMARY KEY (ts, series_id)
   ) WITHOUT ROWID;
   ${chunkTable('m1')}
   ${chunkTable('h1')}
   CREATE TABLE dirty (tier TEXT NOT NULL, bucket INTEGER NOT NULL, series_id INTEGER NOT NULL, PRIMARY KEY (tier, bucket, series_id)) WITHOUT ROWID;
   CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
   CREATE TABLE families (name TEXT PRIMARY KEY, type TEXT NOT NULL, help TEXT);`,
];

export function openMetricsDb(file: string): DatabaseSync {
  const db = new DatabaseSync(file);
  // page_size only takes effect on a new file; 8 KB pages halve the overflow chain of a day chunk.
  // NORMAL sync in WAL mode: a power cut can lose the last transactions, never corrupt the file.
  db.exec(`PRAGMA page_size = 8192; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;
    PRAGMA cache_size = -32768; PRAGMA mmap_size = 268435456; PRAGMA temp_store = MEMORY;`);
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
  let version = row?.version ?? 0;
  if (!row) db.prepare('INSERT INTO schema_version (version) VALUES (0)').run();
  for (; version < MIGRATIONS.length; version++) {
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec(MIGRATIONS[version]);
      db.prepare('UPDATE schema_version SET version = ?').run(version + 1);
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
  }
  return db;
}
