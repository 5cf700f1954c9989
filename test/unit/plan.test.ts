import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ActualInstance } from '../../src/deploy/actions.ts';
import { planRolling as plan, type Desired } from '../../src/deploy/strategies/rolling.ts';

const desired = (over: Partial<Desired> = {}): Desired => ({
  release: 'new', instances: 2, maxSurge: 1, maxUnavailable: 0, healthyDeadlineMs: 60_000, drainTimeoutMs: 30_000, ...over,
});
const inst = (id: string, over: Partial<ActualInstance> = {}): ActualInstance => ({
  id, release: 'old', role: 'main', state: 'running', healthy: true, routed: true, createdAt: 0, drainStartedAt: null, inFlight: 0, restarts: 0, ...over,
});

test('plan: table of single decisions', () => {
  const cases: [string, Desired, ActualInstance[], number, unknown[]][] = [
    ['first deployment starts all instances within the surge budget', desired(), [], 0, [{ kind: 'start', release: 'new', role: 'main' }, { kind: 'start', release: 'new', role: 'main' }]],
    ['surge 1 over two old instances starts one new', desired(), [inst('a'), inst('b')], 0, [{ kind: 'start', release: 'new', role: 'main' }]],
    ['a starting instance is waited for', desired(), [inst('a'), inst('b'), inst('n1', { release: 'new', state: 'starting', healthy: false, routed: false })], 1000, []],
    ['a healthy new instance joins and an old one drains', desired(), [inst('a'), inst('b'), inst('n1', { release: 'new', routed: false })], 1000,
      [{ kind: 'route', instance: 'n1' }, { kind: 'drain', instance: 'a' }, { kind: 'start', release: 'new', role: 'main' }]],
    ['a draining instance with requests in flight waits', desired(), [inst('a', { state: 'draining', routed: false, drainStartedAt: 0, inFlight: 2 })], 1000,
      [{ kind: 'start', release: 'new', role: 'main' }, { kind: 'start', release: 'new', role: 'main' }]],
    ['an idle draining instance stops', desired({ instances: 1 }), [inst('a', { state: 'draining', routed: false, drainStartedAt: 0 }), inst('n', { release: 'new' })], 10,
      [{ kind: 'stop', instance: 'a', reason: 'drained' }]],
    ['the drain timeout stops a busy instance', desired({ instances: 1 }), [inst('a', { state: 'draining', routed: false, drainStartedAt: 0, inFlight: 1 }), inst('n', { release: 'new' })], 30_000,
      [{ kind: 'stop', instance: 'a', reason: 'drain timeout' }]],
    ['max_unavailable 1 and no surge drains first', desired({ maxSurge: 0, maxUnavailable: 1 }), [inst('a'), inst('b')], 0,
      [{ kind: 'drain', instance: 'a' }, { kind: 'start', release: 'new', role: 'main' }]],
    ['a new instance past its deadline fails the deployment', desired(), [inst('a'), inst('b'), inst('n1', { release: 'new', state: 'starting', healthy: false, routed: false, createdAt: 0 })], 60_001,
      [{ kind: 'fail', reason: 'instance n1 did not become healthy within 60s' }]],
    ['a new instance that keeps crashing fails the deployment', desired(), [inst('a'), inst('b'), inst('n1', { release: 'new', state: 'crashed', healthy: false, routed: true, restarts: 3 })], 1000,
      [{ kind: 'fail', reason: 'instance n1 crashed 3 times' }]],
    ['everything new and serving completes', desired(), [inst('n1', { release: 'new' }), inst('n2', { release: 'new' })], 0, [{ kind: 'complete' }]],
    ['an old instance still stopping holds completion', desired(), [inst('n1', { release: 'new' }), inst('n2', { release: 'new' }), inst('a', { state: 'stopping', routed: false })], 0, []],
    ['a crashed old instance that serves nothing is stopped', desired(), [inst('n1', { release: 'new' }), inst('n2', { release: 'new' }), inst('a', { state: 'crashed', healthy: false, routed: false })], 0,
      [{ kind: 'stop', instance: 'a', reason: 'not serving and not the desired release' }]],
  ];
  for (const [name, d, actual, now, expected] of cases) assert.deepEqual(plan(d, actual, now), expected, name);
});

/** Executes plans against a model until complete, checking the rolling invariants after every step. */
function simulate(d: Desired, oldCount: number, healthyAfter: number): { steps: number; minServing: number; maxTotal: number } {
  let instances: ActualInstance[] = Array.from({ length: oldCount }, (_, n) => inst(`old${n}`));
  let now = 0;
  let counter = 0;
  let minServing = Infinity;
  let maxTotal = 0;
  for (let step = 0; step < 500; step++) {
    now += 100;
    instances = instances.map((i) => (i.state === 'starting' && now - i.createdAt >= healthyAfter ? { ...i, state: 'running', healthy: true } : i));
    const actions = plan(d, instances, now);
    if (actions.some((a) => a.kind === 'complete')) return { steps: step, minServing, maxTotal };
    assert.ok(!actions.some((a) => a.kind === 'fail'), 'no failure in a healthy rollout');
    for (const a of actions) {
      if (a.kind === 'start') instances.push(inst(`new${counter++}`, { release: a.release, state: 'starting', healthy: false, routed: false, createdAt: now }));
      if (a.kind === 'route') instances = instances.map((i) => (i.id === a.instance ? { ...i, routed: true } : i));
      if (a.kind === 'drain') instances = instances.map((i) => (i.id === a.instance ? { ...i, routed: false, state: 'draining', drainStartedAt: now } : i));
      if (a.kind === 'stop') instances = instances.filter((i) => i.id !== a.instance);
    }
    const serving = instances.filter((i) => i.routed && i.healthy && i.state === 'running').length;
    if (oldCount > 0) minServing = Math.min(minServing, serving);
    maxTotal = Math.max(maxTotal, instances.filter((i) => i.state !== 'draining').length);
  }
  throw new Error(`rollout of ${JSON.stringify(d)} did not complete`);
}

test('plan: every rolling configuration completes within its surge and availability budget', () => {
  let configurations = 0;
  for (let n = 1; n <= 6; n++) {
    for (let surge = 0; surge <= 3; surge++) {
      for (let unavailable = 0; unavailable <= 3; unavailable++) {
        if (surge === 0 && unavailable === 0) continue;
        for (const healthyAfter of [0, 300, 2000]) {
          const d = desired({ instances: n, maxSurge: surge, maxUnavailable: Math.min(unavailable, n) });
          const r = simulate(d, n, healthyAfter);
          assert.ok(r.maxTotal <= n + surge, `surge budget kept for ${JSON.stringify(d)}: ${r.maxTotal}`);
          assert.ok(r.minServing >= n - Math.min(unavailable, n), `availability kept for ${JSON.stringify(d)}: ${r.minServing}`);
          configurations++;
        }
      }
    }
  }
  assert.equal(configurations, 6 * 15 * 3);
});
