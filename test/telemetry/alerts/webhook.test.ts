// Delivery over real HTTP to a loopback receiver: the webhook payload, retries with capped
// exponential backoff when the receiver fails or is down, visible failures, and evaluation that
// never waits for a receiver.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DatabaseSync } from 'node:sqlite';
import { systemClock } from '../../../src/core/clock.ts';
import { AlertEngine } from '../../../src/telemetry/alerts/engine.ts';
import { createNotifier } from '../../../src/telemetry/alerts/notifiers/notifier.ts';
import { backoffMs, Outbox } from '../../../src/telemetry/alerts/outbox.ts';
import { AlertStore } from '../../../src/telemetry/alerts/store.ts';
import type { AlertNotification, EventNotification, Notification } from '../../../src/telemetry/alerts/types.ts';
import { waitFor } from '../../helpers/wait.ts';
import { FakeSources, harness, ManualClock, receiver, rules, T0 } from './helpers.ts';

const RULES = rules('alerts:\n  - name: high-error-rate\n    threshold: {metric: error_rate, above: 2%, window: 1m}\n    severity: critical\n');

test('webhook: the notification is POSTed as JSON with the configured headers', async (t) => {
  const r = await receiver(t);
  const h = harness(t, { notifiers: [createNotifier({ name: 'ops', kind: 'webhook', url: r.url, headers: { authorization: 'Bearer s3cret' } })] });
  h.engine.setAppRules('hello', RULES);
  h.sources.set('http_request_errors_total', { app: 'hello', env: 'production' }, 0.05);
  const result = await h.engine.evaluate();
  assert.deepEqual(result.notifications.map((n) => [n.kind, n.queued]), [['firing', 1]]);
  await h.engine.outbox.deliverDue();

  assert.equal(r.requests.length, 1);
  const req = r.requests[0]!;
  assert.equal(req.method, 'POST');
  assert.equal(req.url, '/hook/secret-token');
  assert.equal(req.headers['content-type'], 'application/json');
  assert.equal(req.headers.authorization, 'Bearer s3cret');
  const body = req.body as AlertNotification;
  assert.equal(body.version, 1);
  assert.equal(body.type, 'alert');
  assert.equal(body.status, 'firing');
  assert.deepEqual(
    { rule: body.alert.rule, app: body.alert.app, env: body.alert.env, value: body.alert.value, threshold: body.alert.threshold, windowMs: body.alert.windowMs, since: body.alert.since },
    { rule: 'high-error-rate', app: 'hello', env: 'production', value: 0.05, threshold: 0.02, windowMs: 60_000, since: T0 },
  );
  assert.equal(body.drilldown.command, 'slipway metrics hello error_rate --env production --since 3m');
  const [status] = h.engine.status().notifiers;
  assert.deepEqual({ ...status, lastSuccessAt: null }, {
    name: 'ops', kind: 'webhook', target: `http://127.0.0.1:${r.port}/…`, configured: true,
    queued: 0, delivered: 1, failed: 0, dropped: 0, attempts: 0, nextAttemptAt: null, lastError: null, lastErrorAt: null, lastSuccessAt: null,
  });
});

