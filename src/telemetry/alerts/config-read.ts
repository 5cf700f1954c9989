// The server's alerting configuration: global rules, where notifications go, and timing.
//
//   interval: 15s            # how often rules are evaluated
//   repeat_interval: 4h      # reminder for alerts that keep firing
//   rules: [...]             # same shape as `alerts:` in slipway.yaml, applied to every app
//   notifiers:
//     - name: ops
//       webhook: {url: https://ops.example.com/hook, headers: {Authorization: Bearer …}}
//     - name: chat
//       slack: {url: https://hooks.slack.com/services/…}
//       min_severity: warning
//     - name: am
//       alertmanager: {url: http://127.0.0.1:9093}
//
// readAlertingConfig reads that mapping wherever the server config puts it;
// parseAlertingConfig reads a file that is exactly that mapping.
import { isScalar, type ParsedNode } from 'yaml';
import { fail, joinPath, quote, type Ctx } from '../../spec/locate.ts';
import {
  fieldsOf, isEmpty, itemsOf, keyName, mapOf, readBool, readString, required, typeError, valueSlot, type Slot,
} from '../../spec/read.ts';
import { NAME_HINT, NAME_PATTERN } from '../../spec/schema.ts';
import { NOTIFIER_KINDS, type NotifierConfig, type NotifierKind } from './notifiers/config.ts';
import { readSpan } from './read-values.ts';
import { readAlertRules, readSeverity, type RuleReadOptions } from './rules-read.ts';
import type { AlertRule } from './types.ts';
import { loadDocument } from './yaml-doc.ts';

export interface AlertingConfig {
  intervalMs: number;
  repeatIntervalMs: number;
  rules: AlertRule[];
  notifiers: NotifierConfig[];
}

export const ALERTING_DEFAULTS = {
  intervalMs: 15_000,
  repeatIntervalMs: 4 * 3_600_000,
};

export const ALERTING_KEYS = {
  alerting: ['interval', 'repeat_interval', 'rules', 'notifiers'],
  notifier: ['name', ...NOTIFIER_KINDS, 'min_severity', 'events', 'timeout'],
  endpoint: ['url', 'headers'],
} as const;

const NOTIFIER_HINT = 'e.g.\n  notifiers:\n    - name: ops\n      webhook: {url: https://ops.example.com/hook}';
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

export function parseAlertingConfig(text: string, file: string, opts: RuleReadOptions = {}): AlertingConfig {
  const { ctx, root } = loadDocument(text, file);
  return readAlertingConfig(ctx, root, opts);
}

export function readAlertingConfig(ctx: Ctx, slot: Slot | undefined, opts: RuleReadOptions = {}): AlertingConfig {
  const fields = slot && !isEmpty(slot) ? fieldsOf(ctx, slot, ALERTING_KEYS.alerting) : new Map<string, Slot>();
  const interval = fields.get('interval');
  const repeat = fields.get('repeat_interval');
  const notifiers = fields.get('notifiers');
  return {
    // Below a second the engine would mostly be measuring its own noise.
    intervalMs: interval ? readSpan(ctx, interval, 1000, 3_600_000) : ALERTING_DEFAULTS.intervalMs,
    repeatIntervalMs: repeat ? readSpan(ctx, repeat, 60_000, 7 * 86_400_000) : ALERTING_DEFAULTS.repeatIntervalMs,
    rules: readAlertRules(ctx, fields.get('rules'), opts),
    notifiers: notifiers ? readNotifiers(ctx, notifiers) : [],
  };
}

function readNotifiers(ctx: Ctx, slot: Slot): NotifierConfig[] {
  const names = new Set<string>();
  return itemsOf(ctx, slot, NOTIFIER_HINT).map((item) => {
    const notifier = readNotifier(ctx, item);
    if (names.has(notifier.name)) fail(ctx, 'spec.value', item.at, `duplicate notifier name ${quote(notifier.name)}`, 'notifier names must be unique');
    names.add(notifier.name);
    return notifier;
  });
}

