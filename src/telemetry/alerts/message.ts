// The words of a notification: a title to scan and a text with the numbers behind it (value,
// threshold, window, since when), so the reader can judge before opening anything. Pure.
import type { AlertRule, AlertState } from './types.ts';
import { formatMs, formatValue } from './units.ts';
import type { NotifyKind } from './lifecycle.ts';

export function where(app: string, env: string): string {
  return env === '' ? app : `${app}/${env}`;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function alertTitle(rule: Pick<AlertRule, 'name' | 'severity'>, s: Pick<AlertState, 'app' | 'env'>, kind: NotifyKind): string {
  const label = kind === 'firing' ? 'FIRING' : kind === 'repeat' ? 'STILL FIRING' : 'RESOLVED';
  return `${label}: ${rule.name} (${rule.severity}) on ${where(s.app, s.env)}`;
}

export function alertText(rule: AlertRule, s: AlertState, kind: NotifyKind, now: number): string {
  const lines: string[] = [];
  if (rule.summary) lines.push(rule.summary);
  lines.push(measurement(rule, s));
  if (kind === 'resolved') {
    lines.push(`was firing from ${iso(s.firedAt ?? s.activeSince)} to ${iso(s.resolvedAt ?? now)} (${formatMs((s.resolvedAt ?? now) - (s.firedAt ?? s.activeSince))})`);
  } else {
    const firing = s.firedAt === null ? '' : `, firing since ${iso(s.firedAt)}`;
    lines.push(`condition true since ${iso(s.activeSince)} (${formatMs(now - s.activeSince)})${firing}`);
  }
  if (rule.runbook) lines.push(`runbook: ${rule.runbook}`);
  return lines.join('\n');
}

function measurement(rule: AlertRule, s: AlertState): string {
  const c = rule.condition;
  if (c.kind === 'threshold') {
    const base = formatValue(c.threshold, c.unit);
    const bound = `${c.comparison} ${formatValue(s.threshold, c.unit)}`;
    const scaled = s.scale === null ? '' : ` (${base} scaled ×${Number(s.scale.toPrecision(3))} during a deployment step)`;
    const who = s.members.length > 0 ? `; instances: ${s.members.join(', ')}` : '';
    return `${c.metric} = ${formatValue(s.value, c.unit)}, threshold ${bound}${scaled}, window ${formatMs(c.windowMs)}${who}`;
  }
  if (c.kind === 'log_rate') {
    return `${s.value} log line${s.value === 1 ? '' : 's'} matched ${JSON.stringify(c.pattern)} in the last ${formatMs(c.windowMs)} (alert above ${c.above})`;
  }
  const seen = s.lastSeen === null ? 'never seen' : `last seen ${iso(s.lastSeen)}`;
  const who = s.members.length > 0 ? `; missing for instances: ${s.members.join(', ')}` : '';
  return `no ${JSON.stringify(c.event)} for ${formatMs(s.value)} (alert after ${formatMs(c.forMs)}); ${seen}${who}`;
}