test('webhook: a receiver answering 500 is retried with exponential backoff, in order, failures visible', async (t) => {
  const r = await receiver(t);
  r.script = [500, 503];
  const clock = new ManualClock();
  const store = new AlertStore(new DatabaseSync(':memory:'));
  const outbox = new Outbox({ store, clock, notifiers: [createNotifier({ name: 'ops', kind: 'webhook', url: r.url })], policy: { baseMs: 1000, maxMs: 10_000 } });
  const first = outbox.notifyEvent({ kind: 'deployment.failed', app: 'hello', env: 'production', title: 'v42 failed', text: 'health check timed out' });
  const second = outbox.notifyEvent({ kind: 'deployment.rolled_back', app: 'hello', env: 'production', title: 'rolled back to v41', text: '' });

  await outbox.deliverDue();
  assert.equal(r.requests.length, 1);
  let [s] = outbox.status();
  assert.equal(s!.queued, 2);
  assert.equal(s!.attempts, 1);
  assert.equal(s!.nextAttemptAt, T0 + 1000);
  assert.equal(s!.lastError, `http://127.0.0.1:${r.port}/…: HTTP 500: scripted 500`, 'the error says what happened but not the secret path');

  await outbox.deliverDue();
  assert.equal(r.requests.length, 1, 'not before the backoff has passed');
  clock.advance(1000);
  await outbox.deliverDue();
  assert.equal(r.requests.length, 2);
  [s] = outbox.status();
  assert.equal(s!.attempts, 2);
  assert.equal(s!.nextAttemptAt, T0 + 1000 + 2000, 'doubled');
  assert.match(s!.lastError!, /HTTP 503/);

  clock.advance(1999);
  await outbox.deliverDue();
  assert.equal(r.requests.length, 2);
  clock.advance(1);
  await outbox.deliverDue();
  assert.deepEqual(r.requests.map((q) => (q.body as EventNotification).id), [first.id, first.id, first.id, second.id], 'the second waits for the first');
  [s] = outbox.status();
  assert.deepEqual([s!.queued, s!.delivered, s!.attempts], [0, 2, 0]);
  assert.equal(s!.lastSuccessAt, T0 + 3000);
  assert.match(s!.lastError!, /HTTP 503/, 'the last failure stays visible');
  assert.deepEqual(r.requests[0]!.body, first);
});

test('webhook: a receiver that is down is retried until it is back', async (t) => {
  const r = await receiver(t);
  const port = r.port;
  await r.close();
  const clock = new ManualClock();
  const outbox = new Outbox({ store: new AlertStore(':memory:'), clock, notifiers: [createNotifier({ name: 'ops', kind: 'webhook', url: r.url })] });
  outbox.notifyEvent({ kind: 'pipeline.failed', app: 'hello', title: 'run #7 failed', text: 'npm test exited with 1', severity: 'critical' });
  await outbox.deliverDue();
  const [s] = outbox.status();
  assert.equal(s!.queued, 1);
  assert.match(s!.lastError!, /ECONNREFUSED/);

  const back = await receiver(t, port);
  clock.advance(1000);
  await outbox.deliverDue();
  assert.equal(back.requests.length, 1);
  assert.equal((back.requests[0]!.body as EventNotification).kind, 'pipeline.failed');
  assert.equal(outbox.status()[0]!.delivered, 1);
});

test('webhook: a refused payload (4xx) is not retried and does not block the queue; old ones are dropped', async (t) => {
  const r = await receiver(t);
  r.script = [400];
  const clock = new ManualClock();
  const outbox = new Outbox({ store: new AlertStore(':memory:'), clock, notifiers: [createNotifier({ name: 'ops', kind: 'webhook', url: r.url })], policy: { maxAgeMs: 60_000 } });
  outbox.notifyEvent({ kind: 'deployment.succeeded', app: 'hello', title: 'a', text: '' });
  outbox.notifyEvent({ kind: 'deployment.succeeded', app: 'hello', title: 'b', text: '' });
  await outbox.deliverDue();
  assert.deepEqual(r.requests.map((q) => (q.body as EventNotification).title), ['a', 'b']);
  let [s] = outbox.status();
  assert.deepEqual([s!.failed, s!.delivered, s!.queued], [1, 1, 0]);
  assert.match(s!.lastError!, /HTTP 400/);

  // Undeliverable for longer than maxAge: given up on, and counted.
  r.script = [500, 500, 500, 500, 500, 500, 500, 500];
  outbox.notifyEvent({ kind: 'deployment.succeeded', app: 'hello', title: 'c', text: '' });
  for (let i = 0; i < 8 && outbox.status()[0]!.queued > 0; i++) {
    await outbox.deliverDue();
    clock.advance(15_000);
  }
  [s] = outbox.status();
  assert.deepEqual([s!.queued, s!.dropped], [0, 1]);
  assert.match(s!.lastError!, /^not delivered within 1m \(\d+ attempts\); last error: .*HTTP 500/);
});

