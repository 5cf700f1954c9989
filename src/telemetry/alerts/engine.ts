// The alert engine: every interval, ask the sources what each rule needs, step every alert
// through its lifecycle, and queue the notifications that follow, all in one transaction.
// Alerts are deduplicated by (rule, app, env): however many series or instances breach, there
// is one alert per group, and it notifies on state changes and on the repeat interval only.
import type { DatabaseSync } from 'node:sqlite';
import { systemClock, type Clock } from '../../core/clock.ts';
import { SlipwayError } from '../../core/errors.ts';
import { ALERTING_DEFAULTS } from './config-read.ts';
import { drilldownFor, type LinkBuilder } from './drilldown.ts';
import { step, type NotifyKind } from './lifecycle.ts';
import { alertNotification } from './notification.ts';
import type { Notifier } from './notifiers/notifier.ts';
import { observe, type Round } from './observe.ts';
import { Outbox, type DeliveryPolicy, type NotifierStatus } from './outbox.ts';
import { Silences, findSilence } from './silences.ts';
import { AlertStore, type StoredAlert } from './store.ts';
import type {
  AlertRule, AlertSources, AlertState, AlertStateName, Drilldown, EventInput, EventNotification, Observation, RuleEntry, Silence, Target,
} from './types.ts';

export interface AlertEngineOptions {
  /** The server's database (tables are prefixed alert_), a path to a file of its own, or a store. */
  db: DatabaseSync | string | AlertStore;
  sources: AlertSources;
  notifiers?: Notifier[];
  clock?: Clock;
  intervalMs?: number; // default 15s
  repeatIntervalMs?: number; // default 4h
  /** Longest wait for one rule's answers; default: the interval. */
  queryTimeoutMs?: number;
  /** How long resolved alerts stay listed; default 24h. */
  keepResolvedMs?: number;
  /** Builds dashboard links for drill-downs; default none (CLI commands only). */
  link?: LinkBuilder;
  delivery?: Partial<DeliveryPolicy>;
  /** Evaluation problems (a source failing), e.g. to log them; status() has them too. */
  onError?: (error: Error) => void;
}

export interface AlertView extends AlertState {
  silenced: boolean;
  kind: AlertRule['condition']['kind'];
  drilldown: Drilldown;
}

export interface EvaluationResult {
  at: number;
  durationMs: number;
  transitions: { key: string; from: AlertStateName | 'inactive'; to: AlertStateName | 'inactive' }[];
  notifications: { key: string; kind: NotifyKind; queued: number }[];
  errors: { rule: string; message: string }[];
}

export interface AlertingStatus {
  intervalMs: number;
  repeatIntervalMs: number;
  running: boolean;
  lastEvaluation: { at: number; durationMs: number; errors: { rule: string; message: string }[] } | null;
  alerts: { pending: number; firing: number; silenced: number; resolved: number };
  rules: number;
  silences: number;
  notifiers: NotifierStatus[];
}

const DEFAULT_KEEP_RESOLVED_MS = 24 * 3_600_000;

export const groupKey = (ruleId: string, app: string, env: string) => `${ruleId}/${app}/${env}`;

export class AlertEngine {
  readonly silences: Silences;
  readonly outbox: Outbox;
  private readonly store: AlertStore;
  private readonly sources: AlertSources;
  private readonly clock: Clock;
  private readonly intervalMs: number;
  private readonly repeatIntervalMs: number;
  private readonly queryTimeoutMs: number;
  private readonly keepResolvedMs: number;
  private readonly link?: LinkBuilder;
  private readonly onError?: (error: Error) => void;
  private readonly rules = new Map<string, RuleEntry>();
  // Rule scopes whose rules have been declared: alerts of other scopes are left alone, so an app
  // whose slipway.yaml is not loaded yet after a restart does not see its alerts resolved.
  private readonly declared = new Set<string>();
  private readonly watchingSince: number;
  private evaluating: Promise<EvaluationResult> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private last: AlertingStatus['lastEvaluation'] = null;

  constructor(opts: AlertEngineOptions) {
    this.store = opts.db instanceof AlertStore ? opts.db : new AlertStore(opts.db);
    this.sources = opts.sources;
    this.clock = opts.clock ?? systemClock;
    this.intervalMs = positive(opts.intervalMs, ALERTING_DEFAULTS.intervalMs, 'intervalMs');
    this.repeatIntervalMs = positive(opts.repeatIntervalMs, ALERTING_DEFAULTS.repeatIntervalMs, 'repeatIntervalMs');
    this.queryTimeoutMs = positive(opts.queryTimeoutMs, this.intervalMs, 'queryTimeoutMs');
    this.keepResolvedMs = opts.keepResolvedMs ?? DEFAULT_KEEP_RESOLVED_MS;
    if (opts.link) this.link = opts.link;
    if (opts.onError) this.onError = opts.onError;
    this.silences = new Silences(this.store, this.clock);
    this.outbox = new Outbox({
      store: this.store, notifiers: opts.notifiers ?? [], clock: this.clock, policy: opts.delivery ?? {},
      ...(opts.onError ? { onError: (name: string, err: Error) => opts.onError!(new Error(`notifier ${name}: ${err.message}`)) } : {}),
    });
    this.watchingSince = this.clock.now();
  }

