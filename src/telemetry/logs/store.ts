import { Worker } from 'node:worker_threads';
import { systemClock, type Clock } from '../../core/clock.ts';
import type { Db } from '../../store/db.ts';
import { IngestBuffer } from './buffer.ts';
import type { FromWriter, ToWriter, WriterConfig } from './protocol.ts';
import { limitOf, MAX_LIMIT } from './filter.ts';
import { LogReader } from './reader.ts';
import { openLogDb } from './schema.ts';
import type { SearchMode } from './search.ts';
import type { LogFilter, LogLabels, LogRecord, LogStats, NewLogRecord } from './types.ts';
import type { OffsetMark } from './writer.ts';

export interface LogStoreOptions {
  /** The database file, e.g. `<dataDir>/logs.db`. */
  file: string;
  clock?: Clock;
  /** Records older than this are pruned. Default 7 days. */
  retentionMs?: number;
  /** Pruning keeps the database's used pages under this. Default 1 GiB. */
  maxBytes?: number;
  /** Lines held in memory before new ones are dropped. Default 100,000. */
  bufferLines?: number;
  /** Most lines in one write transaction. Default 5,000. */
  batchLines?: number;
  /** How long a line may wait for a batch to fill. Default 50 ms. */
  flushIntervalMs?: number;
  /** How often retention runs; 0 turns the timer off (call `prune()` yourself). Default 1 minute. */
  pruneIntervalMs?: number;
  /** Records deleted per pruning transaction. Default 2,000 (a few ms: writers barely notice). */
  pruneBatch?: number;
  /** Search semantics of a new database (an existing one keeps its own): see search.ts. */
  search?: SearchMode;
}

export const LOG_DEFAULTS = {
  retentionMs: 7 * 24 * 3_600_000,
  maxBytes: 1024 ** 3,
  bufferLines: 100_000,
  batchLines: 5_000,
  flushIntervalMs: 50,
  pruneIntervalMs: 60_000,
  pruneBatch: 2_000,
};

type Waiter = { target: number; resolve: () => void; reject: (err: Error) => void };

/**
 * The log store: every line a person may need to read (instance output, pipeline steps,
 * operation events, lines posted from outside), kept for a while and searchable.
 *
 * Writes go through a bounded buffer to a worker thread that owns the only write connection;
 * `ingestLine` never waits and never throws. Reads (`query`) use this thread's own connection
 * (WAL: readers and the writer do not block each other). Live tail is matched in memory by
 * the writer as it commits, never by re-querying.
 */
export class LogStore {
  readonly file: string;
  readonly mode: SearchMode;
  private readonly clock: Clock;
  private readonly db: Db;
  private readonly reader: LogReader;
  private readonly buffer: IngestBuffer;
  private readonly worker: Worker;
  private readonly batchLines: number;
  private readonly flushTimer: NodeJS.Timeout;
  private readonly pruneTimer?: NodeJS.Timeout;
  private readonly subscriptions = new Map<number, (record: LogRecord) => void>();
  private readonly pending = new Map<number, { resolve: (m: FromWriter) => void; reject: (err: Error) => void }>();
  private waiters: Waiter[] = [];
  private nextId = 1;
  private queuedSeq = 0;
  private sentSeq = 0;
  private committedSeq = 0;
  /** Lines of each batch sent and not yet acknowledged, oldest first. */
  private inFlight: number[] = [];
  private scheduled = false;
  private pruneRunning = false;
  private closed = false;
  private failure?: Error;
  private state = { stored: 0, bytes: 0, written: 0, pruned: 0, failed: 0, lastError: undefined as string | undefined };

  constructor(opts: LogStoreOptions) {
    // An option given as undefined (an unset config value) means the default.
    const o = { ...LOG_DEFAULTS };
    for (const key of Object.keys(o) as (keyof typeof LOG_DEFAULTS)[]) o[key] = opts[key] ?? o[key];
    this.file = opts.file;
    this.clock = opts.clock ?? systemClock;
    this.batchLines = o.batchLines;
    this.buffer = new IngestBuffer(o.bufferLines);
    // Migrate here, synchronously, so queries work from the first call; then hand writing over.
    const { db, mode } = openLogDb(opts.file, opts.search ?? 'word');
    this.db = db;
    this.mode = mode;
    this.reader = new LogReader(db, mode);
    const config: WriterConfig = { file: opts.file, mode, retentionMs: o.retentionMs, maxBytes: o.maxBytes, pruneBatch: o.pruneBatch };
    this.worker = new Worker(new URL('./writer-worker.ts', import.meta.url), { workerData: config });
    this.worker.on('message', (m: FromWriter) => this.receive(m));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', () => { if (!this.closed) this.fail(new Error('the log writer stopped')); });
    // Idle, the store keeps no process alive (close() is how it ends); busy, it does (see holdOpen).
    this.worker.unref();
    this.flushTimer = setInterval(() => this.tick(), o.flushIntervalMs).unref();
    if (o.pruneIntervalMs > 0) this.pruneTimer = setInterval(() => { if (!this.pruneRunning) void this.prune().catch(() => {}); }, o.pruneIntervalMs).unref();
  }