function readNotifier(ctx: Ctx, slot: Slot): NotifierConfig {
  mapOf(ctx, slot, NOTIFIER_HINT);
  const fields = fieldsOf(ctx, slot, ALERTING_KEYS.notifier);
  const nameSlot = required(ctx, slot, fields, 'name', 'add name: <notifier name>, e.g. name: ops');
  const name = readString(ctx, nameSlot);
  if (!NAME_PATTERN.test(name)) fail(ctx, 'spec.value', nameSlot.at, `${nameSlot.path}: ${quote(name)} is not a valid notifier name`, NAME_HINT(40, 'ops'));
  const kinds = NOTIFIER_KINDS.filter((kind) => fields.has(kind));
  const kindHint = `a notifier has exactly one of: ${NOTIFIER_KINDS.join(', ')}`;
  if (kinds.length !== 1) {
    fail(ctx, kinds.length === 0 ? 'spec.missing' : 'spec.value', kinds.length === 0 ? slot.node : fields.get(kinds[1]!)!.at,
      `${slot.path}: notifier ${quote(name)} ${kinds.length === 0 ? 'has no kind' : `has both ${kinds[0]} and ${kinds[1]}`}`, kindHint);
  }
  const kind = kinds[0] as NotifierKind;
  const endpointSlot = fields.get(kind)!;
  mapOf(ctx, endpointSlot, `e.g. ${kind}: {url: https://…}`);
  const endpoint = fieldsOf(ctx, endpointSlot, ALERTING_KEYS.endpoint);
  const config: NotifierConfig = { name, kind, url: readUrl(ctx, required(ctx, endpointSlot, endpoint, 'url', `add url: <http(s) URL>`)) };
  const headers = endpoint.get('headers');
  if (headers) config.headers = readHeaders(ctx, headers);
  const severity = fields.get('min_severity');
  if (severity) config.minSeverity = readSeverity(ctx, severity);
  const events = fields.get('events');
  if (events) {
    config.events = readBool(ctx, events);
    if (config.events && kind === 'alertmanager') {
      fail(ctx, 'spec.value', events.at, `${events.path}: Alertmanager receives alerts only`, 'remove events: true, or send events through a webhook or slack notifier');
    }
  }
  const timeout = fields.get('timeout');
  if (timeout) config.timeoutMs = readSpan(ctx, timeout, 100, 120_000);
  return config;
}

// The URL itself is never repeated in a message: webhook URLs carry their secret in the path.
function readUrl(ctx: Ctx, slot: Slot): string {
  const text = readString(ctx, slot, 'write an http:// or https:// URL');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    fail(ctx, 'spec.value', slot.at, `${slot.path}: not a valid URL`, 'write an absolute http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    fail(ctx, 'spec.value', slot.at, `${slot.path}: ${quote(url.protocol)} URLs are not supported`, 'write an http:// or https:// URL');
  }
  return text;
}

function readHeaders(ctx: Ctx, slot: Slot): Record<string, string> {
  const map = mapOf(ctx, slot, 'e.g. headers: {Authorization: Bearer …}');
  const entries: [string, string][] = [];
  for (const pair of map.items) {
    const key = pair.key as ParsedNode | null;
    const name = keyName(ctx, key, map, slot.path);
    if (!HEADER_NAME.test(name)) fail(ctx, 'spec.value', key ?? map, `${slot.path}: ${quote(name)} is not a valid header name`);
    const value = valueSlot(ctx, joinPath(slot.path, name), key ?? map, pair.value as ParsedNode | null);
    if (!isScalar(value.node) || typeof value.node.value !== 'string') typeError(ctx, value, 'a string');
    const text = value.node.value as string;
    // A line break would end the header and start another one chosen by the config's author.
    if (/[\r\n]/.test(text)) fail(ctx, 'spec.value', value.at, `${value.path}: must be a single line`);
    entries.push([name, text]);
  }
  return Object.fromEntries(entries);
}
