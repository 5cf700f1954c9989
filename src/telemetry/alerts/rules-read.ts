// `alerts:` in slipway.yaml (per app) and `rules:` in the server's alerting configuration
// (global): a list of rules, each watching exactly one condition. Read from the YAML AST with
// the spec's readers, so every mistake is a SlipwayError pointing at file:line:col.
//
// To plug into parseSpec: add 'alerts' to KEYS.top and
//   alerts: readAlertRules(ctx, fields.get('alerts'), { environments: environments.map((e) => e.name) })
import { isSeq } from 'yaml';
import { fail, closest, quote, type Ctx } from '../../spec/locate.ts';
import {
  fieldsOf, isEmpty, itemsOf, mapOf, readBool, readInt, readString, required, type Fields, type Slot,
} from '../../spec/read.ts';
import { MAX_DURATION_MS, NAME_HINT, NAME_PATTERN } from '../../spec/schema.ts';
import { DEFAULT_EVENTS, DEFAULT_METRICS, type EventCatalog, type MetricCatalog } from './catalog.ts';
import { readSpan, readThresholdValue } from './read-values.ts';
import {
  SEVERITIES, type AbsenceCondition, type AlertRule, type Condition, type LogRateCondition, type Severity, type ThresholdCondition,
} from './types.ts';
import { loadDocument } from './yaml-doc.ts';

export interface RuleReadOptions {
  /** Metric names a threshold may use; default DEFAULT_METRICS. */
  metrics?: MetricCatalog;
  /** Event names an absence rule may use; default DEFAULT_EVENTS. */
  events?: EventCatalog;
  /** Environments defined for the app, so `environments: [prod]` is caught as a typo. */
  environments?: readonly string[];
}

export const RULE_KEYS = {
  rule: ['name', 'threshold', 'absence', 'log_rate', 'for', 'severity', 'environments', 'summary', 'runbook', 'scale_during_deploy'],
  threshold: ['metric', 'above', 'below', 'window'],
  absence: ['event', 'for'],
  log_rate: ['pattern', 'above', 'window'],
} as const;

const CONDITION_KINDS = ['threshold', 'absence', 'log_rate'] as const;

export const RULE_DEFAULTS = {
  windowMs: 5 * 60_000,
  severity: 'warning' as Severity,
};

const RULE_NAME_MAX = 63;
// "No successful run in 2 days" is a real need, so absence may exceed the spec's 24h cap.
const MAX_ABSENCE_MS = 30 * 86_400_000;
const MAX_LOG_LINES = 1_000_000_000;

const EXAMPLE = [
  'e.g.',
  '  alerts:',
  '    - name: high-error-rate',
  '      threshold: {metric: error_rate, above: 2%, window: 1m}',
  '      for: 2m',
  '      severity: critical',
  '    - name: no-traffic',
  '      absence: {event: request, for: 10m}',
  '    - name: oom',
  '      log_rate: {pattern: OutOfMemory, above: 3, window: 5m}',
].join('\n');
const KIND_HINT = 'a rule watches exactly one of: threshold, absence, log_rate';

/**
 * A standalone rules file (or any text holding just the rules): either `alerts: [...]` or the
 * list itself at the top level. Positions in errors refer to that text.
 */
export function parseAlertRules(text: string, file: string, opts: RuleReadOptions = {}): AlertRule[] {
  const { ctx, root } = loadDocument(text, file);
  if (isEmpty(root)) return [];
  if (isSeq(root.node)) return readAlertRules(ctx, { ...root, path: 'alerts' }, opts);
  mapOf(ctx, root, `write the rules under alerts:; ${EXAMPLE}`);
  return readAlertRules(ctx, fieldsOf(ctx, root, ['alerts']).get('alerts'), opts);
}

export function readAlertRules(ctx: Ctx, slot: Slot | undefined, opts: RuleReadOptions = {}): AlertRule[] {
  if (!slot || isEmpty(slot)) return [];
  const items = itemsOf(ctx, slot, `write rules as a list; ${EXAMPLE}`);
  const names = new Set<string>();
  return items.map((item) => {
    const { rule, nameSlot } = readRule(ctx, item, opts);
    // Alerts are grouped and silenced by rule name, so two rules with one name would merge.
    if (names.has(rule.name)) fail(ctx, 'spec.value', nameSlot.at, `duplicate alert rule name ${quote(rule.name)}`, 'rule names must be unique; rename one of them');
    names.add(rule.name);
    return rule;
  });
}

