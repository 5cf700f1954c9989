import { parentPort, workerData } from 'node:worker_threads';
import { matches } from './filter.ts';
import type { FromWriter, ToWriter, WriterConfig } from './protocol.ts';
import { openLogDb } from './schema.ts';
import type { LogFilter, LogLabels, LogRecord, NewLogRecord } from './types.ts';
import { LogWriter, type OffsetMark, type WriteItem } from './writer.ts';

// The writer thread: parsing, FTS indexing and pruning cost CPU, and here they use the second
// core instead of the control plane's event loop (which also runs the router). Messages are
// handled in order, so a subscription or a sync is in force for every batch after it.

const config = workerData as WriterConfig;
const port = parentPort!;
const { db, mode } = openLogDb(config.file, config.mode);
const writer = new LogWriter(db);
const labels = new Map<number, LogLabels>();
const subscriptions = new Map<number, LogFilter>();
let pruning = false;
const queued: { id: number; now: number }[] = [];
let closed = false;

const send = (message: FromWriter) => port.postMessage(message);

send({ type: 'ready', ...writer.stats() });

port.on('message', (message: ToWriter) => {
  switch (message.type) {
    case 'write': return write(message);
    case 'prune': return prune(message.id, message.now);
    case 'subscribe': subscriptions.set(message.id, message.filter); return;
    case 'unsubscribe': subscriptions.delete(message.id); return;
    case 'sync': return send({ type: 'synced', id: message.id });
    case 'close':
      closed = true;
      db.close();
      send({ type: 'closed' });
      port.close();
  }
});

function write(message: Extract<ToWriter, { type: 'write' }>): void {
  for (const [sid, l] of message.labels) labels.set(sid, l);
  const items: WriteItem[] = message.items.map((item, i) => {
    if (typeof item === 'string') return { line: item, ts: message.ts[i], labels: labels.get(message.sids[i])!, truncated: message.flags[i] === 1 };
    if ('message' in item) return { record: item as NewLogRecord };
    return { offset: item as OffsetMark };
  });
  let stored: LogRecord[] = [];
  let error: string | undefined;
  try {
    stored = writer.write(items, message.now);
  } catch (err) {
    error = (err as Error).message;
  }
  const live: [number, LogRecord[]][] = [];
  for (const [id, filter] of subscriptions) {
    const hits = stored.filter((r) => matches(r, filter, mode));
    if (hits.length) live.push([id, hits]);
  }
  const state = writer.stats();
  send({ type: 'written', seq: message.seq, count: stored.length, live, ...(error ? { error } : {}), ...state });
  // Over the size budget already: prune now rather than at the next timer tick, so the file
  // overshoots by a few batches, not by a minute of output.
  if (!pruning && state.bytes > config.maxBytes * 1.05) prune(0, message.now);
}

/**
 * One pass, in small transactions with a turn of the event loop between them, so writes go on.
 * A request during a pass gets the next pass (with its own `now`). `id` 0: started by the
 * writer itself; the reply then only updates the stats.
 */
function prune(id: number, now: number): void {
  queued.push({ id, now });
  if (!pruning) pass();
}

function pass(): void {
  const requests = queued.splice(0);
  if (requests.length === 0 || closed) return;
  pruning = true;
  const now = requests[requests.length - 1].now;
  let deleted = 0;
  const finish = (error?: string) => {
    pruning = false;
    const state = writer.stats();
    // Every request of the pass hears of it; the deletions are counted once.
    requests.forEach((r, i) => send({ type: 'pruned', id: r.id, deleted, first: i === 0, ...(error ? { error } : {}), ...state }));
    pass();
  };
  let cutoff: number;
  try {
    cutoff = writer.pruneCutoff(now, config.retentionMs, config.maxBytes);
  } catch (err) {
    return finish((err as Error).message);
  }
  const step = () => {
    if (closed) return;
    try {
      const n = writer.pruneBatch(cutoff, config.pruneBatch);
      deleted += n;
      if (n > 0) return void setImmediate(step);
      if (deleted > 0) writer.optimize();
      finish();
    } catch (err) {
      finish((err as Error).message);
    }
  };
  step();
}
