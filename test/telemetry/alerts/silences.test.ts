// Silences: matched by app/env/rule, with an expiry; a silenced alert still changes state and
// shows as silenced, but notifies nobody.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SlipwayError } from '../../../src/core/errors.ts';
import { findSilence, silenceMatches } from '../../../src/telemetry/alerts/silences.ts';
import type { AlertNotification, Silence } from '../../../src/telemetry/alerts/types.ts';
import { harness, MIN, rules, SEC, T0 } from './helpers.ts';

const ERRORS = 'http_request_errors_total';
const RULES = rules(`
alerts:
  - name: high-error-rate
    threshold: {metric: error_rate, above: 2%, window: 1m}
    for: 1m
`);

test('a silenced alert goes pending → firing → resolved without notifying, and shows as silenced', async (t) => {
  const h = harness(t);
  h.engine.setAppRules('hello', RULES);
  const silence = h.engine.silences.create({ app: 'hello', env: 'production', duration: '1h', comment: 'db migration', createdBy: 'alice' });
  h.sources.set(ERRORS, { app: 'hello', env: 'production' }, 0.5);
  h.sources.set(ERRORS, { app: 'hello', env: 'staging' }, 0.5);

  const transitions: string[] = [];
  for (let i = 0; i < 3; i++) {
    const result = await h.engine.evaluate();
    transitions.push(...result.transitions.filter((x) => x.key.endsWith('/production')).map((x) => `${x.from}→${x.to}`));
    await h.engine.outbox.deliverDue();
    h.clock.advance(MIN);
  }
  assert.deepEqual(transitions, ['inactive→pending', 'pending→firing']);
  // staging is not covered and notifies as usual.
  assert.deepEqual(h.notifier.sent.map((n) => (n as AlertNotification).alert.env), ['staging']);
  const view = h.engine.alerts({ env: 'production' })[0]!;
  assert.equal(view.state, 'firing');
  assert.equal(view.silenced, true);
  assert.equal(view.silencedBy, silence.id);
  assert.equal(h.engine.status().alerts.silenced, 1);

  h.sources.set(ERRORS, { app: 'hello', env: 'production' }, 0);
  await h.tick();
  assert.equal(h.engine.alerts({ env: 'production' })[0]!.state, 'resolved');
  assert.equal(h.notifier.sent.length, 1, 'resolved while silenced: still quiet');
});

test('when a silence expires on a still-firing alert, it is announced', async (t) => {
  const h = harness(t);
  h.engine.setAppRules('hello', RULES);
  h.engine.silences.create({ rule: 'high-error-rate', duration: 10 * MIN, comment: 'known', createdBy: 'alice' });
  h.sources.set(ERRORS, { app: 'hello', env: 'production' }, 0.5);
  let sent = 0;
  for (let minute = 0; minute < 10; minute++) {
    sent += (await h.tick()).length;
    h.clock.advance(MIN);
  }
  assert.equal(sent, 0);
  assert.equal(h.clock.now(), T0 + 10 * MIN);
  const [n] = await h.tick() as AlertNotification[];
  assert.equal(n!.status, 'firing');
  assert.equal(n!.alert.since, T0, 'the numbers cover the whole episode');
  assert.equal(h.engine.alerts()[0]!.silenced, false);
});

