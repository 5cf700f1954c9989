import { EventEmitter } from 'node:events';
import type { Clock } from './clock.ts';
import type { Store } from '../store/store.ts';
import type { OpEvent } from '../store/types.ts';

export type NewEvent = Partial<Omit<OpEvent, 'seq' | 'ts' | 'kind'>> & { kind: string };

/**
 * Every state change is an operation event: persisted first (audit, process view), then
 * published to live listeners (log streaming, dashboards).
 */
export class EventLog extends EventEmitter {
  private readonly store: Store;
  private readonly clock: Clock;

  constructor(store: Store, clock: Clock) {
    super();
    this.setMaxListeners(0);
    this.store = store;
    this.clock = clock;
  }

  record(e: NewEvent): OpEvent {
    const event: Omit<OpEvent, 'seq'> = {
      ts: this.clock.now(),
      app: e.app ?? null,
      env: e.env ?? null,
      deployment: e.deployment ?? null,
      instance: e.instance ?? null,
      kind: e.kind,
      actor: e.actor ?? 'slipway',
      before: e.before ?? null,
      after: e.after ?? null,
      message: e.message ?? null,
    };
    const seq = this.store.recordEvent(event);
    const full = { seq, ...event };
    this.emit('event', full);
    return full;
  }
}
