import { MAX_RESTARTS_IN_ROLLOUT, type Action, type ActualInstance } from '../actions.ts';

// The rolling planner: (desired, actual, now) → actions. No I/O, no clock, no randomness —
// everything it needs comes in, so a restarted control plane re-plans from the same facts and
// tests are tables of cases.

export interface Desired {
  release: string; // release id every instance should run
  instances: number;
  maxSurge: number;
  maxUnavailable: number;
  healthyDeadlineMs: number; // a new instance must be healthy this long after creation
  drainTimeoutMs: number; // in-flight requests get this long after leaving the router
}

export function planRolling(desired: Desired, actual: ActualInstance[], now: number): Action[] {
  const wanted = (i: ActualInstance) => i.release === desired.release && i.role === 'main';
  const fresh = actual.filter((i) => wanted(i) && i.state !== 'draining' && i.state !== 'stopping');

  const late = fresh.find((i) => !i.routed && !i.healthy && now - i.createdAt > desired.healthyDeadlineMs);
  if (late) return [{ kind: 'fail', reason: `instance ${late.id} did not become healthy within ${Math.round(desired.healthyDeadlineMs / 1000)}s` }];
  const looping = fresh.find((i) => i.restarts >= MAX_RESTARTS_IN_ROLLOUT);
  if (looping) return [{ kind: 'fail', reason: `instance ${looping.id} crashed ${looping.restarts} times` }];

  const actions: Action[] = [];
  // Drained instances leave once idle or when the drain timeout is up.
  for (const i of actual) {
    if (i.state === 'draining' && (i.inFlight === 0 || now - (i.drainStartedAt ?? now) >= desired.drainTimeoutMs)) {
      actions.push({ kind: 'stop', instance: i.id, reason: i.inFlight === 0 ? 'drained' : 'drain timeout' });
    }
  }
  // Old instances that serve nothing are surplus straight away.
  for (const i of actual) {
    if (!wanted(i) && !i.routed && (i.state === 'starting' || i.state === 'running' || i.state === 'crashed')) {
      actions.push({ kind: 'stop', instance: i.id, reason: 'not serving and not the desired release' });
    }
  }
  // New instances join the router as soon as they are healthy.
  const joining = fresh.filter((i) => i.healthy && !i.routed && i.state !== 'crashed');
  for (const i of joining) actions.push({ kind: 'route', instance: i.id });

  const serving = actual.filter((i) => i.routed && i.healthy && i.state !== 'draining' && i.state !== 'stopping');
  const available = serving.length + joining.length;
  const oldServing = serving.filter((i) => !wanted(i));
  const newCount = fresh.length;
  const occupying = actual.filter((i) => i.state !== 'draining' && i.state !== 'stopping').length;

  // Take old instances out while enough capacity stays behind (max_unavailable).
  let canRemove = available - (desired.instances - desired.maxUnavailable);
  for (const i of oldServing) {
    if (canRemove <= 0) break;
    actions.push({ kind: 'drain', instance: i.id });
    canRemove--;
  }
  // Start new instances within the surge budget. Draining ones no longer count against it.
  const drainingNow = actions.filter((a) => a.kind === 'drain').length;
  const room = Math.min(desired.instances - newCount, desired.instances + desired.maxSurge - (occupying - drainingNow));
  for (let n = 0; n < room; n++) actions.push({ kind: 'start', release: desired.release, role: 'main' });

  const settled = fresh.length === desired.instances && fresh.every((i) => i.routed && i.healthy) && actual.every(wanted);
  if (actions.length === 0 && settled) return [{ kind: 'complete' }];
  return actions;
}
