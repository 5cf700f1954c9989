import type { OffsetMark } from './writer.ts';
import { labelKey, type LogLabels, type NewLogRecord } from './types.ts';

// The bounded queue between producers (instances, pipeline steps, events, the API) and the
// writer. Pushing is O(1) and never waits: past `capacity` a line is dropped and counted against
// its origin, and once the pressure is over the count becomes a visible `system` line. Pure: no
// timers, no I/O; the store drives it.

export type Item = string | NewLogRecord | OffsetMark;

export interface Batch {
  items: Item[];
  ts: number[];
  sids: number[];
  /** 1: the line was cut at the length cap before it got here. */
  flags: number[];
  /** Items that counted against the capacity (lines and records). */
  lines: number;
}

/** Labels are sent to the writer once, then referred to by a small number (sid). */
export class LabelTable {
  private readonly byObject = new WeakMap<LogLabels, number>();
  private readonly byKey = new Map<string, number>();
  private readonly labels: LogLabels[] = [];
  private sent = 0;

  intern(labels: LogLabels): number {
    const cached = this.byObject.get(labels);
    if (cached !== undefined) return cached;
    const key = labels.fields ? `${labelKey(labels)}\u0000${JSON.stringify(labels.fields)}` : labelKey(labels);
    let sid = this.byKey.get(key);
    if (sid === undefined) {
      sid = this.labels.length;
      this.labels.push({
        app: labels.app ?? null, env: labels.env ?? null, release: labels.release ?? null, instance: labels.instance ?? null,
        source: labels.source, stream: labels.stream, ...(labels.fields ? { fields: { ...labels.fields } } : {}),
      });
      this.byKey.set(key, sid);
    }
    this.byObject.set(labels, sid);
    return sid;
  }

  get(sid: number): LogLabels {
    return this.labels[sid];
  }

  /** Labels interned since the last call, for the writer's copy of the table. */
  unsent(): [number, LogLabels][] {
    const out: [number, LogLabels][] = [];
    for (; this.sent < this.labels.length; this.sent++) out.push([this.sent, this.labels[this.sent]]);
    return out;
  }
}

interface Drops {
  total: number;
  /** Not yet reported in a notice line. */
  pending: number;
  /** Some of the pending count is an estimate (a tailer skipped a backlog unread). */
  estimated: boolean;
}

export class IngestBuffer {
  readonly capacity: number;
  readonly labels = new LabelTable();
  private items: Item[] = [];
  private ts: number[] = [];
  private sids: number[] = [];
  private flags: number[] = [];
  private head = 0;
  private lines = 0;
  private readonly drops = new Map<number, Drops>();
  private droppedSinceCheck = false;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** Lines and records waiting. */
  get size(): number {
    return this.lines;
  }

  /** Room left before lines are dropped. */
  get room(): number {
    return Math.max(0, this.capacity - this.lines);
  }

  get queued(): number {
    return this.items.length - this.head;
  }

  /** Queues one line (or record); false when it was dropped. */
  push(item: string | NewLogRecord, ts: number, labels: LogLabels, truncated = false): boolean {
    const sid = this.labels.intern(labels);
    if (this.lines >= this.capacity) {
      this.countDrop(sid, 1);
      return false;
    }
    this.lines++;
    this.append(item, ts, sid, truncated ? 1 : 0);
    return true;
  }

  /** Records lines lost before they reached the buffer (a tailer that had to skip ahead). */
  countDrop(sid: number, n: number, estimated = false): void {
    let d = this.drops.get(sid);
    if (!d) this.drops.set(sid, (d = { total: 0, pending: 0, estimated: false }));
    d.total += n;
    d.pending += n;
    if (estimated) d.estimated = true;
    this.droppedSinceCheck = true;
  }

  /** Queues an item regardless of capacity: offset marks and drop notices must not be lost. */
  force(item: Item, ts: number, sid = -1): void {
    if (counts(item)) this.lines++;
    this.append(item, ts, sid, 0);
  }

  private append(item: Item, ts: number, sid: number, flag: number): void {
    this.items.push(item);
    this.ts.push(ts);
    this.sids.push(sid);
    this.flags.push(flag);
  }

  /** Takes up to `max` items off the front. */
  take(max: number): Batch {
    const end = Math.min(this.items.length, this.head + max);
    const batch: Batch = {
      items: this.items.slice(this.head, end),
      ts: this.ts.slice(this.head, end),
      sids: this.sids.slice(this.head, end),
      flags: this.flags.slice(this.head, end),
      lines: 0,
    };
    for (const item of batch.items) if (counts(item)) batch.lines++;
    this.lines -= batch.lines;
    this.head = end;
    // Compact now and then instead of shifting per take.
    if (this.head >= 65_536 || this.head === this.items.length) {
      this.items = this.items.slice(this.head);
      this.ts = this.ts.slice(this.head);
      this.sids = this.sids.slice(this.head);
      this.flags = this.flags.slice(this.head);
      this.head = 0;
    }
    return batch;
  }

  /**
   * Notice records for drops not yet reported, once the pressure is over: no drop since the
   * previous call, and the buffer at most half full. Call it on a steady tick.
   */
  dropNotices(): NewLogRecord[] {
    const calm = !this.droppedSinceCheck && this.lines <= this.capacity / 2;
    this.droppedSinceCheck = false;
    if (!calm) return [];
    const notices: NewLogRecord[] = [];
    for (const [sid, d] of this.drops) {
      if (d.pending === 0) continue;
      const labels = this.labels.get(sid);
      notices.push({
        app: labels.app, env: labels.env, release: labels.release, instance: labels.instance, source: labels.source,
        stream: 'system',
        level: 'warn',
        message: `dropped ${d.estimated ? 'about ' : ''}${d.pending.toLocaleString('en-US')} ${labels.stream === 'system' ? '' : `${labels.stream} `}lines from ${describeOrigin(labels)}: ${d.estimated ? 'the log store fell too far behind' : 'the log buffer was full'}`,
        fields: { dropped: d.pending },
      });
      d.pending = 0;
      d.estimated = false;
    }
    return notices;
  }

  droppedTotal(): number {
    let n = 0;
    for (const d of this.drops.values()) n += d.total;
    return n;
  }

  droppedBy(): { origin: string; labels: LogLabels; count: number }[] {
    return [...this.drops].map(([sid, d]) => ({ origin: describeOrigin(this.labels.get(sid)), labels: this.labels.get(sid), count: d.total }));
  }
}

/** Lines and records count against the capacity; offset marks do not. */
const counts = (item: Item) => typeof item === 'string' || 'message' in item;

export function describeOrigin(labels: LogLabels): string {
  switch (labels.source) {
    case 'instance': return `instance ${labels.instance ?? '?'}`;
    case 'pipeline': return `the pipeline of ${labels.app ?? '?'}`;
    case 'event': return 'operation events';
    case 'external': return labels.app ? `external input for ${labels.app}` : 'external input';
  }
}
