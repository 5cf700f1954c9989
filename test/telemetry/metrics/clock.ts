import type { Clock } from '../../../src/core/clock.ts';

/** A clock tests move by hand; sleepers wake when time passes their deadline. */
export class ManualClock implements Clock {
  private t: number;
  private sleepers: { until: number; wake: () => void }[] = [];

  constructor(start: number) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((wake) => this.sleepers.push({ until: this.t + ms, wake }));
  }

  set(t: number): void {
    this.t = t;
    const due = this.sleepers.filter((s) => s.until <= t);
    this.sleepers = this.sleepers.filter((s) => s.until > t);
    for (const s of due) s.wake();
  }

  advance(ms: number): void {
    this.set(this.t + ms);
  }

  get sleeping(): number {
    return this.sleepers.length;
  }
}
