// What a notifier is configured with. Lives apart from the implementations so the config reader
// and the notifiers depend on it, not on each other.
import type { Severity } from '../types.ts';

export const NOTIFIER_KINDS = ['webhook', 'slack', 'alertmanager'] as const;
export type NotifierKind = (typeof NOTIFIER_KINDS)[number];

export interface NotifierConfig {
  name: string;
  kind: NotifierKind;
  /** webhook/slack: the URL to POST to; alertmanager: its base URL (…/api/v2/alerts is appended). */
  url: string;
  headers?: Record<string, string>;
  /** Notifications below this severity are not sent here; default info (everything). */
  minSeverity?: Severity;
  /** Also send pipeline and deployment events (notifyEvent); default true. Alertmanager takes alerts only. */
  events?: boolean;
  /** Per request; default 10s. */
  timeoutMs?: number;
}

export const NOTIFIER_DEFAULTS = {
  timeoutMs: 10_000,
  minSeverity: 'info' as Severity,
};

/** Scheme and host only: webhook URLs (Slack's especially) carry their secret in the path. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    const hasMore = (u.pathname !== '/' && u.pathname !== '') || u.search !== '';
    return `${u.protocol}//${u.host}${hasMore ? '/…' : ''}`;
  } catch {
    return '(invalid URL)';
  }
}
