// The alert lifecycle with a manual clock: inactive → pending → firing → resolved, flapping,
// grouping/deduplication by (rule, app, env), the repeat interval, and what a notification says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { step } from '../../../src/telemetry/alerts/lifecycle.ts';
import type { AlertNotification, Observation } from '../../../src/telemetry/alerts/types.ts';
import { harness, MIN, rules, SEC, T0 } from './helpers.ts';

const ERRORS = 'http_request_errors_total';
const HIGH_ERRORS = `
alerts:
  - name: high-error-rate
    threshold: {metric: error_rate, above: 2%, window: 1m}
    for: 2m
    severity: critical
`;
const prod = { app: 'hello', env: 'production' };

test('lifecycle: pending until `for` has elapsed, then firing (one notification), then resolved (one notification)', async (t) => {
  const h = harness(t);
  h.engine.setAppRules('hello', rules(HIGH_ERRORS));
  h.sources.set(ERRORS, prod, 0.05);

  assert.deepEqual(await h.tick(), []);
  assert.equal(h.engine.alerts()[0]!.state, 'pending');
  assert.deepEqual(h.sources.queries[0], {
    metric: ERRORS, fn: 'ratio', denominator: 'http_requests_total', window: 60_000, match: { app: 'hello' }, by: ['app', 'env'],
  });

  h.clock.advance(1 * MIN);
  assert.deepEqual(await h.tick(), [], 'still pending after 1m of 2m');

  h.clock.advance(1 * MIN);
  const [firing, ...more] = await h.tick();
  assert.equal(more.length, 0);
  const n = firing as AlertNotification;
  assert.equal(n.type, 'alert');
  assert.equal(n.status, 'firing');
  assert.equal(n.repeat, false);
  assert.equal(n.severity, 'critical');
  assert.equal(n.title, 'FIRING: high-error-rate (critical) on hello/production');
  // The numbers behind it: value, threshold, window, since when.
  assert.equal(n.alert.value, 0.05);
  assert.equal(n.alert.threshold, 0.02);
  assert.equal(n.alert.windowMs, 60_000);
  assert.equal(n.alert.since, T0);
  assert.equal(n.alert.firedAt, T0 + 2 * MIN);
  assert.match(n.text, /^error_rate = 5%, threshold above 2%, window 1m\ncondition true since 2026-01-15T12:00:00.000Z \(2m\), firing since 2026-01-15T12:02:00.000Z$/);
  assert.deepEqual(n.drilldown, { command: 'slipway metrics hello error_rate --env production --since 3m' });

  for (let i = 0; i < 4; i++) {
    h.clock.advance(15 * SEC);
    assert.deepEqual(await h.tick(), [], 'no repeat while firing within the repeat interval');
  }

  h.sources.set(ERRORS, prod, 0.01);
  h.clock.advance(15 * SEC);
  const [resolved] = await h.tick() as AlertNotification[];
  assert.equal(resolved!.status, 'resolved');
  assert.equal(resolved!.title, 'RESOLVED: high-error-rate (critical) on hello/production');
  assert.equal(resolved!.alert.value, 0.01);
  assert.equal(resolved!.alert.resolvedAt, T0 + 3 * MIN + 15 * SEC);
  assert.match(resolved!.text, /was firing from 2026-01-15T12:02:00.000Z to 2026-01-15T12:03:15.000Z \(1m15s\)/);
  assert.equal(h.engine.alerts()[0]!.state, 'resolved', 'resolved alerts stay listed for a while');
});

test('lifecycle: flapping below `for` never notifies; each new episode starts its own `for`', async (t) => {
  const h = harness(t);
  h.engine.setAppRules('hello', rules(HIGH_ERRORS));
  for (let i = 0; i < 6; i++) {
    h.sources.set(ERRORS, prod, i % 2 === 0 ? 0.05 : 0.0);
    const result = await h.engine.evaluate();
    assert.deepEqual(result.transitions.map((x) => `${x.from}→${x.to}`), [i % 2 === 0 ? 'inactive→pending' : 'pending→inactive']);
    await h.engine.outbox.deliverDue();
    h.clock.advance(90 * SEC);
  }
  assert.equal(h.notifier.sent.length, 0);

  // Firing, resolved, firing again: a new episode is announced again.
  h.sources.set(ERRORS, prod, 0.05);
  await h.tick();
  h.clock.advance(2 * MIN);
  assert.equal((await h.tick()).length, 1);
  h.sources.set(ERRORS, prod, 0);
  h.clock.advance(15 * SEC);
  assert.equal(((await h.tick())[0] as AlertNotification).status, 'resolved');
  h.sources.set(ERRORS, prod, 0.05);
  h.clock.advance(15 * SEC);
  assert.deepEqual(await h.tick(), [], 'the new episode is pending first');
  assert.equal(h.engine.alerts()[0]!.activeSince, h.clock.now());
  h.clock.advance(2 * MIN);
  assert.deepEqual((await h.tick()).map((n) => (n as AlertNotification).status), ['firing']);
});

