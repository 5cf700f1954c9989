// Delivery to a real Prometheus Alertmanager (Debian package prometheus-alertmanager): alerts
// posted through the notifier are read back from Alertmanager's own API with their labels and
// annotations, and a resolution ends them there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../../src/core/clock.ts';
import { AlertEngine } from '../../../src/telemetry/alerts/engine.ts';
import { createNotifier } from '../../../src/telemetry/alerts/notifiers/notifier.ts';
import { startAlertmanager } from '../../helpers/daemons.ts';
import { waitFor } from '../../helpers/wait.ts';
import { FakeSources, rules } from './helpers.ts';

interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
  status: { state: string };
}

test('alertmanager: alerts posted through the notifier are listed by Alertmanager with labels and annotations', async (t) => {
  const am = await startAlertmanager(t);
  const sources = new FakeSources();
  // Alertmanager judges endsAt against its own wall clock, so this test runs on real time.
  const engine = new AlertEngine({
    db: ':memory:', sources, clock: systemClock,
    notifiers: [createNotifier({ name: 'am', kind: 'alertmanager', url: `${am.url}/` })],
    link: (c) => `https://slipway.example.com/apps/${c.app}/alerts/${c.rule}`,
  });
  t.after(() => engine.close());
  engine.setAppRules('hello', rules(`
alerts:
  - name: high-error-rate
    threshold: {metric: error_rate, above: 2%, window: 1m}
    severity: critical
    runbook: https://wiki.example.com/errors
  - name: stale
    absence: {event: run_succeeded, for: 1h}
    severity: info
`));
  sources.set('http_request_errors_total', { app: 'hello', env: 'production' }, 0.07);
  sources.targetList = [{ app: 'hello', env: 'production', since: Date.now() - 2 * 3_600_000, instances: [] }];
  const result = await engine.evaluate();
  assert.equal(result.notifications.length, 2);
  await engine.outbox.deliverDue();
  const [status] = engine.status().notifiers;
  assert.equal(status!.lastError, null, `delivery failed: ${status!.lastError}`);
  assert.equal(status!.delivered, 2);

  const listed = await waitFor(async () => {
    const alerts = await am.get('/api/v2/alerts') as AmAlert[];
    return alerts.length === 2 ? alerts : null;
  }, 10_000, 'both alerts to be listed');
  const errors = listed.find((a) => a.labels.alertname === 'high-error-rate')!;
  assert.deepEqual(errors.labels, { alertname: 'high-error-rate', app: 'hello', env: 'production', severity: 'critical', origin: 'app', source: 'slipway' });
  assert.equal(errors.status.state, 'active');
  assert.equal(errors.generatorURL, 'https://slipway.example.com/apps/hello/alerts/high-error-rate');
  assert.equal(errors.annotations.summary, 'FIRING: high-error-rate (critical) on hello/production');
  assert.equal(errors.annotations.value, '7%');
  assert.equal(errors.annotations.threshold, 'above 2%');
  assert.equal(errors.annotations.window, '1m');
  assert.equal(errors.annotations.runbook, 'https://wiki.example.com/errors');
  assert.equal(errors.annotations.drilldown, 'slipway metrics hello error_rate --env production --since 3m');
  assert.match(errors.annotations.description!, /^error_rate = 7%, threshold above 2%, window 1m\n/);
  assert.equal(Date.parse(errors.startsAt), Date.parse(errors.annotations.since!));
  assert.ok(Date.parse(errors.endsAt) > Date.now() + 3_600_000, 'a firing alert stays valid until the next repeat');
  // An app-wide alert has no env label at all (an empty value would mean the same to Alertmanager).
  const stale = listed.find((a) => a.labels.alertname === 'stale')!;
  assert.deepEqual(stale.labels, { alertname: 'stale', app: 'hello', severity: 'info', origin: 'app', source: 'slipway' });

  // Resolution ends the alert in Alertmanager.
  sources.set('http_request_errors_total', { app: 'hello', env: 'production' }, 0);
  const resolved = await engine.evaluate();
  assert.deepEqual(resolved.notifications.map((n) => n.kind), ['resolved']);
  await engine.outbox.deliverDue();
  assert.equal(engine.status().notifiers[0]!.delivered, 3);
  await waitFor(async () => {
    const alerts = await am.get('/api/v2/alerts?active=true') as AmAlert[];
    return alerts.length === 1 && alerts[0]!.labels.alertname === 'stale';
  }, 10_000, 'the resolved alert to leave the active list');
});