test('expiring a silence early; list shows active ones, or all with their status', async (t) => {
  const h = harness(t);
  h.engine.setAppRules('hello', RULES.map((r) => ({ ...r, forMs: 0 })));
  h.sources.set(ERRORS, { app: 'hello', env: 'production' }, 0.5);
  // Notified first, then silenced, then the silence ends: a reminder goes out at once.
  assert.equal((await h.tick()).length, 1);
  const s = h.engine.silences.create({ app: 'hello', duration: '2h', comment: 'looking into it', createdBy: 'alice' });
  h.clock.advance(MIN);
  assert.deepEqual(await h.tick(), []);
  assert.deepEqual(h.engine.silences.list().map((x) => [x.id, x.status]), [[s.id, 'active']]);

  const expired = h.engine.silences.expire(s.id, 'bob');
  assert.equal(expired.endsAt, h.clock.now());
  assert.equal(expired.expiredBy, 'bob');
  assert.deepEqual(h.engine.silences.list(), []);
  assert.deepEqual(h.engine.silences.list({ includeExpired: true }).map((x) => [x.id, x.status, x.expiredBy]), [[s.id, 'expired', 'bob']]);
  const [reminder] = await h.tick() as AlertNotification[];
  assert.deepEqual([reminder!.status, reminder!.repeat], ['firing', true]);

  const again = assert.throws(() => h.engine.silences.expire(s.id, 'bob'), (e: unknown) => e instanceof SlipwayError && e.code === 'alerts.silence_expired' && e.status === 409);
  void again;
  assert.throws(() => h.engine.silences.expire('nope', 'bob'), (e: unknown) => e instanceof SlipwayError && e.code === 'silence.not_found' && e.status === 404);
});

test('silence matching: every given matcher must equal; a scheduled silence starts later', () => {
  const s = (matchers: Silence['matchers'], startsAt = 0, endsAt = 100): Silence => ({ id: 'x', matchers, startsAt, endsAt, comment: 'c', createdBy: 'a', createdAt: 0, expiredBy: null });
  const alert = { app: 'hello', env: 'production', rule: 'slow' };
  assert.equal(silenceMatches(s({ app: 'hello' }), alert, 50), true);
  assert.equal(silenceMatches(s({ app: 'hello', env: 'staging' }), alert, 50), false);
  assert.equal(silenceMatches(s({ rule: 'slow' }), alert, 50), true);
  assert.equal(silenceMatches(s({ rule: 'fast' }), alert, 50), false);
  assert.equal(silenceMatches(s({ app: 'hello' }), alert, 100), false, 'ends exclusive');
  assert.equal(silenceMatches(s({ app: 'hello' }, 60), alert, 50), false, 'not started yet');
  const longest = findSilence([s({ app: 'hello' }, 0, 80), { ...s({ env: 'production' }, 0, 90), id: 'y' }], alert, 50);
  assert.equal(longest?.id, 'y');
});

test('silence validation: matchers, duration, comment, author', async (t) => {
  const h = harness(t);
  const code = (input: Parameters<typeof h.engine.silences.create>[0], expected: string, message: RegExp) =>
    assert.throws(() => h.engine.silences.create(input), (e: unknown) => e instanceof SlipwayError && e.code === expected && message.test(e.message) && !!e.hint);
  code({ duration: '1h', comment: 'x', createdBy: 'a' }, 'alerts.silence_invalid', /at least one of app, env, rule/);
  code({ app: 'hello', duration: '2x', comment: 'x', createdBy: 'a' }, 'usage.bad_duration', /silence duration "2x" is not a duration/);
  code({ app: 'hello', duration: 0, comment: 'x', createdBy: 'a' }, 'alerts.silence_invalid', /more than 0 and at most 30d/);
  code({ app: 'hello', duration: '31d', comment: 'x', createdBy: 'a' }, 'alerts.silence_invalid', /at most 30d/);
  code({ app: 'hello', duration: '1h', comment: ' ', createdBy: 'a' }, 'alerts.silence_invalid', /needs a comment/);
  code({ app: 'hello', duration: '1h', comment: 'x', createdBy: '' }, 'alerts.silence_invalid', /createdBy/);
  code({ app: 'hel lo', duration: '1h', comment: 'x', createdBy: 'a' }, 'alerts.silence_invalid', /app: "hel lo" is not a name/);
  const scheduled = h.engine.silences.create({ env: 'production', duration: '1h', comment: 'maintenance', createdBy: 'a', startsAt: T0 + 30 * SEC });
  assert.deepEqual(h.engine.silences.list().map((x) => x.status), ['pending']);
  h.clock.advance(30 * SEC);
  assert.deepEqual(h.engine.silences.list().map((x) => x.status), ['active']);
  assert.equal(scheduled.endsAt, T0 + 30 * SEC + 60 * MIN);
});
