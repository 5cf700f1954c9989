// Deployment-aware alerting (book §7.6, §14.6): instances being drained do not alert, and an
// environment with a deployment step in progress has its thresholds scaled, not switched off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { effectiveThreshold } from '../../../src/telemetry/alerts/judge.ts';
import type { AlertNotification, ThresholdCondition } from '../../../src/telemetry/alerts/types.ts';
import { harness, rules, SEC } from './helpers.ts';

const CPU = 'process_cpu_ratio';
const HOT = rules(`
alerts:
  - name: hot
    threshold: {metric: cpu, above: 0.8, window: 1m}
`);
const prod = { app: 'hello', env: 'production' };

test('drained instances are left out of instance-level alerts', async (t) => {
  const h = harness(t);
  h.engine.setAppRules('hello', HOT);
  h.sources.set(CPU, { ...prod, instance: 'old-1' }, 0.99);
  h.sources.set(CPU, { ...prod, instance: 'new-1' }, 0.3);
  h.sources.draining.add('old-1');
  assert.deepEqual(await h.tick(), [], 'the only hot instance is being drained');
  assert.deepEqual(h.engine.alerts(), []);
  assert.deepEqual(h.sources.queries[0]!.by, ['app', 'env', 'instance']);

  // A drained instance that was already firing stops counting: the alert resolves.
  h.sources.draining.clear();
  h.clock.advance(15 * SEC);
  const [firing] = await h.tick() as AlertNotification[];
  assert.deepEqual(firing!.alert.instances, ['old-1']);
  h.sources.draining.add('old-1');
  h.clock.advance(15 * SEC);
  const [resolved] = await h.tick() as AlertNotification[];
  assert.equal(resolved!.status, 'resolved');

  // Other instances still alert while one drains.
  h.sources.set(CPU, { ...prod, instance: 'new-1' }, 0.95);
  h.clock.advance(15 * SEC);
  const [other] = await h.tick() as AlertNotification[];
  assert.deepEqual(other!.alert.instances, ['new-1']);
});

test('a deployment step in progress scales the threshold instead of silencing the rule', async (t) => {
  const h = harness(t);
  h.engine.setAppRules('hello', HOT);
  h.sources.set(CPU, { ...prod, instance: 'a' }, 1.0);
  h.sources.scaling.set('hello/production', 1.5); // one of three instances out: the rest carry 1.5×
  assert.deepEqual(await h.tick(), [], '1.0 is below 0.8 × 1.5 = 1.2');
  assert.deepEqual(h.engine.alerts(), []);

  // Still on: beyond the scaled threshold it fires, and says it was scaled.
  h.sources.set(CPU, { ...prod, instance: 'a' }, 1.3);
  h.clock.advance(15 * SEC);
  const [n] = await h.tick() as AlertNotification[];
  assert.equal(n!.status, 'firing');
  assert.ok(Math.abs(n!.alert.threshold - 1.2) < 1e-9);
  assert.equal(n!.alert.scale, 1.5);
  assert.match(n!.text, /threshold above 120% \(80% scaled ×1\.5 during a deployment step\)/);

  // Other environments keep the normal threshold.
  h.sources.set(CPU, { app: 'hello', env: 'staging', instance: 'b' }, 1.0);
  h.clock.advance(15 * SEC);
  const [staging] = await h.tick() as AlertNotification[];
  assert.equal(staging!.alert.env, 'staging');
  assert.equal(staging!.alert.threshold, 0.8);
});

test('scale_during_deploy: false keeps the threshold during deployments', async (t) => {
  const h = harness(t);
  h.engine.setAppRules('hello', rules(`
alerts:
  - name: hot
    threshold: {metric: cpu, above: 0.8}
    scale_during_deploy: false
`));
  h.sources.set(CPU, { ...prod, instance: 'a' }, 1.0);
  h.sources.scaling.set('hello/production', 2);
  const [n] = await h.tick() as AlertNotification[];
  assert.equal(n!.alert.threshold, 0.8);
  assert.equal(n!.alert.scale, null);
});

test('scaling relaxes in both directions and never tightens', () => {
  const c = (comparison: 'above' | 'below'): ThresholdCondition => ({
    kind: 'threshold', metric: 'm', query: { metric: 'm', fn: 'raw' }, unit: 'count', scope: 'environment', comparison, threshold: 10, windowMs: 1,
  });
  assert.deepEqual(effectiveThreshold(c('above'), 2), { threshold: 20, scale: 2 });
  assert.deepEqual(effectiveThreshold(c('below'), 2), { threshold: 5, scale: 2 });
  assert.deepEqual(effectiveThreshold(c('above'), 0.5), { threshold: 20, scale: 2 }, 'a factor below 1 is read as its inverse');
  assert.deepEqual(effectiveThreshold(c('above'), undefined), { threshold: 10, scale: null });
  assert.deepEqual(effectiveThreshold(c('above'), Number.NaN), { threshold: 10, scale: null });
  assert.deepEqual(effectiveThreshold(c('above'), 0), { threshold: 10, scale: null });
});