test('grouping: one alert per (rule, app, env), however many series or instances breach', async (t) => {
  const h = harness(t);
  h.engine.setGlobalRules(rules(`
alerts:
  - name: hot
    threshold: {metric: cpu, above: 0.8, window: 1m}
  - name: errors
    threshold: {metric: error_rate, above: 0.1}
`));
  h.engine.setAppRules('hello', rules(HIGH_ERRORS.replace('for: 2m', 'for: 0s')));
  for (const instance of ['i1', 'i2', 'i3']) h.sources.set('process_cpu_ratio', { ...prod, instance }, instance === 'i3' ? 0.2 : 0.95);
  h.sources.set('process_cpu_ratio', { app: 'shop', env: 'staging', instance: 's1' }, 0.9);
  h.sources.set(ERRORS, prod, 0.5);
  h.sources.set(ERRORS, { app: 'hello', env: 'staging' }, 0.5);

  const first = await h.tick() as AlertNotification[];
  const keys = first.map((n) => `${n.alert.origin}:${n.alert.rule}@${n.alert.app}/${n.alert.env}`).sort();
  assert.deepEqual(keys, [
    'app:high-error-rate@hello/production',
    'app:high-error-rate@hello/staging',
    'global:errors@hello/production',
    'global:errors@hello/staging',
    'global:hot@hello/production',
    'global:hot@shop/staging',
  ]);
  const hot = first.find((n) => n.alert.rule === 'hot' && n.alert.app === 'hello')!;
  assert.deepEqual(hot.alert.instances, ['i1', 'i2'], 'the instances to blame, not one alert each');
  assert.equal(hot.alert.value, 0.95);
  assert.match(hot.text, /instances: i1, i2/);

  // Deduplicated: the same conditions on later evaluations send nothing new.
  for (let i = 0; i < 3; i++) {
    h.clock.advance(15 * SEC);
    assert.deepEqual(await h.tick(), []);
  }
  assert.equal(h.engine.alerts({ state: 'firing' }).length, 6);
  assert.equal(h.engine.alerts({ app: 'shop' }).length, 1);
});

test('repeat interval: a long-firing alert is re-announced every repeat interval, not every evaluation', async (t) => {
  const h = harness(t, { repeatIntervalMs: 60 * MIN, intervalMs: 15 * SEC });
  h.engine.setAppRules('hello', rules(HIGH_ERRORS.replace('for: 2m', 'for: 0s')));
  h.sources.set(ERRORS, prod, 0.05);
  const [first] = await h.tick() as AlertNotification[];
  assert.equal(first!.expiresAt, T0 + 60 * MIN + 45 * SEC, 'valid until the next repeat plus a few intervals');
  let repeats: AlertNotification[] = [];
  for (let minute = 1; minute <= 130; minute++) {
    h.clock.advance(MIN);
    repeats = repeats.concat(await h.tick() as AlertNotification[]);
  }
  assert.deepEqual(repeats.map((n) => [n.at - T0, n.repeat, n.status]), [[60 * MIN, true, 'firing'], [120 * MIN, true, 'firing']]);
  assert.equal(repeats[0]!.title, 'STILL FIRING: high-error-rate (critical) on hello/production');
  assert.equal(repeats[0]!.alert.since, T0, 'still the same episode');
});

test('a failing source keeps alerts as they were and shows in status', async (t) => {
  const h = harness(t);
  h.engine.setAppRules('hello', rules(HIGH_ERRORS.replace('for: 2m', 'for: 0s')));
  h.sources.set(ERRORS, prod, 0.05);
  await h.tick();
  h.sources.fail = 'metrics store unavailable';
  h.clock.advance(15 * SEC);
  const result = await h.engine.evaluate();
  assert.deepEqual(result.errors, [{ rule: 'app:hello:high-error-rate', message: 'metrics store unavailable' }]);
  assert.equal(h.engine.alerts()[0]!.state, 'firing', 'not resolved because the data went missing');
  assert.deepEqual(h.engine.status().lastEvaluation?.errors, result.errors);
  h.sources.fail = null;
});

test('a removed rule resolves its alerts, and says so if they were announced', async (t) => {
  const h = harness(t);
  h.engine.setAppRules('hello', rules(HIGH_ERRORS.replace('for: 2m', 'for: 0s')));
  h.sources.set(ERRORS, prod, 0.05);
  assert.equal((await h.tick()).length, 1);
  h.engine.setAppRules('hello', []);
  h.clock.advance(15 * SEC);
  const [n] = await h.tick() as AlertNotification[];
  assert.equal(n!.status, 'resolved');
  assert.deepEqual(h.engine.alerts(), []);
});

test('step(): the lifecycle as a pure function', () => {
  const base = { ruleId: 'app:a:r', key: 'k', app: 'a', env: 'e', repeatMs: 100, silencedBy: null, keepResolvedMs: 1000 };
  const rule = { name: 'r', forMs: 10, severity: 'warning' as const };
  const obs = (active: boolean): Observation => ({ app: 'a', env: 'e', active, value: active ? 2 : 0, threshold: 1, members: [], scale: null });
  let r = step({ ...base, rule, prev: undefined, obs: obs(true), now: 0 });
  assert.equal(r.next!.state, 'pending');
  r = step({ ...base, rule, prev: r.next!, obs: obs(true), now: 10 });
  assert.deepEqual([r.next!.state, r.notify], ['firing', 'firing']);
  r = step({ ...base, rule, prev: r.next!, obs: obs(true), now: 109 });
  assert.equal(r.notify, null);
  r = step({ ...base, rule, prev: r.next!, obs: obs(true), now: 110 });
  assert.equal(r.notify, 'repeat');
  r = step({ ...base, rule, prev: r.next!, obs: undefined, now: 120 });
  assert.deepEqual([r.next!.state, r.notify, r.next!.value], ['resolved', 'resolved', 2], 'no data: resolved, last numbers kept');
  r = step({ ...base, rule, prev: r.next!, obs: obs(false), now: 1120 });
  assert.equal(r.next, null, 'forgotten after keepResolvedMs');
  // for: 0 fires at once.
  r = step({ ...base, rule: { ...rule, forMs: 0 }, prev: undefined, obs: obs(true), now: 0 });
  assert.deepEqual([r.next!.state, r.notify], ['firing', 'firing']);
});
