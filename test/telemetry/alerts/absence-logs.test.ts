// "An expected event did not happen" (absence) and log-pattern rates (log_rate).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AlertNotification } from '../../../src/telemetry/alerts/types.ts';
import { harness, MIN, rules, SEC, T0 } from './helpers.ts';

const HOUR = 60 * MIN;

test('absence: no requests for 10m fires, a request resolves it', async (t) => {
  const h = harness(t);
  h.engine.setAppRules('hello', rules('alerts:\n  - name: no-traffic\n    absence: {event: request, for: 10m}\n    environments: [production]\n'));
  h.sources.targetList = [
    { app: 'hello', env: 'production', since: T0 - HOUR, instances: [] },
    { app: 'hello', env: 'staging', since: T0 - HOUR, instances: [] }, // not watched by this rule
  ];
  h.sources.markSeen('request', { app: 'hello', env: 'production' }, T0 - 5 * MIN);
  assert.deepEqual(await h.tick(), []);
  h.clock.advance(5 * MIN);
  const [n] = await h.tick() as AlertNotification[];
  assert.equal(n!.title, 'FIRING: no-traffic (warning) on hello/production');
  assert.equal(n!.alert.kind, 'absence');
  assert.equal(n!.alert.value, 10 * MIN);
  assert.equal(n!.alert.threshold, 10 * MIN);
  assert.equal(n!.text, 'no "request" for 10m (alert after 10m); last seen 2026-01-15T11:55:00.000Z\ncondition true since 2026-01-15T12:05:00.000Z (0ms), firing since 2026-01-15T12:05:00.000Z');
  assert.equal(n!.drilldown.command, 'slipway metrics hello request_rate --env production --since 20m');
  assert.equal(h.engine.alerts().length, 1, 'staging is not watched');

  h.sources.markSeen('request', { app: 'hello', env: 'production' }, h.clock.now());
  h.clock.advance(15 * SEC);
  assert.equal(((await h.tick())[0] as AlertNotification).status, 'resolved');
});

test('absence: an event never seen counts from the deployment, or from when the engine started watching', async (t) => {
  const h = harness(t);
  h.engine.setGlobalRules(rules('alerts:\n  - name: no-traffic\n    absence: {event: request, for: 10m}\n'));
  h.sources.targetList = [
    { app: 'old', env: 'production', since: T0 - HOUR, instances: [] },
    { app: 'fresh', env: 'production', instances: [] }, // the sources do not say since when
  ];
  const [n] = await h.tick() as AlertNotification[];
  assert.equal(n!.alert.app, 'old');
  assert.match(n!.text, /^no "request" for 1h \(alert after 10m\); never seen/);
  h.clock.advance(10 * MIN);
  const [fresh] = await h.tick() as AlertNotification[];
  assert.equal(fresh!.alert.app, 'fresh');
});

test('absence: no successful run in 24h is an app-wide alert', async (t) => {
  const h = harness(t);
  h.engine.setAppRules('hello', rules('alerts:\n  - name: stale\n    absence: {event: run_succeeded, for: 24h}\n    severity: info\n'));
  h.sources.targetList = [
    { app: 'hello', env: 'staging', since: T0 - 48 * HOUR, instances: [] },
    { app: 'hello', env: 'production', since: T0 - 40 * HOUR, instances: [] },
    { app: 'other', env: 'production', since: T0 - 48 * HOUR, instances: [] },
  ];
  h.sources.markSeen('run_succeeded', { app: 'hello' }, T0 - 25 * HOUR);
  const sent = await h.tick() as AlertNotification[];
  assert.equal(sent.length, 1, 'one alert for the app, not one per environment; other apps have their own rules');
  assert.equal(sent[0]!.title, 'FIRING: stale (info) on hello');
  assert.equal(sent[0]!.alert.env, '');
  assert.equal(sent[0]!.drilldown.command, 'slipway runs hello');
});

test('absence: an instance that never reported (drained ones excepted)', async (t) => {
  const h = harness(t);
  h.engine.setAppRules('hello', rules('alerts:\n  - name: silent-instance\n    absence: {event: instance_report, for: 2m}\n    severity: critical\n'));
  h.sources.targetList = [{
    app: 'hello', env: 'production', since: T0 - HOUR,
    instances: [{ id: 'i1', startedAt: T0 - 10 * MIN }, { id: 'i2', startedAt: T0 - 5 * MIN }, { id: 'i3', startedAt: T0 - 30 * MIN }, { id: 'i4', startedAt: T0 - 1 * MIN }],
  }];
  h.sources.markSeen('instance_report', { app: 'hello', env: 'production', instance: 'i1' }, T0 - 30 * SEC);
  h.sources.draining.add('i3'); // being replaced: its silence is expected
  const [n] = await h.tick() as AlertNotification[];
  assert.deepEqual(n!.alert.instances, ['i2'], 'i1 reports, i3 drains, i4 is still within 2m of its start');
  assert.equal(n!.alert.value, 5 * MIN);
  assert.match(n!.text, /never seen; missing for instances: i2/);
  h.clock.advance(MIN);
  await h.tick();
  assert.deepEqual(h.engine.alerts()[0]!.members, ['i2', 'i4']);
});

test('log_rate: more than N matching lines in the window fires, per environment', async (t) => {
  const h = harness(t);
  h.engine.setAppRules('hello', rules('alerts:\n  - name: oom\n    log_rate: {pattern: "OutOfMemory error", above: 3, window: 5m}\n    severity: critical\n'));
  h.sources.targetList = [
    { app: 'hello', env: 'production', instances: [] },
    { app: 'hello', env: 'staging', instances: [] },
  ];
  h.sources.logs.set('hello/production', 3);
  assert.deepEqual(await h.tick(), [], 'three is not more than three');
  h.sources.logs.set('hello/production', 7);
  h.clock.advance(15 * SEC);
  const sent = await h.tick() as AlertNotification[];
  assert.equal(sent.length, 1);
  const n = sent[0]!;
  assert.equal(n.alert.env, 'production');
  assert.equal(n.alert.value, 7);
  assert.equal(n.alert.threshold, 3);
  assert.equal(n.alert.windowMs, 5 * MIN);
  assert.match(n.text, /^7 log lines matched "OutOfMemory error" in the last 5m \(alert above 3\)/);
  assert.equal(n.drilldown.command, `slipway logs hello --env production --grep 'OutOfMemory error' --since 15m`);
  h.sources.logs.set('hello/production', 0);
  h.clock.advance(15 * SEC);
  assert.equal(((await h.tick())[0] as AlertNotification).status, 'resolved');
});

test('drill-down links come from the server when it provides them', async (t) => {
  const h = harness(t, { link: (c) => `https://slipway.example.com/apps/${c.app}/logs?env=${c.env}&q=${encodeURIComponent(c.pattern ?? '')}&since=${c.sinceMs}` });
  h.engine.setAppRules('hello', rules('alerts:\n  - name: oom\n    log_rate: {pattern: OOM, above: 0, window: 1m}\n'));
  h.sources.targetList = [{ app: 'hello', env: 'production', instances: [] }];
  h.sources.logs.set('hello/production', 1);
  const [n] = await h.tick() as AlertNotification[];
  assert.equal(n!.drilldown.url, 'https://slipway.example.com/apps/hello/logs?env=production&q=OOM&since=180000');
  assert.equal(h.engine.alerts()[0]!.drilldown.url, n!.drilldown.url);
});