  // ---- rules ----

  /** Server-wide rules, applied to every app. Replaces the previous set. */
  setGlobalRules(rules: AlertRule[]): void {
    this.replaceRules('global:', null, rules);
  }

  /** An app's rules from its slipway.yaml. Replaces the previous set (an empty list removes them). */
  setAppRules(app: string, rules: AlertRule[]): void {
    this.replaceRules(`app:${app}:`, app, rules);
  }

  /**
   * The app is gone: its own rules go and their alerts resolve at the next evaluation. Alerts
   * from global rules resolve by themselves once the app's series and targets disappear.
   */
  removeApp(app: string): void {
    this.replaceRules(`app:${app}:`, app, []);
  }

  private replaceRules(prefix: string, app: string | null, rules: AlertRule[]): void {
    const names = new Set<string>();
    for (const rule of rules) {
      if (names.has(rule.name)) throw new SlipwayError('alerts.duplicate_rule', `two alert rules are named "${rule.name}"`, { hint: 'rule names must be unique' });
      names.add(rule.name);
    }
    for (const id of [...this.rules.keys()]) if (id.startsWith(prefix)) this.rules.delete(id);
    for (const rule of rules) this.rules.set(`${prefix}${rule.name}`, { id: `${prefix}${rule.name}`, app, rule });
    this.declared.add(prefix);
  }

  // ---- evaluation ----

  start(): void {
    if (this.running) return;
    this.running = true;
    this.outbox.start();
    const tick = async () => {
      this.timer = null;
      await this.evaluate().catch((err: Error) => this.onError?.(err));
      if (this.running) {
        this.timer = setTimeout(tick, this.intervalMs);
        this.timer.unref();
      }
    };
    this.timer = setTimeout(tick, 0);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.evaluating?.catch(() => undefined);
    await this.outbox.stop();
  }

  /** stop(), then close the database if the engine opened it. */
  async close(): Promise<void> {
    await this.stop();
    this.store.close();
  }

  /** One evaluation round. Concurrent calls share the round in progress. */
  evaluate(): Promise<EvaluationResult> {
    if (!this.evaluating) {
      this.evaluating = this.round().finally(() => { this.evaluating = null; });
    }
    return this.evaluating;
  }

  private async round(): Promise<EvaluationResult> {
    const started = this.clock.now();
    const result: EvaluationResult = { at: started, durationMs: 0, transitions: [], notifications: [], errors: [] };
    const entries = [...this.rules.values()];
    const answers = new Map<string, Observation[]>();
    let failed: Error | null = null;
    try {
      // Without the deployment context, drained instances would alert: skip the round instead.
      // No rules, no questions (removed rules' alerts still resolve below).
      const deployments = entries.length === 0
        ? { drainingInstances: new Set<string>(), scaling: new Map<string, number>() }
        : await this.timed(this.sources.deployments(), 'deployments()');
      let targets: Promise<Target[]> | null = null;
      const round: Round = {
        now: started,
        deployments,
        targets: () => (targets ??= this.timed(this.sources.targets(), 'targets()')),
        watchingSince: this.watchingSince,
      };
      await Promise.all(entries.map(async (entry) => {
        try {
          answers.set(entry.id, await this.timed(observe(entry, this.sources, round), entry.id));
        } catch (err) {
          result.errors.push({ rule: entry.id, message: (err as Error).message });
          this.onError?.(err as Error);
        }
      }));
    } catch (err) {
      failed = err as Error;
      result.errors.push({ rule: '*', message: failed.message });
      this.onError?.(failed);
    }
    if (!failed) this.apply(entries, answers, started, result);
    result.durationMs = this.clock.now() - started;
    this.last = { at: started, durationMs: result.durationMs, errors: result.errors };
    this.outbox.kick();
    return result;
  }

