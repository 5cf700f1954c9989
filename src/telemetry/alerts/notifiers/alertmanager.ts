// Alertmanager API v2 (POST /api/v2/alerts): alerts as label sets with a start and an end.
// Alertmanager deduplicates by labels, so the labels are exactly the grouping key (rule, app,
// env) plus severity; everything that changes between evaluations goes into annotations.
//
// A firing alert carries endsAt = the notification's expiresAt: slipway re-sends before then
// while it keeps firing (repeat interval), and if slipway goes away the alert lapses rather
// than firing forever. A resolved one carries endsAt = when it resolved.
import { formatMs, formatValue } from '../units.ts';
import type { Notification } from '../types.ts';

export interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  generatorURL?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function alertmanagerPayload(n: Notification): AlertmanagerAlert[] {
  // The notifier does not accept events; an empty list is a harmless no-op if one slips through.
  if (n.type !== 'alert') return [];
  const a = n.alert;
  const labels: Record<string, string> = { alertname: a.rule, app: a.app, severity: n.severity, origin: a.origin, source: 'slipway' };
  // An empty label value means "no label" to Alertmanager; app-wide alerts simply have no env.
  if (a.env !== '') labels.env = a.env;
  const annotations: Record<string, string> = {
    summary: n.title,
    description: n.text,
    value: formatValue(a.value, a.unit),
    threshold: `${a.comparison} ${formatValue(a.threshold, a.unit)}`,
    window: formatMs(a.windowMs),
    since: iso(a.since),
    drilldown: n.drilldown.command,
  };
  if (a.instances.length > 0) annotations.instances = a.instances.join(', ');
  if (a.runbook) annotations.runbook = a.runbook;
  const alert: AlertmanagerAlert = {
    labels,
    annotations,
    startsAt: iso(a.since),
    endsAt: iso(n.status === 'resolved' ? (a.resolvedAt ?? n.at) : (n.expiresAt ?? n.at)),
  };
  if (n.drilldown.url) alert.generatorURL = n.drilldown.url;
  return [alert];
}