function readRule(ctx: Ctx, slot: Slot, opts: RuleReadOptions): { rule: AlertRule; nameSlot: Slot } {
  mapOf(ctx, slot, EXAMPLE);
  const fields = fieldsOf(ctx, slot, RULE_KEYS.rule);
  const nameSlot = required(ctx, slot, fields, 'name', 'add name: <rule name>, e.g. name: high-error-rate');
  const name = readRuleName(ctx, nameSlot);
  const condition = readCondition(ctx, slot, fields, name, opts);
  const forSlot = fields.get('for');
  if (forSlot && condition.kind === 'absence') {
    fail(ctx, 'spec.value', forSlot.at, `${forSlot.path}: absence rules take their duration in absence.for`,
      'move it, e.g. absence: {event: request, for: 10m}');
  }
  const scale = fields.get('scale_during_deploy');
  if (scale && condition.kind !== 'threshold') {
    fail(ctx, 'spec.value', scale.at, `${scale.path}: only threshold rules have a threshold to scale`, 'remove scale_during_deploy from this rule');
  }
  const severity = fields.get('severity');
  const environments = fields.get('environments');
  const summary = fields.get('summary');
  const runbook = fields.get('runbook');
  const rule: AlertRule = {
    name,
    condition,
    forMs: forSlot ? readSpan(ctx, forSlot, 0, MAX_DURATION_MS) : 0,
    severity: severity ? readSeverity(ctx, severity) : RULE_DEFAULTS.severity,
    environments: environments ? readEnvironmentList(ctx, environments, opts.environments) : null,
    scaleDuringDeploy: scale ? readBool(ctx, scale) : true,
  };
  if (summary) rule.summary = readString(ctx, summary);
  if (runbook) rule.runbook = readString(ctx, runbook);
  return { rule, nameSlot };
}

function readRuleName(ctx: Ctx, slot: Slot): string {
  const name = readString(ctx, slot, NAME_HINT(RULE_NAME_MAX, 'high-error-rate'));
  if (!NAME_PATTERN.test(name) || name.length > RULE_NAME_MAX) {
    fail(ctx, 'spec.value', slot.at, `${slot.path}: ${quote(name)} is not a valid rule name`, NAME_HINT(RULE_NAME_MAX, 'high-error-rate'));
  }
  return name;
}

function readCondition(ctx: Ctx, slot: Slot, fields: Fields, name: string, opts: RuleReadOptions): Condition {
  const present = CONDITION_KINDS.filter((kind) => fields.has(kind));
  if (present.length === 0) {
    fail(ctx, 'spec.missing', slot.node, `${slot.path}: rule ${quote(name)} has no condition`, `${KIND_HINT}; ${EXAMPLE}`);
  }
  if (present.length > 1) {
    const second = fields.get(present[1]!)!;
    fail(ctx, 'spec.value', second.at, `${slot.path}: rule ${quote(name)} has both ${present[0]} and ${present[1]}`,
      `${KIND_HINT}; split it into two rules`);
  }
  const kind = present[0]!;
  const inner = fields.get(kind)!;
  if (kind === 'threshold') return readThreshold(ctx, inner, opts.metrics ?? DEFAULT_METRICS);
  if (kind === 'absence') return readAbsence(ctx, inner, opts.events ?? DEFAULT_EVENTS);
  return readLogRate(ctx, inner);
}