test('backoff doubles from the base and is capped', () => {
  const policy = { baseMs: 1000, maxMs: 300_000 };
  assert.deepEqual([1, 2, 3, 4, 5, 9, 10, 100].map((n) => backoffMs(n, policy)), [1000, 2000, 4000, 8000, 16000, 256000, 300000, 300000]);
});

test('evaluation never waits for a slow receiver; the background dispatcher delivers with real timers', async (t) => {
  // A receiver that answers the first request only after 3s, the rest at once.
  const requests: Notification[] = [];
  let first = true;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      requests.push(JSON.parse(body) as Notification);
      const delay = first ? 3000 : 0;
      first = false;
      setTimeout(() => res.end('ok'), delay);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => { server.closeAllConnections(); server.close(); });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

  const sources = new FakeSources();
  const engine = new AlertEngine({
    db: ':memory:', sources, clock: systemClock, intervalMs: 100, repeatIntervalMs: 3_600_000,
    notifiers: [createNotifier({ name: 'ops', kind: 'webhook', url })],
  });
  t.after(() => engine.close());
  engine.setAppRules('hello', RULES);
  sources.set('http_request_errors_total', { app: 'hello', env: 'production' }, 0.05);
  engine.start();
  await waitFor(() => requests.length === 1, 5000, 'the firing notification to be in flight');

  // While that request hangs, evaluations go on and finish quickly.
  sources.set('http_request_errors_total', { app: 'hello', env: 'production' }, 0);
  const started = Date.now();
  const result = await engine.evaluate();
  assert.ok(Date.now() - started < 1000, `evaluation took ${Date.now() - started}ms`);
  assert.deepEqual(result.notifications.map((n) => n.kind), ['resolved']);
  assert.equal(engine.status().notifiers[0]!.queued, 2, 'both wait in the outbox');

  await waitFor(() => requests.length === 2, 10_000, 'the resolved notification after the slow firing one');
  assert.deepEqual(requests.map((n) => (n as AlertNotification).status), ['firing', 'resolved']);
  await waitFor(() => engine.status().notifiers[0]!.queued === 0, 5000, 'the outbox to drain');
});

test('notifyEvent: deployment and pipeline outcomes through the same notifiers, filtered by severity', async (t) => {
  const r = await receiver(t);
  const clock = new ManualClock();
  const h = harness(t, {
    clock,
    notifiers: [
      createNotifier({ name: 'all', kind: 'webhook', url: r.url }),
      createNotifier({ name: 'urgent', kind: 'webhook', url: r.url.replace('/hook/', '/urgent/'), minSeverity: 'warning' }),
      createNotifier({ name: 'quiet', kind: 'webhook', url: r.url, events: false }),
      createNotifier({ name: 'am', kind: 'alertmanager', url: 'http://127.0.0.1:1' }),
    ],
  });
  const ok = h.engine.notifyEvent({ kind: 'deployment.succeeded', app: 'hello', env: 'production', title: 'v42 is live', text: '3 instances', drilldown: { command: 'slipway status hello' } });
  assert.equal(ok.severity, 'info');
  const rolled = h.engine.notifyEvent({ kind: 'deployment.rolled_back', app: 'hello', env: 'production', title: 'rolled back', text: 'error rate 9%' });
  assert.equal(rolled.severity, 'warning');
  await h.engine.outbox.deliverDue();
  assert.deepEqual(r.requests.map((q) => `${q.url.split('/')[1]}:${(q.body as EventNotification).title}`).sort(),
    ['hook:rolled back', 'hook:v42 is live', 'urgent:rolled back']);
  assert.deepEqual(h.engine.status().notifiers.map((n) => [n.name, n.delivered]), [['all', 2], ['urgent', 1], ['quiet', 0], ['am', 0]]);
  assert.throws(() => h.engine.notifyEvent({ kind: 'deploy.done' as never, app: 'hello', title: 't', text: '' }), /unknown event kind "deploy.done"/);
  assert.throws(() => h.engine.notifyEvent({ kind: 'pipeline.failed', app: 'hello', title: ' ', text: '' }), /needs a title/);
});