  // ── writing ──

  /**
   * Queues one raw line (JSON, logfmt or plain text: parsed by the writer). Returns false when
   * the buffer is full and the line was dropped (and counted). `ts`: when it was read.
   */
  ingestLine(raw: string, labels: LogLabels, ts = this.clock.now(), truncated = false): boolean {
    if (this.closed) return false;
    if (!this.buffer.push(raw, ts, labels, truncated)) return false;
    this.queuedSeq++;
    if (this.buffer.queued >= this.batchLines) this.schedule();
    return true;
  }

  /** Queues structured records (operation events, already-parsed input); returns how many were taken. */
  ingest(records: NewLogRecord[]): number {
    let taken = 0;
    const now = this.clock.now();
    for (const record of records) {
      // Labels only (not the record's fields): drops are counted per origin.
      const labels: LogLabels = { source: record.source, stream: record.stream, app: record.app, env: record.env, release: record.release, instance: record.instance };
      if (this.closed || !this.buffer.push(record, record.ts ?? now, labels)) continue;
      this.queuedSeq++;
      taken++;
    }
    if (this.buffer.queued >= this.batchLines) this.schedule();
    return taken;
  }

  /** Lines that can be queued before drops start: producers that can wait (the tailer) check it. */
  room(): number {
    return this.closed ? 0 : this.buffer.room;
  }

  get capacity(): number {
    return this.buffer.capacity;
  }

  /** Counts lines lost upstream of the buffer (the tailer skipping a backlog) as dropped. */
  countDropped(labels: LogLabels, lines: number, estimated = false): void {
    this.buffer.countDrop(this.buffer.labels.intern(labels), lines, estimated);
  }

  /** Records how far a followed file has been queued; committed together with its lines. */
  markOffset(mark: OffsetMark): void {
    if (this.closed) return;
    this.buffer.force(mark, 0);
    this.queuedSeq++;
  }

  /** Where reading of `file` stopped last time (committed offset), if ever. */
  offset(file: string): { ino: number; offset: number } | undefined {
    return this.reader.offset(file);
  }

