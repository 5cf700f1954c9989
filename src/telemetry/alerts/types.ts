// The vocabulary of alerting: rules (what to watch), sources (what the engine asks the rest of
// the system), alert states (what it remembers) and notifications (what it tells people).
// Types only: every file in this folder reads them, none of them does anything.

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

// ---- what the engine needs from the rest of the system ----

export type MetricFn = 'rate' | 'raw' | 'ratio' | 'quantile';

export interface MetricQuery {
  metric: string;
  fn: MetricFn;
  window: number; // ms
  match: Record<string, string>;
  by: string[];
  quantile?: number;
  denominator?: string;
}

export interface Series {
  labels: Record<string, string>;
  value: number;
}

export interface DeploymentContext {
  /** Instance ids being drained or replaced right now: their instance-level alerts are suppressed. */
  drainingInstances: Set<string>;
  /** `${app}/${env}` → factor by which thresholds are relaxed while a deployment step runs there. */
  scaling: Map<string, number>;
}

/** An environment that has something deployed, i.e. something absence and log_rate rules can watch. */
export interface Target {
  app: string;
  env: string;
  /** Since when it has been deployed; an event that was never seen is counted as missing from here. */
  since?: number;
  instances: { id: string; startedAt: number }[];
}

export interface AlertSources {
  /** Current value(s) of a metric expression over a window, one per label set, e.g. error ratio per (app, env). */
  metric(q: MetricQuery): Promise<Series[]>;
  /** How many log lines matched in the window. */
  logCount(q: { pattern: string; window: number; match: Record<string, string> }): Promise<number>;
  /** When did `event` last happen for these labels (e.g. a successful run, a request, an instance report)? null = never. */
  lastSeen(q: { event: string; match: Record<string, string> }): Promise<number | null>;
  /** Instances being drained/replaced by a deployment, and environments with a deployment step in progress. */
  deployments(): Promise<DeploymentContext>;
  /** Environments with a release and their instances (absence and log_rate rules have no series to start from). */
  targets(): Promise<Target[]>;
}

// ---- rules ----

/** How a value is written in slipway.yaml and shown in messages. */
export type Unit = 'ratio' | 'ms' | 'per_second' | 'bytes' | 'count';

/** What one alert (one group) is about: a whole app, one environment, or the instances of one environment. */
export type Scope = 'app' | 'environment' | 'instance';

export interface ThresholdCondition {
  kind: 'threshold';
  metric: string; // the user-facing name (error_rate), also used for drill-down
  query: Pick<MetricQuery, 'metric' | 'fn' | 'quantile' | 'denominator'>;
  unit: Unit;
  scope: 'environment' | 'instance';
  comparison: 'above' | 'below';
  threshold: number;
  windowMs: number;
}

export interface AbsenceCondition {
  kind: 'absence';
  event: string;
  scope: Scope;
  forMs: number; // how long without the event counts as missing
  drilldown: string; // command template from the event catalog ({app}, {env}, {since})
}

export interface LogRateCondition {
  kind: 'log_rate';
  pattern: string;
  above: number; // more than this many matching lines…
  windowMs: number; // …within this window
}

export type Condition = ThresholdCondition | AbsenceCondition | LogRateCondition;

export interface AlertRule {
  name: string;
  condition: Condition;
  forMs: number; // how long the condition must hold before pending becomes firing; 0 = at once
  severity: Severity;
  environments: string[] | null; // null: every environment
  summary?: string;
  runbook?: string;
  /** Threshold rules only: relax the threshold by the deployment's factor instead of alerting on expected load shifts. */
  scaleDuringDeploy: boolean;
}

// ---- what the engine remembers ----

export type AlertStateName = 'pending' | 'firing' | 'resolved';

/** What one evaluation found for one group (app, env, rule). */
export interface Observation {
  app: string;
  env: string; // '' for app-scoped rules (e.g. "no successful run")
  active: boolean;
  value: number; // the worst value among members; for absence: how long the event has been missing (ms)
  threshold: number; // effective (possibly scaled) threshold
  members: string[]; // instances that breach, for instance-scoped rules
  scale: number | null; // deployment factor applied to the threshold, if any
  lastSeen?: number | null; // absence: when the event last happened (null = never)
  suppressed?: string[]; // instances left out because they are being drained
}

export interface AlertState {
  key: string; // one per (rule, app, env): the unit of deduplication
  ruleId: string;
  rule: string;
  app: string;
  env: string;
  severity: Severity;
  state: AlertStateName;
  activeSince: number; // when the condition started to hold (pending began)
  firedAt: number | null;
  resolvedAt: number | null;
  lastEvalAt: number;
  notifiedAt: number | null; // last firing/repeat notification of this episode; null = none sent
  silencedBy: string | null;
  value: number;
  threshold: number;
  members: string[];
  scale: number | null;
  lastSeen: number | null;
}

// ---- notifications ----

export interface Drilldown {
  command: string; // a CLI command that shows the numbers behind the alert
  url?: string;
}

export interface AlertNotification {
  version: 1;
  id: string;
  type: 'alert';
  status: 'firing' | 'resolved';
  repeat: boolean; // a reminder for an alert that is still firing
  at: number;
  title: string;
  text: string;
  severity: Severity;
  alert: {
    key: string;
    rule: string;
    origin: 'global' | 'app'; // a server-wide rule or one from the app's slipway.yaml
    app: string;
    env: string;
    kind: Condition['kind'];
    value: number;
    threshold: number;
    comparison: 'above' | 'below';
    unit: Unit;
    windowMs: number;
    since: number; // when the condition started to hold
    firedAt: number | null;
    resolvedAt: number | null;
    instances: string[];
    scale: number | null;
    runbook?: string;
  };
  drilldown: Drilldown;
  /** Firing only: slipway re-sends before this if still firing (Alertmanager's endsAt). */
  expiresAt?: number;
}

export const EVENT_KINDS = [
  'pipeline.failed',
  'pipeline.succeeded',
  'deployment.succeeded',
  'deployment.failed',
  'deployment.rolled_back',
  'deployment.paused',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export interface EventInput {
  kind: EventKind;
  app: string;
  env?: string;
  title: string;
  text: string;
  severity?: Severity; // default: info for successes, warning for failures and rollbacks
  drilldown?: Partial<Drilldown>;
}

export interface EventNotification {
  version: 1;
  id: string;
  type: 'event';
  kind: EventKind;
  at: number;
  app: string;
  env?: string;
  title: string;
  text: string;
  severity: Severity;
  drilldown?: Partial<Drilldown>;
}

export type Notification = AlertNotification | EventNotification;

/** A rule as the engine holds it: global rules (app null) apply to every app. */
export interface RuleEntry {
  id: string; // "global:<name>" or "app:<app>:<name>"
  app: string | null;
  rule: AlertRule;
}

// ---- silences ----

/** Which alerts a silence covers: every given field must equal the alert's; at least one is given. */
export interface SilenceMatchers {
  app?: string;
  env?: string;
  rule?: string;
}

export interface Silence {
  id: string;
  matchers: SilenceMatchers;
  startsAt: number;
  endsAt: number; // moved to the expiry time when expired early
  comment: string;
  createdBy: string;
  createdAt: number;
  expiredBy: string | null; // who ended it early, if anyone
}
