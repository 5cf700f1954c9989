// Alert rules from YAML: the documented shapes parse to what the engine needs, and every mistake
// is a SlipwayError pointing at file:line:col with a hint, in the spec parser's style.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SlipwayError } from '../../../src/core/errors.ts';
import { parseAlertRules, readAlertRules } from '../../../src/telemetry/alerts/rules-read.ts';
import { parseAlertingConfig } from '../../../src/telemetry/alerts/config-read.ts';
import { loadDocument } from '../../../src/telemetry/alerts/yaml-doc.ts';
import { fieldsOf } from '../../../src/spec/read.ts';
import type { MetricCatalog } from '../../../src/telemetry/alerts/catalog.ts';

const lines = (...rows: string[]) => rows.join('\n') + '\n';
// Rule bodies start at line 3 (after "alerts:" and "- name: r").
const rule = (...rows: string[]) => lines('alerts:', '  - name: r', ...rows.map((r) => `    ${r}`));

function errorOf(fn: () => unknown): SlipwayError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof SlipwayError, `expected a SlipwayError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected an error');
}

function expectError(text: string, code: string, pos: string, message: string | RegExp, hint?: string | RegExp, opts = {}): SlipwayError {
  const error = errorOf(() => parseAlertRules(text, 'slipway.yaml', opts));
  assert.equal(error.code, code, error.message);
  const prefix = `slipway.yaml:${pos}: `;
  assert.ok(error.message.startsWith(prefix), `expected "${prefix}…", got "${error.message}"`);
  const rest = error.message.slice(prefix.length);
  if (typeof message === 'string') assert.equal(rest, message);
  else assert.match(rest, message);
  if (typeof hint === 'string') assert.equal(error.hint, hint);
  else if (hint) assert.match(error.hint ?? '', hint);
  return error;
}

test('rules: the documented example parses into conditions with units resolved', () => {
  const parsed = parseAlertRules(lines(
    'alerts:',
    '  - name: high-error-rate',
    '    threshold: {metric: error_rate, above: 0.02, window: 1m}',
    '    for: 2m',
    '    severity: critical',
    '  - name: slow',
    '    threshold: {metric: latency_p99, above: 500ms, window: 5m}',
    '    for: 5m',
    '  - name: no-traffic',
    '    absence: {event: request, for: 10m}',
    '  - name: oom',
    '    log_rate: {pattern: "OutOfMemory", above: 3, window: 5m}',
    '    environments: [production]',
    '    runbook: https://wiki.example.com/oom',
  ), 'slipway.yaml');
  assert.equal(parsed.length, 4);
  const [errors, slow, traffic, oom] = parsed;
  assert.deepEqual(errors, {
    name: 'high-error-rate',
    condition: {
      kind: 'threshold', metric: 'error_rate', unit: 'ratio', scope: 'environment', comparison: 'above', threshold: 0.02, windowMs: 60_000,
      query: { metric: 'http_request_errors_total', fn: 'ratio', denominator: 'http_requests_total' },
    },
    forMs: 120_000, severity: 'critical', environments: null, scaleDuringDeploy: true,
  });
  assert.equal(slow!.condition.kind === 'threshold' && slow!.condition.threshold, 500);
  assert.equal(slow!.severity, 'warning', 'default severity');
  assert.deepEqual(traffic!.condition, { kind: 'absence', event: 'request', scope: 'environment', forMs: 600_000, drilldown: 'slipway metrics {app} request_rate --env {env} --since {since}' });
  assert.equal(traffic!.forMs, 0);
  assert.deepEqual(oom!.condition, { kind: 'log_rate', pattern: 'OutOfMemory', above: 3, windowMs: 300_000 });
  assert.deepEqual(oom!.environments, ['production']);
  assert.equal(oom!.runbook, 'https://wiki.example.com/oom');
});

test('rules: thresholds are read in the unit of their metric', () => {
  const value = (metric: string, above: string) => {
    const [r] = parseAlertRules(rule(`threshold: {metric: ${metric}, above: ${above}}`), 'x.yaml');
    return r!.condition.kind === 'threshold' ? r!.condition.threshold : NaN;
  };
  assert.equal(value('error_rate', '"2%"'), 0.02);
  assert.equal(value('error_rate', '2.5%'), 0.025);
  assert.equal(value('latency_p95', '1.5s'), 1500);
  assert.equal(value('memory', '512MiB'), 512 * 1024 * 1024);
  assert.equal(value('memory', '1000000'), 1_000_000);
  assert.equal(value('request_rate', '0.5'), 0.5);
  const [below] = parseAlertRules(rule('threshold: {metric: request_rate, below: 1}'), 'x.yaml');
  assert.equal(below!.condition.kind === 'threshold' && below!.condition.comparison, 'below');
  assert.equal(below!.condition.kind === 'threshold' && below!.condition.windowMs, 5 * 60_000, 'default window');
});

test('rules: an empty or missing section is no rules; a bare list is accepted too', () => {
  assert.deepEqual(parseAlertRules('', 'x.yaml'), []);
  assert.deepEqual(parseAlertRules('alerts:\n', 'x.yaml'), []);
  assert.equal(parseAlertRules('- name: a\n  absence: {event: request, for: 1m}\n', 'x.yaml').length, 1);
});

test('errors: malformed durations name the key and the allowed format', () => {
  expectError(rule('threshold: {metric: error_rate, above: 2%}', 'for: 2x'), 'spec.value', '4:10',
    'alerts[0].for: "2x" is not a duration', /ms, s, m, h/);
  expectError(rule('threshold: {metric: error_rate, above: 2%, window: 60}'), 'spec.value', '3:56',
    'alerts[0].threshold.window: 60 has no unit', /60s or 60ms/);
  expectError(rule('absence: {event: request, for: 31d}'), 'spec.value', '3:36',
    'alerts[0].absence.for: "31d" is longer than the maximum of 30d', 'use at most 30d');
  expectError(rule('threshold: {metric: latency_p99, above: 500}'), 'spec.value', '3:45',
    'alerts[0].threshold.above: 500 has no unit', /500ms/);
});

test('errors: an unknown metric lists the known ones (from the catalog given)', () => {
  expectError(rule('threshold: {metric: eror_rate, above: 2%}'), 'spec.value', '3:25', 'alerts[0].threshold.metric: unknown metric "eror_rate"',
    /^did you mean "error_rate"\? known metrics: error_rate, request_rate, latency_p50, .*restarts$/);
  const catalog: MetricCatalog = { queue_depth: { query: { metric: 'q', fn: 'raw' }, unit: 'count', scope: 'environment', description: 'jobs waiting' } };
  expectError(rule('threshold: {metric: error_rate, above: 2%}'), 'spec.value', '3:25', 'alerts[0].threshold.metric: unknown metric "error_rate"',
    'known metrics: queue_depth', { metrics: catalog });
  // Object's own properties are not metrics.
  expectError(rule('threshold: {metric: constructor, above: 1}'), 'spec.value', '3:25', /unknown metric "constructor"/);
});

test('errors: unknown keys, wrong types, missing and conflicting parts', () => {
  expectError(rule('threshol: {metric: error_rate, above: 2%}'), 'spec.unknown_key', '3:5', 'unknown key "threshol" under "alerts[0]"', /did you mean "threshold"\?/);
  expectError(rule('threshold: {metric: error_rate, abve: 2%}'), 'spec.unknown_key', '3:37', 'unknown key "abve" under "alerts[0].threshold"', /allowed keys under "alerts\[0\].threshold": metric, above, below, window/);
  expectError(rule('log_rate: {pattern: OOM, above: "3"}'), 'spec.type', '3:37', 'alerts[0].log_rate.above: expected an integer, got a string "3"', /remove the quotes/);
  expectError(rule('threshold: error_rate'), 'spec.type', '3:16', 'alerts[0].threshold: expected a mapping, got a string "error_rate"', /e\.g\. threshold: \{metric/);
  expectError(rule('severity: high'), 'spec.missing', '2:5', 'alerts[0]: rule "r" has no condition', /exactly one of: threshold, absence, log_rate/);
  expectError(rule('absence: {event: request, for: 1m}', 'log_rate: {pattern: x, above: 1}'), 'spec.value', '4:15', 'alerts[0]: rule "r" has both absence and log_rate', /split it/);
  expectError(rule('threshold: {metric: error_rate, above: 2%, below: 1%}'), 'spec.value', '3:55', 'alerts[0].threshold: has both above and below', /one of them/);
  expectError(rule('threshold: {metric: error_rate}'), 'spec.missing', '3:16', 'missing "above" or "below" under "alerts[0].threshold"');
  expectError(rule('absence: {event: request}'), 'spec.missing', '3:14', 'missing required key "for" under "alerts[0].absence"');
  expectError(lines('alerts:', '  - threshold: {metric: error_rate, above: 2%}'), 'spec.missing', '2:5', 'missing required key "name" under "alerts[0]"');
  expectError('alerts: {name: x}\n', 'spec.type', '1:9', 'alerts: expected a list, got a mapping');
  expectError(lines('alerts:', '  - name: r', '    threshold: {metric: error_rate, above: 2%}', '  - name: r', '    absence: {event: request, for: 1m}'),
    'spec.value', '4:11', 'duplicate alert rule name "r"');
});

test('errors: values out of their domain', () => {
  expectError(rule('threshold: {metric: error_rate, above: 2}'), 'spec.value', '3:44', 'alerts[0].threshold.above: 2 is not a ratio between 0 and 1', /0\.02 or "2%"/);
  expectError(rule('threshold: {metric: error_rate, above: 200%}'), 'spec.value', '3:44', 'alerts[0].threshold.above: "200%" is more than 100%');
  expectError(rule('threshold: {metric: request_rate, above: -1}'), 'spec.value', '3:46', 'alerts[0].threshold.above: -1 is negative');
  expectError(rule('absence: {event: request, for: 1m}', 'severity: critcal'), 'spec.value', '4:15', 'alerts[0].severity: unknown severity "critcal"', /did you mean "critical"\? use one of: info, warning, critical/);
  expectError(rule('absence: {event: requests, for: 1m}'), 'spec.value', '3:22', 'alerts[0].absence.event: unknown event "requests"', /did you mean "request"\? known events: request, run_succeeded/);
  expectError(rule('absence: {event: request, for: 1m}', 'for: 1m'), 'spec.value', '4:10', 'alerts[0].for: absence rules take their duration in absence.for');
  expectError(rule('log_rate: {pattern: x, above: 1}', 'scale_during_deploy: false'), 'spec.value', '4:26', 'alerts[0].scale_during_deploy: only threshold rules have a threshold to scale');
  expectError(lines('alerts:', '  - name: High_Errors', '    absence: {event: request, for: 1m}'), 'spec.value', '2:11', 'alerts[0].name: "High_Errors" is not a valid rule name');
  expectError(rule('absence: {event: request, for: 1m}', 'environments: [prodution]'), 'spec.value', '4:20', 'alerts[0].environments[0]: unknown environment "prodution"',
    'did you mean "production"? environments defined: staging, production', { environments: ['staging', 'production'] });
  expectError(rule('absence: {event: request, for: 1m}', 'environments: []'), 'spec.value', '4:19', 'alerts[0].environments: must list at least one environment');
});

test('errors: invalid YAML keeps its position', () => {
  expectError('alerts:\n  - name: r\n\tabsence: {}\n', 'spec.syntax', '3:1', /^invalid YAML: /, /spaces, not tabs/);
});

test('readAlertRules plugs into a spec-style reader with the spec\'s Ctx and Slot', () => {
  const { ctx, root } = loadDocument(lines('app: hello', 'alerts:', '  - name: r', '    absence: {event: request, for: 1m}'), 'slipway.yaml');
  const fields = fieldsOf(ctx, root, ['app', 'alerts']);
  assert.equal(readAlertRules(ctx, fields.get('alerts'))[0]!.name, 'r');
  assert.deepEqual(readAlertRules(ctx, undefined), []);
});

test('server config: timing, global rules and notifiers', () => {
  const config = parseAlertingConfig(lines(
    'interval: 30s',
    'repeat_interval: 2h',
    'rules:',
    '  - name: errors',
    '    threshold: {metric: error_rate, above: 5%}',
    'notifiers:',
    '  - name: ops',
    '    webhook: {url: "https://ops.example.com/hook", headers: {Authorization: Bearer abc}}',
    '  - name: chat',
    '    slack: {url: "https://hooks.slack.com/services/T/B/C"}',
    '    min_severity: warning',
    '    events: false',
    '  - name: am',
    '    alertmanager: {url: "http://127.0.0.1:9093"}',
  ), 'server.yaml');
  assert.equal(config.intervalMs, 30_000);
  assert.equal(config.repeatIntervalMs, 7_200_000);
  assert.equal(config.rules[0]!.name, 'errors');
  assert.deepEqual(config.notifiers, [
    { name: 'ops', kind: 'webhook', url: 'https://ops.example.com/hook', headers: { Authorization: 'Bearer abc' } },
    { name: 'chat', kind: 'slack', url: 'https://hooks.slack.com/services/T/B/C', minSeverity: 'warning', events: false },
    { name: 'am', kind: 'alertmanager', url: 'http://127.0.0.1:9093' },
  ]);
  const defaults = parseAlertingConfig('', 'server.yaml');
  assert.deepEqual(defaults, { intervalMs: 15_000, repeatIntervalMs: 14_400_000, rules: [], notifiers: [] });
});

test('server config errors: never echo a webhook URL (it carries a secret)', () => {
  const bad = (text: string) => errorOf(() => parseAlertingConfig(text, 'server.yaml'));
  const scheme = bad(lines('notifiers:', '  - name: chat', '    slack: {url: "ftp://hooks.example.com/secret123"}'));
  assert.equal(scheme.message, 'server.yaml:3:18: notifiers[0].slack.url: "ftp:" URLs are not supported');
  assert.doesNotMatch(scheme.message + scheme.hint, /secret123/);
  assert.match(bad(lines('notifiers:', '  - name: x', '    webhook: {url: "https://a"}', '    slack: {url: "https://b"}')).message, /has both webhook and slack/);
  assert.match(bad(lines('notifiers:', '  - name: x', '    min_severity: warning')).message, /notifier "x" has no kind/);
  assert.match(bad(lines('notifiers:', '  - name: am', '    alertmanager: {url: "http://x"}', '    events: true')).message, /Alertmanager receives alerts only/);
  assert.match(bad('interval: 10x\n').message, /^server\.yaml:1:11: interval: "10x" is not a duration/);
  assert.equal(bad('interval: 100ms\n').message, 'server.yaml:1:11: interval: must be at least 1s');
});
