import type { Item } from './buffer.ts';
import type { SearchMode } from './search.ts';
import type { LogFilter, LogLabels, LogRecord } from './types.ts';

// Messages between LogStore (main thread) and its writer (worker thread).

export interface WriterConfig {
  file: string;
  mode: SearchMode;
  retentionMs: number;
  maxBytes: number;
  pruneBatch: number;
}

export type ToWriter =
  | {
    type: 'write';
    /** Items sent so far, this batch included: the ack carries it back. */
    seq: number;
    now: number;
    labels: [number, LogLabels][];
    items: Item[];
    ts: number[];
    sids: number[];
    flags: number[];
  }
  | { type: 'prune'; id: number; now: number }
  | { type: 'subscribe'; id: number; filter: LogFilter }
  | { type: 'unsubscribe'; id: number }
  | { type: 'sync'; id: number }
  | { type: 'close' };

export interface WriterState {
  stored: number;
  bytes: number;
}

export type FromWriter =
  | ({ type: 'ready' } & WriterState)
  | ({ type: 'written'; seq: number; count: number; live: [number, LogRecord[]][]; error?: string } & WriterState)
  /** `first`: one reply per pass has it, so the pass's deletions are counted once. */
  | ({ type: 'pruned'; id: number; deleted: number; first: boolean; error?: string } & WriterState)
  | { type: 'synced'; id: number }
  | { type: 'closed' };
