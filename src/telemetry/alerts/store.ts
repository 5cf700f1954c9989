// Alerting's own tables: alert states, silences and the notification outbox. All SQL of this
// folder is here. Works on the server's database (tables are prefixed alert_) or on a file of
// its own. What must survive a restart: which alerts were already announced (so none is
// announced twice) and which notifications are still owed (so none is lost).
import { DatabaseSync } from 'node:sqlite';
import type { AlertRule, AlertState, Notification, Silence } from './types.ts';

// Idempotent on purpose: this module cannot append to the server's migration list, and running
// it on every open is cheap. A later change to these tables must be a guarded ALTER here.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS alert_states (
  key TEXT PRIMARY KEY,
  rule_id TEXT NOT NULL,
  app TEXT NOT NULL,
  env TEXT NOT NULL,
  state TEXT NOT NULL,            -- pending | firing | resolved (inactive alerts have no row)
  data TEXT NOT NULL,             -- the AlertState as JSON
  rule TEXT NOT NULL              -- the rule as it was, to announce a resolution after it is removed
);
CREATE TABLE IF NOT EXISTS alert_silences (
  id TEXT PRIMARY KEY,
  app TEXT,
  env TEXT,
  rule TEXT,
  starts_at INTEGER NOT NULL,
  ends_at INTEGER NOT NULL,
  comment TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expired_by TEXT
);
CREATE TABLE IF NOT EXISTS alert_outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  notifier TEXT NOT NULL,
  notification TEXT NOT NULL,     -- JSON
  state TEXT NOT NULL,            -- queued | delivered | failed (refused) | dropped (gave up)
  created_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_attempt_at INTEGER,
  last_error TEXT,
  last_error_at INTEGER,
  done_at INTEGER
);
CREATE INDEX IF NOT EXISTS alert_outbox_queue ON alert_outbox (notifier, state, id);
`;

export interface StoredAlert {
  state: AlertState;
  rule: AlertRule;
}

export interface OutboxRow {
  id: number;
  notifier: string;
  notification: Notification;
  createdAt: number;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
}

export interface OutboxStats {
  queued: number;
  delivered: number;
  failed: number;
  dropped: number;
  /** Attempts made on the oldest queued notification: > 0 means the receiver is failing now. */
  attempts: number;
  nextAttemptAt: number | null;
  lastError: string | null;
  lastErrorAt: number | null;
  lastSuccessAt: number | null;
}

type Row = Record<string, unknown>;
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

export class AlertStore {
  readonly db: DatabaseSync;
  private readonly owned: boolean;

  /** A path opens (and later closes) a database of its own; a DatabaseSync is shared and left open. */
  constructor(db: DatabaseSync | string) {
    if (typeof db === 'string') {
      this.db = new DatabaseSync(db);
      this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;');
      this.owned = true;
    } else {
      this.db = db;
      this.owned = false;
    }
    this.db.exec(SCHEMA);
  }

  close(): void {
    if (this.owned && this.db.isOpen) this.db.close();
  }

  /** Atomic; nests (as a savepoint) inside a transaction the caller already holds. */
  transaction<T>(fn: () => T): T {
    const nested = this.db.isTransaction;
    this.db.exec(nested ? 'SAVEPOINT alerts' : 'BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.db.exec(nested ? 'RELEASE alerts' : 'COMMIT');
      return result;
    } catch (err) {
      this.db.exec(nested ? 'ROLLBACK TO alerts; RELEASE alerts' : 'ROLLBACK');
      throw err;
    }
  }

  // ---- alert states ----

  alerts(): StoredAlert[] {
    const rows = this.db.prepare('SELECT data, rule FROM alert_states ORDER BY app, env, key').all() as Row[];
    return rows.map((r) => ({ state: JSON.parse(String(r.data)) as AlertState, rule: JSON.parse(String(r.rule)) as AlertRule }));
  }

  putAlert(state: AlertState, rule: AlertRule): void {
    this.db.prepare(`INSERT INTO alert_states (key, rule_id, app, env, state, data, rule) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (key) DO UPDATE SET state = excluded.state, data = excluded.data, rule = excluded.rule`)
      .run(state.key, state.ruleId, state.app, state.env, state.state, JSON.stringify(state), JSON.stringify(rule));
  }

  deleteAlert(key: string): void {
    this.db.prepare('DELETE FROM alert_states WHERE key = ?').run(key);
  }

  // ---- silences ----

  insertSilence(s: Silence): void {
    this.db.prepare(`INSERT INTO alert_silences (id, app, env, rule, starts_at, ends_at, comment, created_by, created_at, expired_by)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(s.id, s.matchers.app ?? null, s.matchers.env ?? null, s.matchers.rule ?? null, s.startsAt, s.endsAt, s.comment, s.createdBy, s.createdAt, s.expiredBy);
  }

  silences(): Silence[] {
    const rows = this.db.prepare('SELECT * FROM alert_silences ORDER BY created_at, id').all() as Row[];
    return rows.map(silenceFromRow);
  }

  silence(id: string): Silence | undefined {
    const row = this.db.prepare('SELECT * FROM alert_silences WHERE id = ?').get(id) as Row | undefined;
    return row ? silenceFromRow(row) : undefined;
  }

  endSilence(id: string, at: number, by: string): void {
    this.db.prepare('UPDATE alert_silences SET ends_at = ?, expired_by = ? WHERE id = ?').run(at, by, id);
  }

  deleteSilencesEndedBefore(at: number): void {
    this.db.prepare('DELETE FROM alert_silences WHERE ends_at < ?').run(at);
  }

  // ---- outbox ----

  enqueue(notifier: string, n: Notification, now: number): void {
    this.db.prepare(`INSERT INTO alert_outbox (notifier, notification, state, created_at, next_attempt_at) VALUES (?, ?, 'queued', ?, ?)`)
      .run(notifier, JSON.stringify(n), now, now);
  }

  /** The oldest queued notification for a notifier: delivery is in order, one at a time. */
  head(notifier: string): OutboxRow | undefined {
    const row = this.db.prepare(`SELECT id, notifier, notification, created_at, attempts, next_attempt_at, last_error FROM alert_outbox
      WHERE notifier = ? AND state = 'queued' ORDER BY id LIMIT 1`).get(notifier) as Row | undefined;
    if (!row) return undefined;
    return {
      id: Number(row.id),
      notifier: String(row.notifier),
      notification: JSON.parse(String(row.notification)) as Notification,
      createdAt: Number(row.created_at),
      attempts: Number(row.attempts),
      nextAttemptAt: Number(row.next_attempt_at),
      lastError: row.last_error === null ? null : String(row.last_error),
    };
  }

  markDelivered(id: number, now: number): void {
    this.db.prepare(`UPDATE alert_outbox SET state = 'delivered', attempts = attempts + 1, last_attempt_at = ?, done_at = ? WHERE id = ?`).run(now, now, id);
  }

  markRetry(id: number, nextAttemptAt: number, error: string, now: number): void {
    this.db.prepare(`UPDATE alert_outbox SET attempts = attempts + 1, next_attempt_at = ?, last_attempt_at = ?, last_error = ?, last_error_at = ? WHERE id = ?`)
      .run(nextAttemptAt, now, error, now, id);
  }

  markGivenUp(id: number, state: 'failed' | 'dropped', error: string, now: number, attempted: boolean): void {
    this.db.prepare(`UPDATE alert_outbox SET state = ?, attempts = attempts + ?, last_attempt_at = CASE WHEN ? THEN ? ELSE last_attempt_at END,
      last_error = ?, last_error_at = ?, done_at = ? WHERE id = ?`)
      .run(state, attempted ? 1 : 0, attempted ? 1 : 0, now, error, now, now, id);
  }

  /** Finished rows are kept for a while so status can show recent failures, then deleted. */
  pruneOutbox(before: number): void {
    this.db.prepare(`DELETE FROM alert_outbox WHERE state <> 'queued' AND done_at < ?`).run(before);
  }

  outboxStats(notifier: string): OutboxStats {
    const counts = this.db.prepare('SELECT state, COUNT(*) AS n, MAX(done_at) AS last FROM alert_outbox WHERE notifier = ? GROUP BY state').all(notifier) as Row[];
    const count = (state: string) => Number(counts.find((r) => r.state === state)?.n ?? 0);
    const head = this.db.prepare(`SELECT attempts, next_attempt_at FROM alert_outbox WHERE notifier = ? AND state = 'queued' ORDER BY id LIMIT 1`).get(notifier) as Row | undefined;
    const error = this.db.prepare(`SELECT last_error, last_error_at FROM alert_outbox WHERE notifier = ? AND last_error IS NOT NULL
      ORDER BY last_error_at DESC, id DESC LIMIT 1`).get(notifier) as Row | undefined;
    return {
      queued: count('queued'),
      delivered: count('delivered'),
      failed: count('failed'),
      dropped: count('dropped'),
      attempts: Number(head?.attempts ?? 0),
      nextAttemptAt: num(head?.next_attempt_at),
      lastError: error ? String(error.last_error) : null,
      lastErrorAt: num(error?.last_error_at),
      lastSuccessAt: num(counts.find((r) => r.state === 'delivered')?.last),
    };
  }

  /** Notifier names with rows in the outbox (including ones no longer configured). */
  outboxNotifiers(): string[] {
    return (this.db.prepare('SELECT DISTINCT notifier FROM alert_outbox ORDER BY notifier').all() as Row[]).map((r) => String(r.notifier));
  }
}

function silenceFromRow(r: Row): Silence {
  const matchers: Silence['matchers'] = {};
  if (r.app !== null) matchers.app = String(r.app);
  if (r.env !== null) matchers.env = String(r.env);
  if (r.rule !== null) matchers.rule = String(r.rule);
  return {
    id: String(r.id),
    matchers,
    startsAt: Number(r.starts_at),
    endsAt: Number(r.ends_at),
    comment: String(r.comment),
    createdBy: String(r.created_by),
    createdAt: Number(r.created_at),
    expiredBy: r.expired_by === null ? null : String(r.expired_by),
  };
}