  /** Resolves once everything queued before the call is committed. */
  flush(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const target = this.queuedSeq;
    if (this.committedSeq >= target) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ target, resolve, reject });
      this.schedule();
    });
  }

  /** Runs one retention pass now (the timer does it every `pruneIntervalMs`). */
  async prune(): Promise<{ deleted: number }> {
    this.pruneRunning = true;
    try {
      const reply = await this.request((id) => ({ type: 'prune', id, now: this.clock.now() }));
      if (reply.type !== 'pruned') throw new Error(`unexpected writer reply ${reply.type}`);
      return { deleted: reply.deleted };
    } finally {
      this.pruneRunning = false;
    }
  }

  // ── reading ──

  /** Matching records, oldest first: the newest `limit` (default 500), or the first after `afterId`. */
  query(filter: LogFilter): LogRecord[] {
    return this.reader.query(filter);
  }

  /**
   * Calls `onRecord` for each record stored from now on that matches `filter` (limit and paging
   * ignored), in commit order. Returns the function that ends the subscription.
   */
  subscribe(filter: LogFilter, onRecord: (record: LogRecord) => void): () => void {
    const id = this.nextId++;
    this.subscriptions.set(id, onRecord);
    this.post({ type: 'subscribe', id, filter: { ...filter } });
    return () => {
      if (!this.subscriptions.delete(id)) return;
      this.post({ type: 'unsubscribe', id });
    };
  }

  /**
   * What `logs -f` and the SSE endpoint need: the backlog (`query(filter)`) and then the live
   * records, with no gap and no duplicate between them. With `afterId` (an SSE reconnect's
   * Last-Event-ID) the backlog is everything after it, read a page at a time (at most 10,000).
   */
  async tail(filter: LogFilter, onRecord: (record: LogRecord) => void): Promise<() => void> {
    const early: LogRecord[] = [];
    const seen = new Set<number>();
    let live = false;
    const unsubscribe = this.subscribe(filter, (r) => {
      if (!live) early.push(r);
      else if (!seen.has(r.id!)) onRecord(r);
    });
    try {
      // Once the writer has seen the subscription, every later commit reaches it; everything
      // committed before is visible to the query below.
      await this.request((id) => ({ type: 'sync', id }));
    } catch (err) {
      unsubscribe();
      throw err;
    }
    let backlog = this.query(filter);
    if (filter.afterId !== undefined) {
      const all = [...backlog];
      while (backlog.length > 0 && backlog.length === limitOf(filter) && all.length < MAX_LIMIT) {
        backlog = this.query({ ...filter, afterId: backlog.at(-1)!.id });
        all.push(...backlog);
      }
      backlog = all;
    }
    for (const r of backlog) {
      seen.add(r.id!);
      onRecord(r);
    }
    live = true;
    for (const r of early) if (!seen.has(r.id!)) onRecord(r);
    return unsubscribe;
  }

  stats(): LogStats {
    return {
      buffered: this.buffer.size,
      capacity: this.buffer.capacity,
      dropped: this.buffer.droppedTotal(),
      droppedBy: this.buffer.droppedBy(),
      stored: this.state.stored,
      bytes: this.state.bytes,
      written: this.state.written,
      pruned: this.state.pruned,
      failed: this.state.failed,
      ...(this.state.lastError ? { lastError: this.state.lastError } : {}),
    };
  }

  /** Writes what is queued, stops the writer and closes the database. Never throws. */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.flushTimer);
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    try {
      await this.flush();
    } catch {
      // The writer failed: what was queued is lost, and stats().lastError says why.
    } finally {
      this.closed = true;
      if (!this.failure) {
        const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
        this.worker.ref();
        this.worker.postMessage({ type: 'close' } satisfies ToWriter);
        await exited;
        const closed = new Error('the log store is closed');
        for (const p of this.pending.values()) p.reject(closed);
        this.pending.clear();
      }
      this.db.close();
    }
  }

  // ── the writer conversation ──

  private tick(): void {
    for (const notice of this.buffer.dropNotices()) {
      this.buffer.force(notice, this.clock.now());
      this.queuedSeq++;
    }
    if (this.buffer.queued > 0) this.send();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Not inline: a producer pushing lines in a loop pays only for the push.
    setImmediate(() => {
      this.scheduled = false;
      this.send();
    });
  }

  /**
   * At most two batches out: the writer starts the next one as soon as it commits one, and the
   * rest waits here, where the capacity applies. A second batch goes only when it is full, so
   * a quiet store writes one small batch per flush interval.
   */
  private send(): void {
    if (this.failure || this.buffer.queued === 0) return;
    if (this.inFlight.length >= 2 || (this.inFlight.length === 1 && this.buffer.queued < this.batchLines)) return;
    const batch = this.buffer.take(this.batchLines);
    this.inFlight.push(batch.lines);
    this.sentSeq += batch.items.length;
    this.post({ type: 'write', seq: this.sentSeq, now: this.clock.now(), labels: this.buffer.labels.unsent(), items: batch.items, ts: batch.ts, sids: batch.sids, flags: batch.flags });
    this.holdOpen();
  }

  /** While a batch or a request is out, the worker keeps the process alive, so awaiting it works. */
  private holdOpen(): void {
    if (this.closed || this.failure) return;
    if (this.inFlight.length > 0 || this.pending.size > 0) this.worker.ref();
    else this.worker.unref();
  }

  private receive(m: FromWriter): void {
    switch (m.type) {
      case 'ready':
        this.state.stored = m.stored;
        this.state.bytes = m.bytes;
        return;
      case 'written': {
        const lines = this.inFlight.shift() ?? 0;
        this.committedSeq = m.seq;
        this.state.stored = m.stored;
        this.state.bytes = m.bytes;
        this.state.written += m.count;
        if (m.error) {
          // The batch is lost (disk full, say); keep going: the next one may succeed.
          this.state.lastError = m.error;
          this.state.failed += lines;
        }
        for (const [id, records] of m.live) {
          const onRecord = this.subscriptions.get(id);
          if (onRecord) for (const r of records) onRecord(r);
        }
        this.waiters = this.waiters.filter((w) => {
          if (w.target > this.committedSeq) return true;
          w.resolve();
          return false;
        });
        if (this.buffer.queued >= this.batchLines || this.waiters.length) this.send();
        this.holdOpen();
        return;
      }
      case 'pruned':
        this.state.stored = m.stored;
        this.state.bytes = m.bytes;
        if (m.first) this.state.pruned += m.deleted;
        if (m.error) this.state.lastError = m.error;
        this.pending.get(m.id)?.resolve(m);
        return;
      case 'synced':
        this.pending.get(m.id)?.resolve(m);
        return;
      case 'closed':
        return;
    }
  }

  private request(make: (id: number) => ToWriter): Promise<FromWriter> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('the log store is closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: (m) => { this.pending.delete(id); this.holdOpen(); resolve(m); }, reject });
      this.post(make(id));
      this.holdOpen();
    });
  }

  private post(message: ToWriter): void {
    if (this.closed || this.failure) return;
    this.worker.postMessage(message);
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.state.lastError = err.message;
    for (const w of this.waiters) w.reject(err);
    for (const p of this.pending.values()) p.reject(err);
    this.waiters = [];
    this.pending.clear();
  }
}
