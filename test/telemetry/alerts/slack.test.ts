// Slack-compatible incoming webhooks: `text` plus one attachment with colour and fields, user
// text escaped, delivered over real HTTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNotifier } from '../../../src/telemetry/alerts/notifiers/notifier.ts';
import { slackPayload, type SlackMessage } from '../../../src/telemetry/alerts/notifiers/slack.ts';
import { harness, MIN, receiver, rules, SEC } from './helpers.ts';

test('slack: a firing alert becomes text + an attachment with the numbers and the drill-down', async (t) => {
  const r = await receiver(t);
  const h = harness(t, { notifiers: [createNotifier({ name: 'chat', kind: 'slack', url: r.url })] });
  h.engine.setAppRules('hello', rules(`
alerts:
  - name: slow
    threshold: {metric: latency_p99, above: 500ms, window: 5m}
    for: 1m
    severity: critical
    summary: "Checkout is slow for <all> users & bots"
`));
  h.sources.set('http_request_duration_ms', { app: 'hello', env: 'production' }, 812);
  await h.tick();
  h.clock.advance(MIN);
  await h.tick();

  assert.equal(r.requests.length, 1);
  const body = r.requests[0]!.body as SlackMessage;
  assert.deepEqual(Object.keys(body).sort(), ['attachments', 'text']);
  assert.equal(body.text, 'FIRING: slow (critical) on hello/production');
  assert.equal(body.attachments.length, 1);
  const a = body.attachments[0]!;
  assert.equal(a.color, 'danger');
  assert.equal(a.title, body.text);
  assert.equal(a.footer, 'slipway');
  assert.equal(a.ts, Math.floor(h.clock.now() / 1000));
  assert.match(a.text, /^Checkout is slow for &lt;all&gt; users &amp; bots\nlatency_p99 = 812ms, threshold above 500ms, window 5m\n/);
  assert.deepEqual(a.fields.map((f) => [f.title, f.value, f.short]), [
    ['Value', '812ms', true],
    ['Threshold', 'above 500ms', true],
    ['Window', '5m', true],
    ['Since', '2026-01-15T12:00:00.000Z', true],
    ['Drill down', '`slipway metrics hello latency_p99 --env production --since 15m`', false],
  ]);
  assert.deepEqual(a.mrkdwn_in, ['text', 'fields']);

  h.sources.set('http_request_duration_ms', { app: 'hello', env: 'production' }, 120);
  h.clock.advance(15 * SEC);
  await h.tick();
  const resolved = r.requests[1]!.body as SlackMessage;
  assert.equal(resolved.text, 'RESOLVED: slow (critical) on hello/production');
  assert.equal(resolved.attachments[0]!.color, 'good');
});

test('slack: events and colours by outcome; a link becomes the title link', () => {
  const base = { version: 1 as const, id: 'x', type: 'event' as const, at: 0, app: 'hello', env: 'production', text: 'a <b>', severity: 'warning' as const };
  const rolled = slackPayload({ ...base, kind: 'deployment.rolled_back', title: 'v42 rolled back', drilldown: { command: 'slipway deployment d-1', url: 'https://slipway.example.com/d/1' } });
  assert.equal(rolled.text, 'v42 rolled back (hello/production)');
  assert.equal(rolled.attachments[0]!.color, 'warning');
  assert.equal(rolled.attachments[0]!.text, 'a &lt;b&gt;');
  assert.equal(rolled.attachments[0]!.title_link, 'https://slipway.example.com/d/1');
  assert.deepEqual(rolled.attachments[0]!.fields, [{ title: 'Drill down', value: '`slipway deployment d-1`', short: false }]);
  const ok = slackPayload({ ...base, kind: 'deployment.succeeded', title: 'v43 live', severity: 'info' });
  assert.equal(ok.attachments[0]!.color, 'good');
});
