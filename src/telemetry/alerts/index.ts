// Alerting's public surface, for the server, the API and the spec to import from one place.
export type {
  AlertNotification, AlertRule, AlertSources, AlertState, AlertStateName, Condition, DeploymentContext, Drilldown,
  EventInput, EventKind, EventNotification, MetricQuery, Notification, Observation, Series, Severity, Silence,
  SilenceMatchers, Target, Unit,
} from './types.ts';
export { EVENT_KINDS, SEVERITIES } from './types.ts';
export { DEFAULT_EVENTS, DEFAULT_METRICS, type EventCatalog, type EventDef, type MetricCatalog, type MetricDef } from './catalog.ts';
export { parseAlertRules, readAlertRules, RULE_DEFAULTS, RULE_KEYS, type RuleReadOptions } from './rules-read.ts';
export { ALERTING_DEFAULTS, parseAlertingConfig, readAlertingConfig, type AlertingConfig } from './config-read.ts';
export { AlertEngine, type AlertEngineOptions, type AlertView, type AlertingStatus, type EvaluationResult } from './engine.ts';
export { Silences, type SilenceInput, type SilenceStatus } from './silences.ts';
export { Outbox, DELIVERY_DEFAULTS, backoffMs, type DeliveryPolicy, type NotifierStatus } from './outbox.ts';
export { AlertStore } from './store.ts';
export { createNotifier, type Notifier } from './notifiers/notifier.ts';
export { NOTIFIER_KINDS, type NotifierConfig, type NotifierKind } from './notifiers/config.ts';
export { DeliveryError } from './notifiers/http.ts';
export type { LinkBuilder, LinkContext } from './drilldown.ts';
