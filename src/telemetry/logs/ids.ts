// Record ids are `ts * 1000 + n`: the time order and the primary key in one integer, so time
// bounds become rowid ranges (cheap in the table and in FTS5) and nothing needs a ts index.
// Up to 1000 records share a millisecond; the 1001st moves to the next millisecond (its ts
// moves with it: only a flood faster than a million lines a second, or a batch of lines
// stamped with the same second-resolution time, sees its times nudged by a few ms).
// ts * 1000 stays below 2^53 until the year 2255, so ids are exact JavaScript numbers.

export const PER_MS = 1000;

export const tsOf = (id: number) => Math.floor(id / PER_MS);

export class IdAllocator {
  private maxId: number;
  /** The last id handed out in the current batch. */
  private last: number | undefined;
  private readonly lastInMs: (ms: number) => number | undefined;

  /**
   * `maxId`: the largest id stored. `lastInMs(ms)`: the largest stored id within that
   * millisecond; asked only for records older than the newest stored one.
   */
  constructor(maxId: number, lastInMs: (ms: number) => number | undefined) {
    this.maxId = maxId;
    this.lastInMs = lastInMs;
  }

  /**
   * Starts a batch. Within a batch, call `next` in ascending ts order and store the records
   * only after the batch is allocated: the ids come out ascending, which FTS5 needs to add
   * them to one segment (a smaller rowid makes it flush its in-memory index, per record).
   */
  startBatch(): void {
    this.last = undefined;
  }

  next(ts: number): number {
    let ms = Math.max(0, Math.floor(ts));
    if (this.last !== undefined && ms <= tsOf(this.last)) {
      // Same millisecond as the previous record of the batch (or earlier: sorted input never is).
      ms = tsOf(this.last);
      if (this.last + 1 < (ms + 1) * PER_MS) return this.take(this.last + 1);
      ms++;
    }
    for (;;) {
      const base = ms * PER_MS;
      let id: number;
      if (base > this.maxId) id = base;
      else if (this.maxId < base + PER_MS) id = this.maxId + 1;
      else id = (this.lastInMs(ms) ?? base - 1) + 1;
      if (id < base + PER_MS) return this.take(id);
      ms++;
    }
  }

  private take(id: number): number {
    this.last = id;
    if (id > this.maxId) this.maxId = id;
    return id;
  }
}
