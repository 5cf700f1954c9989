// A restart neither re-announces firing alerts nor loses queued notifications or silences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AlertEngine } from '../../../src/telemetry/alerts/engine.ts';
import { DeliveryError } from '../../../src/telemetry/alerts/notifiers/http.ts';
import type { Notifier } from '../../../src/telemetry/alerts/notifiers/notifier.ts';
import type { AlertNotification, Notification } from '../../../src/telemetry/alerts/types.ts';
import { FakeSources, ManualClock, MIN, RecordingNotifier, rules, SEC } from './helpers.ts';

const RULES = rules(`
alerts:
  - name: high-error-rate
    threshold: {metric: error_rate, above: 2%, window: 1m}
`);

class DownNotifier implements Notifier {
  readonly name: string;
  readonly kind = 'down';
  readonly target = 'nowhere';
  attempts = 0;
  constructor(name: string) { this.name = name; }
  accepts(): boolean { return true; }
  async send(_n: Notification): Promise<void> {
    this.attempts++;
    throw new DeliveryError('receiver down', false);
  }
}

test('restart: firing alerts are not re-announced, queued notifications and silences survive', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-alerts-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'alerts.db');
  const clock = new ManualClock();
  const sources = new FakeSources();
  sources.set('http_request_errors_total', { app: 'hello', env: 'production' }, 0.5);

  // First life: one notifier works, one is down; the alert fires; a silence is created.
  const good = new RecordingNotifier('good');
  const down = new DownNotifier('flaky');
  const first = new AlertEngine({ db: file, sources, clock, notifiers: [good, down] });
  first.setAppRules('hello', RULES);
  await first.evaluate();
  await first.outbox.deliverDue();
  assert.equal(good.sent.length, 1);
  assert.equal(down.attempts, 1);
  const silence = first.silences.create({ app: 'other', duration: '1h', comment: 'c', createdBy: 'alice' });
  await first.close();

  // Second life, same file: the app's rules have not been loaded yet.
  clock.advance(MIN);
  const good2 = new RecordingNotifier('good');
  const flaky2 = new RecordingNotifier('flaky');
  const second = new AlertEngine({ db: file, sources, clock, notifiers: [good2, flaky2] });
  t.after(() => second.close());
  await second.evaluate();
  assert.equal(second.alerts()[0]?.state, 'firing', 'an app whose rules are not loaded keeps its alerts');
  second.setAppRules('hello', RULES);
  for (let i = 0; i < 3; i++) {
    clock.advance(15 * SEC);
    await second.evaluate();
    await second.outbox.deliverDue();
  }
  assert.deepEqual(good2.sent, [], 'already announced before the restart');
  assert.equal(flaky2.sent.length, 1, 'the notification owed to "flaky" was kept and delivered');
  assert.equal((flaky2.sent[0] as AlertNotification).alert.rule, 'high-error-rate');
  assert.deepEqual(second.silences.list().map((s) => s.id), [silence.id]);

  // And it still resolves (and announces that) normally.
  sources.set('http_request_errors_total', { app: 'hello', env: 'production' }, 0);
  clock.advance(15 * SEC);
  await second.evaluate();
  await second.outbox.deliverDue();
  assert.deepEqual(good2.sent.map((n) => (n as AlertNotification).status), ['resolved']);
});

test('an engine can share the server database (its tables are prefixed alert_)', async (t) => {
  const { DatabaseSync } = await import('node:sqlite');
  const db = new DatabaseSync(':memory:');
  db.exec('CREATE TABLE apps (name TEXT PRIMARY KEY)');
  const engine = new AlertEngine({ db, sources: new FakeSources(), clock: new ManualClock() });
  t.after(() => engine.close());
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
  assert.deepEqual(tables.filter((n) => n !== 'sqlite_sequence'), ['alert_outbox', 'alert_silences', 'alert_states', 'apps']);
  // A second engine on the same database runs the idempotent migration again without harm.
  const again = new AlertEngine({ db, sources: new FakeSources(), clock: new ManualClock() });
  await again.close();
  assert.equal(db.isOpen, true, 'a shared database is left open');
});
