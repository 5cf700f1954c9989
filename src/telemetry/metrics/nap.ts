import type { Clock } from '../../core/clock.ts';

/**
 * Sleeps on `clock` until `deadline` or until `wake` fires. Clock.sleep cannot be cancelled, so
 * it sleeps in slices of at most a second: after a stop, at most one short timer is left
 * pending (a 15 s one would keep a finished process alive). A manual clock that jumps past
 * the deadline ends the nap at the next slice.
 */
export async function nap(clock: Clock, deadline: number, wake: Promise<void>, isDone: () => boolean): Promise<void> {
  while (!isDone()) {
    const left = deadline - clock.now();
    if (left <= 0) return;
    await Promise.race([clock.sleep(Math.min(left, 1_000)), wake]);
  }
}
