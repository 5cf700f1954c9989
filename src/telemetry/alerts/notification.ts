// Building the notification objects that go into the outbox: one shape for alerts, one for
// pipeline and deployment events. Notifiers only translate these; they decide nothing.
import { randomUUID } from 'node:crypto';
import { drilldownFor, type LinkBuilder } from './drilldown.ts';
import type { NotifyKind } from './lifecycle.ts';
import { alertText, alertTitle, where } from './message.ts';
import type { AlertNotification, AlertRule, AlertState, EventInput, EventKind, EventNotification, Severity } from './types.ts';

export interface AlertNotificationInput {
  rule: AlertRule;
  state: AlertState;
  kind: NotifyKind;
  now: number;
  /** How long a firing notification stays valid without a re-send (Alertmanager's endsAt). */
  validForMs: number;
  link?: LinkBuilder;
}

export function alertNotification(input: AlertNotificationInput): AlertNotification {
  const { rule, state: s, kind, now } = input;
  const c = rule.condition;
  const numbers = c.kind === 'threshold'
    ? { comparison: c.comparison, unit: c.unit, windowMs: c.windowMs }
    : c.kind === 'log_rate'
      ? { comparison: 'above' as const, unit: 'count' as const, windowMs: c.windowMs }
      : { comparison: 'above' as const, unit: 'ms' as const, windowMs: c.forMs };
  const notification: AlertNotification = {
    version: 1,
    id: randomUUID(),
    type: 'alert',
    status: kind === 'resolved' ? 'resolved' : 'firing',
    repeat: kind === 'repeat',
    at: now,
    title: alertTitle(rule, s, kind),
    text: alertText(rule, s, kind, now),
    severity: rule.severity,
    alert: {
      key: s.key,
      rule: rule.name,
      origin: s.ruleId.startsWith('global:') ? 'global' : 'app',
      app: s.app,
      env: s.env,
      kind: c.kind,
      value: s.value,
      threshold: s.threshold,
      ...numbers,
      since: s.activeSince,
      firedAt: s.firedAt,
      resolvedAt: s.resolvedAt,
      instances: s.members,
      scale: s.scale,
      ...(rule.runbook ? { runbook: rule.runbook } : {}),
    },
    drilldown: drilldownFor(rule, s, now, input.link),
  };
  if (kind !== 'resolved') notification.expiresAt = now + input.validForMs;
  return notification;
}

const FAILURES: readonly EventKind[] = ['pipeline.failed', 'deployment.failed', 'deployment.rolled_back'];

export function eventNotification(input: EventInput, now: number): EventNotification {
  const severity: Severity = input.severity ?? (FAILURES.includes(input.kind) ? 'warning' : 'info');
  const n: EventNotification = {
    version: 1,
    id: randomUUID(),
    type: 'event',
    kind: input.kind,
    at: now,
    app: input.app,
    title: input.title,
    text: input.text,
    severity,
  };
  if (input.env !== undefined) n.env = input.env;
  if (input.drilldown) n.drilldown = { ...input.drilldown };
  return n;
}

/** The one-line form used by chat notifiers for both kinds. */
export function headline(n: AlertNotification | EventNotification): string {
  return n.type === 'alert' ? n.title : `${n.title} (${where(n.app, n.env ?? '')})`;
}
