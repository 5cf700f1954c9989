// A notifier: where notifications go and in which shape. The outbox knows only this interface;
// the three built-in kinds differ just in the URL and the body they build.
import { SEVERITIES, type Notification, type Severity } from '../types.ts';
import { alertmanagerPayload } from './alertmanager.ts';
import { NOTIFIER_DEFAULTS, redactUrl, type NotifierConfig, type NotifierKind } from './config.ts';
import { postJson } from './http.ts';
import { slackPayload } from './slack.ts';
import { webhookPayload } from './webhook.ts';

export interface Notifier {
  readonly name: string;
  readonly kind: string;
  /** Where it sends, safe to show (no path, no credentials). */
  readonly target: string;
  accepts(n: Notification): boolean;
  /** Resolves when the receiver took it; throws DeliveryError (permanent or not) otherwise. */
  send(n: Notification, signal: AbortSignal): Promise<void>;
}

const PAYLOADS: Record<NotifierKind, (n: Notification) => unknown> = {
  webhook: webhookPayload,
  slack: slackPayload,
  alertmanager: alertmanagerPayload,
};

export function atLeast(severity: Severity, min: Severity): boolean {
  return SEVERITIES.indexOf(severity) >= SEVERITIES.indexOf(min);
}

export function createNotifier(config: NotifierConfig): Notifier {
  const build = PAYLOADS[config.kind];
  const url = config.kind === 'alertmanager' ? `${config.url.replace(/\/+$/, '')}/api/v2/alerts` : config.url;
  const minSeverity = config.minSeverity ?? NOTIFIER_DEFAULTS.minSeverity;
  // Alertmanager models alerts with a start and an end, not one-off events.
  const events = config.kind === 'alertmanager' ? false : (config.events ?? true);
  const timeoutMs = config.timeoutMs ?? NOTIFIER_DEFAULTS.timeoutMs;
  return {
    name: config.name,
    kind: config.kind,
    target: redactUrl(config.url),
    accepts: (n) => (n.type === 'alert' || events) && atLeast(n.severity, minSeverity),
    send: (n, signal) => postJson(url, build(n), { headers: config.headers, timeoutMs, signal }),
  };
}