function readThreshold(ctx: Ctx, slot: Slot, metrics: MetricCatalog): ThresholdCondition {
  const hint = 'e.g. threshold: {metric: error_rate, above: 2%, window: 1m}';
  mapOf(ctx, slot, hint);
  const fields = fieldsOf(ctx, slot, RULE_KEYS.threshold);
  const known = Object.keys(metrics);
  const metricSlot = required(ctx, slot, fields, 'metric', `add metric: <name>; known metrics: ${known.join(', ')}`);
  const metric = readString(ctx, metricSlot);
  // hasOwn, so `metric: constructor` is an unknown metric rather than Object's prototype.
  if (!Object.hasOwn(metrics, metric)) {
    const guess = closest(metric, known);
    fail(ctx, 'spec.value', metricSlot.at, `${metricSlot.path}: unknown metric ${quote(metric)}`,
      `${guess ? `did you mean "${guess}"? ` : ''}known metrics: ${known.join(', ')}`);
  }
  const def = metrics[metric]!;
  const above = fields.get('above');
  const below = fields.get('below');
  if (above && below) fail(ctx, 'spec.value', below.at, `${slot.path}: has both above and below`, 'a threshold is crossed in one direction; write one of them');
  const bound = above ?? below;
  if (!bound) fail(ctx, 'spec.missing', slot.node, `missing "above" or "below" under "${slot.path}"`, hint);
  const window = fields.get('window');
  return {
    kind: 'threshold',
    metric,
    query: { ...def.query },
    unit: def.unit,
    scope: def.scope,
    comparison: above ? 'above' : 'below',
    threshold: readThresholdValue(ctx, bound, def.unit, metric),
    windowMs: window ? readSpan(ctx, window, 1, MAX_DURATION_MS) : RULE_DEFAULTS.windowMs,
  };
}

function readAbsence(ctx: Ctx, slot: Slot, events: EventCatalog): AbsenceCondition {
  const hint = 'e.g. absence: {event: request, for: 10m}';
  mapOf(ctx, slot, hint);
  const fields = fieldsOf(ctx, slot, RULE_KEYS.absence);
  const known = Object.keys(events);
  const eventSlot = required(ctx, slot, fields, 'event', `add event: <name>; known events: ${known.join(', ')}`);
  const event = readString(ctx, eventSlot);
  if (!Object.hasOwn(events, event)) {
    const guess = closest(event, known);
    fail(ctx, 'spec.value', eventSlot.at, `${eventSlot.path}: unknown event ${quote(event)}`,
      `${guess ? `did you mean "${guess}"? ` : ''}known events: ${known.join(', ')}`);
  }
  const def = events[event]!;
  const forSlot = required(ctx, slot, fields, 'for', `add for: <how long without ${event} is too long>; ${hint}`);
  return { kind: 'absence', event, scope: def.scope, forMs: readSpan(ctx, forSlot, 1, MAX_ABSENCE_MS), drilldown: def.drilldown };
}

function readLogRate(ctx: Ctx, slot: Slot): LogRateCondition {
  const hint = 'e.g. log_rate: {pattern: OutOfMemory, above: 3, window: 5m}';
  mapOf(ctx, slot, hint);
  const fields = fieldsOf(ctx, slot, RULE_KEYS.log_rate);
  const pattern = readString(ctx, required(ctx, slot, fields, 'pattern', `add pattern: <text to look for>; ${hint}`));
  const above = required(ctx, slot, fields, 'above', `add above: <number of lines>; ${hint}`);
  const window = fields.get('window');
  return {
    kind: 'log_rate',
    pattern,
    above: readInt(ctx, above, 0, MAX_LOG_LINES),
    windowMs: window ? readSpan(ctx, window, 1, MAX_DURATION_MS) : RULE_DEFAULTS.windowMs,
  };
}

export function readSeverity(ctx: Ctx, slot: Slot): Severity {
  const hint = `use one of: ${SEVERITIES.join(', ')}`;
  const text = readString(ctx, slot, hint);
  if (!(SEVERITIES as readonly string[]).includes(text)) {
    const guess = closest(text, SEVERITIES);
    fail(ctx, 'spec.value', slot.at, `${slot.path}: unknown severity ${quote(text)}`, `${guess ? `did you mean "${guess}"? ` : ''}${hint}`);
  }
  return text as Severity;
}

function readEnvironmentList(ctx: Ctx, slot: Slot, defined: readonly string[] | undefined): string[] {
  const hint = 'write environments: [production] or remove the key to watch every environment';
  const items = itemsOf(ctx, slot, hint);
  if (items.length === 0) fail(ctx, 'spec.value', slot.at, `${slot.path}: must list at least one environment`, hint);
  return items.map((item) => {
    const env = readString(ctx, item, hint);
    if (defined && !defined.includes(env)) {
      const guess = closest(env, defined);
      fail(ctx, 'spec.value', item.at, `${item.path}: unknown environment ${quote(env)}`,
        `${guess ? `did you mean "${guess}"? ` : ''}environments defined: ${defined.join(', ')}`);
    }
    return env;
  });
}
