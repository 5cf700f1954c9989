// Where to look next: every notification names a CLI command that shows the numbers behind it,
// and, when the server knows its dashboard's address, a link. Pure.
import type { AlertRule, Drilldown } from './types.ts';
import { sinceArg } from './units.ts';

export interface LinkContext {
  app: string;
  env: string; // '' for app-wide alerts
  rule: string;
  kind: AlertRule['condition']['kind'];
  metric?: string;
  event?: string;
  pattern?: string;
  sinceMs: number;
}

/** Supplied by the server (it knows the dashboard's routes); undefined = no link. */
export type LinkBuilder = (context: LinkContext) => string | undefined;

/** A word as a shell would need it: bare when safe, single-quoted otherwise. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

export function drilldownFor(rule: AlertRule, at: { app: string; env: string; activeSince: number }, now: number, link?: LinkBuilder): Drilldown {
  const c = rule.condition;
  const { app, env } = at;
  const envFlag = env === '' ? '' : ` --env ${shellQuote(env)}`;
  const ongoing = Math.max(0, now - at.activeSince);
  // Enough history to see the condition start and what came before it.
  const span = c.kind === 'absence' ? Math.max(2 * c.forMs, ongoing + c.forMs) : Math.max(3 * c.windowMs, ongoing + c.windowMs);
  const since = sinceArg(span);
  let command: string;
  const context: LinkContext = { app, env, rule: rule.name, kind: c.kind, sinceMs: span };
  if (c.kind === 'threshold') {
    command = `slipway metrics ${shellQuote(app)} ${shellQuote(c.metric)}${envFlag} --since ${since}`;
    context.metric = c.metric;
  } else if (c.kind === 'log_rate') {
    command = `slipway logs ${shellQuote(app)}${envFlag} --grep ${shellQuote(c.pattern)} --since ${since}`;
    context.pattern = c.pattern;
  } else {
    command = (env === '' ? c.drilldown.replace(/ --env \{env\}/g, '') : c.drilldown)
      .replaceAll('{app}', shellQuote(app))
      .replaceAll('{env}', shellQuote(env))
      .replaceAll('{since}', since);
    context.event = c.event;
  }
  const url = link?.(context);
  return url ? { command, url } : { command };
}
