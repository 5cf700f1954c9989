import { MAX_RESTARTS_IN_ROLLOUT, type Action, type ActualInstance } from './actions.ts';

// Reconciles instances towards named sets ("3 of v7", "1 baseline of v6"): start what is
// missing, route what became healthy, drain and stop what no set wants. Blue/green and canary
// describe each phase as sets; this does the rest. Pure.

export interface InstanceSet {
  release: string;
  role: 'main' | 'baseline';
  count: number;
}

export interface SetLimits {
  healthyDeadlineMs: number;
  drainTimeoutMs: number;
  /** The release being rolled out: its instances may not crash-loop (see MAX_RESTARTS_IN_ROLLOUT). */
  rolloutRelease?: string;
}

export interface Reconciled {
  actions: Action[];
  /** Every set has its full count, all healthy and in the router. */
  ready: boolean;
  /** Ready, and nothing outside the sets is left (no surplus, nothing draining or stopping). */
  settled: boolean;
  failure?: string;
}

const leaving = (i: ActualInstance) => i.state === 'draining' || i.state === 'stopping';

export function reconcileSets(sets: InstanceSet[], actual: ActualInstance[], now: number, limits: SetLimits): Reconciled {
  const actions: Action[] = [];
  const members = new Set<string>();
  let ready = true;
  for (const set of sets) {
    const candidates = actual
      .filter((i) => i.release === set.release && i.role === set.role && !leaving(i))
      // Keep the ones already serving, then the oldest: surplus is taken from the end.
      .sort((a, b) => Number(b.routed) - Number(a.routed) || a.createdAt - b.createdAt);
    const kept = candidates.slice(0, set.count);
    for (const i of kept) members.add(i.id);
    for (let n = kept.length; n < set.count; n++) actions.push({ kind: 'start', release: set.release, role: set.role });
    if (kept.length < set.count) ready = false;
    for (const i of kept) {
      if (!i.routed && !i.healthy && now - i.createdAt > limits.healthyDeadlineMs) {
        return { actions: [], ready: false, settled: false, failure: `instance ${i.id} did not become healthy within ${Math.round(limits.healthyDeadlineMs / 1000)}s` };
      }
      if (i.release === limits.rolloutRelease && i.restarts >= MAX_RESTARTS_IN_ROLLOUT) {
        return { actions: [], ready: false, settled: false, failure: `instance ${i.id} crashed ${i.restarts} times` };
      }
      if (i.healthy && !i.routed && i.state !== 'crashed') actions.push({ kind: 'route', instance: i.id });
      else if (!(i.healthy && i.routed)) ready = false;
    }
  }
  let leftovers = false;
  for (const i of actual) {
    if (members.has(i.id)) continue;
    leftovers = true;
    if (i.state === 'draining') {
      if (i.inFlight === 0 || now - (i.drainStartedAt ?? now) >= limits.drainTimeoutMs) {
        actions.push({ kind: 'stop', instance: i.id, reason: i.inFlight === 0 ? 'drained' : 'drain timeout' });
      }
    } else if (i.state !== 'stopping') {
      actions.push(i.routed ? { kind: 'drain', instance: i.id } : { kind: 'stop', instance: i.id, reason: 'no longer wanted' });
    }
  }
  return { actions, ready, settled: ready && !leftovers };
}
