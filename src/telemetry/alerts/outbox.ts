// The outbox: notifications are written to sqlite first (in the same transaction as the alert
// state that caused them) and delivered from there, so evaluation never waits on a receiver and
// a restart loses nothing. Each notifier has its own queue, delivered in order, one at a time:
// a "resolved" must not overtake its "firing". A failing receiver is retried with capped
// exponential backoff and holds up only its own queue. Delivery is at-least-once: a crash
// between a receiver's 200 and our bookkeeping resends (notification ids let receivers dedupe).
import { systemClock, type Clock } from '../../core/clock.ts';
import { SlipwayError } from '../../core/errors.ts';
import { eventNotification } from './notification.ts';
import { DeliveryError } from './notifiers/http.ts';
import type { Notifier } from './notifiers/notifier.ts';
import type { AlertStore, OutboxStats } from './store.ts';
import { EVENT_KINDS, SEVERITIES, type EventInput, type EventNotification, type Notification } from './types.ts';
import { formatMs } from './units.ts';

export interface DeliveryPolicy {
  /** First retry after this long; doubles per failure… */
  baseMs: number;
  /** …up to this. */
  maxMs: number;
  /** A notification still undelivered this long after it was queued is dropped (and counted). */
  maxAgeMs: number;
  /** Delivered, failed and dropped rows are kept this long for status, then deleted. */
  keepDoneMs: number;
}

export const DELIVERY_DEFAULTS: DeliveryPolicy = {
  baseMs: 1000,
  maxMs: 5 * 60_000,
  maxAgeMs: 24 * 3_600_000,
  keepDoneMs: 24 * 3_600_000,
};

// Bounds one pass over a queue, so a long backlog cannot keep a worker busy forever.
const BATCH = 100;
// While something is queued the worker looks again at least this often (clock changes, restarts).
const MAX_WAIT_MS = 60_000;

/** Wait before retry number `failures` (1 = after the first failure). */
export function backoffMs(failures: number, policy: Pick<DeliveryPolicy, 'baseMs' | 'maxMs'>): number {
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(Math.max(failures - 1, 0), 30));
}

export interface NotifierStatus extends OutboxStats {
  name: string;
  kind: string;
  target: string;
  /** false: rows remain for a notifier that is no longer configured; they are not delivered. */
  configured: boolean;
}

export interface OutboxOptions {
  store: AlertStore;
  notifiers?: Notifier[];
  clock?: Clock;
  policy?: Partial<DeliveryPolicy>;
  /** Told about every failed attempt, e.g. to log it; status() has the same facts. */
  onError?: (notifier: string, error: DeliveryError) => void;
}

interface Worker {
  running: Promise<void> | null;
  again: boolean;
  timer: NodeJS.Timeout | null;
}

export class Outbox {
  private readonly store: AlertStore;
  private readonly clock: Clock;
  private readonly policy: DeliveryPolicy;
  private readonly onError?: (notifier: string, error: DeliveryError) => void;
  private notifiers = new Map<string, Notifier>();
  private readonly workers = new Map<string, Worker>();
  private started = false;
  private abort = new AbortController();

  constructor(opts: OutboxOptions) {
    this.store = opts.store;
    this.clock = opts.clock ?? systemClock;
    this.policy = { ...DELIVERY_DEFAULTS, ...opts.policy };
    if (opts.onError) this.onError = opts.onError;
    this.setNotifiers(opts.notifiers ?? []);
  }

  setNotifiers(notifiers: Notifier[]): void {
    const names = new Set<string>();
    for (const n of notifiers) {
      if (names.has(n.name)) throw new SlipwayError('alerts.duplicate_notifier', `two notifiers are named "${n.name}"`, { hint: 'notifier names must be unique' });
      names.add(n.name);
    }
    this.notifiers = new Map(notifiers.map((n) => [n.name, n]));
    this.kick();
  }

  /** Queues `n` for every notifier that takes it; returns how many. Synchronous: safe inside a transaction. */
  enqueue(n: Notification): number {
    const now = this.clock.now();
    let queued = 0;
    for (const notifier of this.notifiers.values()) {
      if (!notifier.accepts(n)) continue;
      this.store.enqueue(notifier.name, n, now);
      queued++;
    }
    return queued;
  }

  /** Pipeline and deployment outcomes, through the same notifiers and queues as alerts. */
  notifyEvent(input: EventInput): EventNotification {
    validateEvent(input);
    const n = eventNotification(input, this.clock.now());
    this.store.transaction(() => this.enqueue(n));
    this.kick();
    return n;
  }

  /** Deliver soon, without waiting (a no-op until start()). */
  kick(): void {
    if (!this.started) return;
    for (const name of this.notifiers.keys()) this.wake(name, 0);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.abort = new AbortController();
    this.kick();
  }