  // Every state change and the notifications it causes are written together: after a crash
  // either both happened or neither did.
  private apply(entries: RuleEntry[], answers: Map<string, Observation[]>, now: number, result: EvaluationResult): void {
    const silences = this.silences.current();
    const known = new Map(this.store.alerts().map((a) => [a.state.key, a]));
    this.store.transaction(() => {
      for (const entry of entries) {
        const observations = answers.get(entry.id);
        // A rule whose sources failed keeps its alerts exactly as they were.
        if (!observations) continue;
        const seen = new Map(observations.map((o) => [groupKey(entry.id, o.app, o.env), o]));
        const keys = new Set([...seen.keys(), ...[...known.values()].filter((a) => a.state.ruleId === entry.id).map((a) => a.state.key)]);
        for (const key of keys) {
          const prev = known.get(key)?.state;
          const obs = seen.get(key);
          this.advance(entry.rule, entry.id, key, prev, obs, { app: obs?.app ?? prev!.app, env: obs?.env ?? prev!.env }, silences, now, result);
        }
      }
      // Alerts of rules that were removed resolve (and say so if they had been announced).
      for (const { state, rule } of known.values()) {
        if (this.rules.has(state.ruleId) || !this.isDeclared(state.ruleId)) continue;
        this.advance(rule, state.ruleId, state.key, state, undefined, state, silences, now, result);
        this.store.deleteAlert(state.key);
      }
      this.silences.prune();
    });
  }

  private advance(rule: AlertRule, ruleId: string, key: string, prev: AlertState | undefined, obs: Observation | undefined,
    group: { app: string; env: string }, silences: Silence[], now: number, result: EvaluationResult): void {
    const silence = findSilence(silences, { app: group.app, env: group.env, rule: rule.name }, now);
    const { next, notify } = step({
      prev, obs, rule, ruleId, key, app: group.app, env: group.env, now,
      repeatMs: this.repeatIntervalMs, silencedBy: silence?.id ?? null, keepResolvedMs: this.keepResolvedMs,
    });
    const from = prev?.state ?? 'inactive';
    const to = next?.state ?? 'inactive';
    if (from !== to) result.transitions.push({ key, from, to });
    if (next) this.store.putAlert(next, rule);
    else if (prev) this.store.deleteAlert(key);
    if (notify && next) {
      const n = alertNotification({ rule, state: next, kind: notify, now, validForMs: this.repeatIntervalMs + 3 * this.intervalMs, ...(this.link ? { link: this.link } : {}) });
      result.notifications.push({ key, kind: notify, queued: this.outbox.enqueue(n) });
    }
  }

  private isDeclared(ruleId: string): boolean {
    for (const prefix of this.declared) if (ruleId.startsWith(prefix)) return true;
    return false;
  }

  private timed<T>(promise: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${this.queryTimeoutMs}ms`)), this.queryTimeoutMs);
      timer.unref();
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  // ---- reading ----

  /** Current alerts (pending, firing, recently resolved), newest problems first. */
  alerts(filter: { app?: string; env?: string; state?: AlertStateName } = {}): AlertView[] {
    const now = this.clock.now();
    const silences = this.silences.current();
    const order: Record<AlertStateName, number> = { firing: 0, pending: 1, resolved: 2 };
    return this.store.alerts()
      .filter(({ state: s }) => (filter.app === undefined || s.app === filter.app) && (filter.env === undefined || s.env === filter.env)
        && (filter.state === undefined || s.state === filter.state))
      .map((stored) => this.view(stored, silences, now))
      .sort((a, b) => order[a.state] - order[b.state] || b.activeSince - a.activeSince);
  }

  // Silences are matched live, so one created a second ago already shows.
  private view({ state, rule }: StoredAlert, silences: Silence[], now: number): AlertView {
    const silence = findSilence(silences, { app: state.app, env: state.env, rule: state.rule }, now);
    return {
      ...state,
      silencedBy: silence?.id ?? null,
      silenced: silence !== undefined,
      kind: rule.condition.kind,
      drilldown: drilldownFor(rule, state, now, this.link),
    };
  }

  /** Pipeline and deployment outcomes through the same notifiers (see Outbox.notifyEvent). */
  notifyEvent(input: EventInput): EventNotification {
    return this.outbox.notifyEvent(input);
  }

  status(): AlertingStatus {
    const alerts = this.alerts();
    const count = (state: AlertStateName) => alerts.filter((a) => a.state === state).length;
    return {
      intervalMs: this.intervalMs,
      repeatIntervalMs: this.repeatIntervalMs,
      running: this.running,
      lastEvaluation: this.last,
      alerts: { pending: count('pending'), firing: count('firing'), resolved: count('resolved'), silenced: alerts.filter((a) => a.silenced && a.state !== 'resolved').length },
      rules: this.rules.size,
      silences: this.silences.list().length,
      notifiers: this.outbox.status(),
    };
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new SlipwayError('alerts.bad_option', `${name} must be a positive number of milliseconds`, { status: 500 });
  return value;
}