  /** Stops timers and aborts requests in flight; what was not delivered stays queued. */
  async stop(): Promise<void> {
    this.started = false;
    this.abort.abort();
    for (const w of this.workers.values()) if (w.timer) clearTimeout(w.timer);
    await Promise.all([...this.workers.values()].map((w) => w.running));
  }

  /** One delivery pass over every notifier's queue; resolves when each has done what is due. */
  async deliverDue(): Promise<void> {
    this.store.pruneOutbox(this.clock.now() - this.policy.keepDoneMs);
    await Promise.all([...this.notifiers.keys()].map((name) => this.run(name)));
  }

  status(): NotifierStatus[] {
    const names = new Set([...this.notifiers.keys(), ...this.store.outboxNotifiers()]);
    return [...names].map((name) => {
      const n = this.notifiers.get(name);
      return { name, kind: n?.kind ?? 'unknown', target: n?.target ?? '', configured: n !== undefined, ...this.store.outboxStats(name) };
    });
  }

  private worker(name: string): Worker {
    let w = this.workers.get(name);
    if (!w) {
      w = { running: null, again: false, timer: null };
      this.workers.set(name, w);
    }
    return w;
  }

  private wake(name: string, delayMs: number): void {
    const w = this.worker(name);
    if (w.timer) clearTimeout(w.timer);
    w.timer = setTimeout(() => {
      w.timer = null;
      void this.run(name);
    }, Math.max(0, Math.min(delayMs, MAX_WAIT_MS)));
    // Delivery alone must not keep the process alive; whatever is owed stays in the outbox.
    w.timer.unref();
  }

  // One worker per notifier; a wake-up during a pass makes it go round once more.
  private run(name: string): Promise<void> {
    const w = this.worker(name);
    if (w.running) {
      w.again = true;
      return w.running;
    }
    w.running = (async () => {
      try {
        do {
          w.again = false;
          await this.drain(name);
        } while (w.again && !this.abort.signal.aborted);
      } finally {
        w.running = null;
        this.scheduleNext(name);
      }
    })();
    return w.running;
  }

  private scheduleNext(name: string): void {
    if (!this.started || !this.notifiers.has(name)) return;
    const head = this.store.head(name);
    if (head) this.wake(name, head.nextAttemptAt - this.clock.now());
  }

  private async drain(name: string): Promise<void> {
    const notifier = this.notifiers.get(name);
    if (!notifier) return;
    for (let i = 0; i < BATCH; i++) {
      const row = this.store.head(name);
      const now = this.clock.now();
      if (!row) return;
      if (now - row.createdAt >= this.policy.maxAgeMs) {
        const why = `not delivered within ${formatMs(this.policy.maxAgeMs)} (${row.attempts} attempts)${row.lastError ? `; last error: ${row.lastError}` : ''}`;
        this.store.markGivenUp(row.id, 'dropped', why, now, false);
        continue;
      }
      if (row.nextAttemptAt > now) return;
      try {
        await notifier.send(row.notification, this.abort.signal);
        this.store.markDelivered(row.id, this.clock.now());
      } catch (err) {
        // Shutting down: the attempt does not count; the row is retried after the restart.
        if (this.abort.signal.aborted) return;
        const error = err instanceof DeliveryError ? err : new DeliveryError((err as Error).message ?? String(err), false);
        const at = this.clock.now();
        this.onError?.(name, error);
        if (error.permanent) {
          this.store.markGivenUp(row.id, 'failed', error.message, at, true);
          continue;
        }
        this.store.markRetry(row.id, at + backoffMs(row.attempts + 1, this.policy), error.message, at);
        return;
      }
    }
  }
}

function validateEvent(input: EventInput): void {
  const bad = (message: string, hint: string) => new SlipwayError('alerts.bad_event', message, { hint, status: 400 });
  if (!(EVENT_KINDS as readonly string[]).includes(input.kind)) throw bad(`unknown event kind ${JSON.stringify(input.kind)}`, `use one of: ${EVENT_KINDS.join(', ')}`);
  if (typeof input.app !== 'string' || input.app === '') throw bad('an event needs the app it is about', 'pass app');
  if (typeof input.title !== 'string' || input.title.trim() === '') throw bad('an event needs a title', 'e.g. "hello v42 rolled back in production"');
  if (typeof input.text !== 'string') throw bad('event text must be a string', 'pass text (it may be empty)');
  if (input.severity !== undefined && !(SEVERITIES as readonly string[]).includes(input.severity)) {
    throw bad(`unknown severity ${JSON.stringify(input.severity)}`, `use one of: ${SEVERITIES.join(', ')}`);
  }
}
