import { rmSync } from 'node:fs';
import path from 'node:path';
import type { Clock } from '../core/clock.ts';
import type { EventLog } from '../core/events.ts';
import type { Router } from '../router/router.ts';
import type { LocalDriver } from '../runtime/local/driver.ts';
import type { Store } from '../store/store.ts';
import type { Instance, LogLine, OpEvent, Run } from '../store/types.ts';
import { AlertEngine, createNotifier, type AlertingConfig, type AlertRule, type EventKind } from './alerts/index.ts';
import { instanceLabels, PLATFORM_FAMILIES, platformSamples, ROUTER_FAMILIES, routerSamples } from './collect.ts';
import { eventToRecord, LogStore, LogTailer } from './logs/index.ts';
import { MetricsStore, Scraper, type Family, type Sample, type ScrapeTarget } from './metrics/index.ts';
import { alertSources } from './sources.ts';

export interface ObservabilityOptions {
  dataDir: string;
  clock: Clock;
  store: Store;
  router: Router;
  driver: LocalDriver;
  events: EventLog;
  alerting?: AlertingConfig;
  /** How often router counters, process figures and platform figures are recorded. Default 5s. */
  collectIntervalMs?: number;
}

/** Operation events that also go out through the notifiers. */
const NOTIFY: Record<string, { kind: EventKind; title: string }> = {
  'run.failed': { kind: 'pipeline.failed', title: 'pipeline run failed' },
  'deployment.committed': { kind: 'deployment.succeeded', title: 'deployment succeeded' },
  'deployment.failed': { kind: 'deployment.failed', title: 'deployment failed' },
  'deployment.rolled_back': { kind: 'deployment.rolled_back', title: 'deployment rolled back' },
  'deployment.aborted': { kind: 'deployment.rolled_back', title: 'deployment aborted' },
  'deployment.paused': { kind: 'deployment.paused', title: 'deployment paused' },
};

/**
 * Logs, metrics and alerts, wired to the control plane: instance output is tailed into the log
 * store, router counters and process figures become metrics, and the alert engine reads both.
 */
export class Observability {
  readonly logs: LogStore;
  readonly metrics: MetricsStore;
  readonly alerts: AlertEngine;
  private readonly tailer: LogTailer;
  private readonly scraper: Scraper;
  private readonly o: ObservabilityOptions;
  private readonly lastRequest = new Map<string, number>();
  private readonly requestTotals = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(o: ObservabilityOptions) {
    this.o = o;
    this.logs = new LogStore({ file: path.join(o.dataDir, 'logs.db'), clock: o.clock });
    this.tailer = new LogTailer({ sink: this.logs, clock: o.clock });
    this.metrics = new MetricsStore({ file: path.join(o.dataDir, 'metrics.db'), clock: o.clock });
    this.scraper = new Scraper({ store: this.metrics, clock: o.clock });
    this.alerts = new AlertEngine({
      db: path.join(o.dataDir, 'alerts.db'),
      sources: alertSources({ store: o.store, metrics: this.metrics, logs: this.logs, clock: o.clock, lastRequest: this.lastRequest }),
      notifiers: (o.alerting?.notifiers ?? []).map(createNotifier),
      clock: o.clock,
      intervalMs: o.alerting?.intervalMs,
      repeatIntervalMs: o.alerting?.repeatIntervalMs,
      onError: (err) => console.error(`slipway: alert evaluation: ${err.message}`),
    });
    this.alerts.setGlobalRules(o.alerting?.rules ?? []);
    o.events.on('event', (e: OpEvent) => this.onEvent(e));
  }

  start(): void {
    this.metrics.startCompaction({ onError: (err) => console.error(`slipway: metrics compaction: ${err.message}`) });
    this.alerts.start();
    this.timer = setInterval(() => this.collect(), this.o.collectIntervalMs ?? 5000);
    this.timer.unref();
    this.collect();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.scraper.stop();
    await this.tailer.close();
    await this.alerts.close();
    await this.metrics.stopCompaction();
    this.metrics.close();
    await this.logs.close();
  }

  /** The rules of an app's newest slipway.yaml replace its previous ones. */
  setAppRules(app: string, rules: AlertRule[]): void {
    this.alerts.setAppRules(app, rules);
  }

  /** Pipeline step output, as it is produced. */
  runLine(run: Run, line: LogLine): void {
    // ingestLine parses JSON and logfmt output of build tools too, so their levels are searchable.
    this.logs.ingestLine(line.line, { app: run.app, source: 'pipeline', stream: line.stream, fields: { run: run.id, step: String(line.step) } }, line.ts);
  }

  private onEvent(e: OpEvent): void {
    this.logs.ingest([eventToRecord(e)]);
    const notify = NOTIFY[e.kind];
    if (notify && e.app) {
      const subject = e.deployment ?? (e.after as { run?: string } | null)?.run ?? e.app;
      this.alerts.notifyEvent({ kind: notify.kind, app: e.app, env: e.env ?? undefined, title: `${subject}: ${notify.title}`, text: e.message ?? notify.title });
    }
    if (e.kind === 'instance.stop.done' && e.instance) void this.retireInstance(e.instance);
    // Follow a new process's output at once, not at the next collection round: a line it prints
    // is searchable within a second.
    if ((e.kind === 'instance.start.done' || e.kind === 'instance.restarted' || e.kind === 'instance.adopted') && e.instance) {
      const i = this.o.store.getInstance(e.instance);
      if (i) this.follow(i);
    }
  }

  private follow(i: Instance): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      this.tailer.follow(this.o.driver.logFile(i.id, stream), { app: i.app, env: i.env, release: i.version, instance: i.id, source: 'instance', stream });
    }
  }

  /** Reads what a stopped instance wrote last, then removes its output files. */
  private async retireInstance(id: string): Promise<void> {
    for (const stream of ['stdout', 'stderr'] as const) await this.tailer.unfollow(this.o.driver.logFile(id, stream), { forget: true });
    rmSync(path.dirname(this.o.driver.logFile(id, 'stdout')), { recursive: true, force: true });
  }

  /** What the router and the platform know right now, as samples (Slipway's own GET /metrics). */
  currentSamples(): { samples: Sample[]; families: Family[] } {
    const { store, router, clock } = this.o;
    const now = clock.now();
    const live = store.liveInstances();
    const samples = [
      ...routerSamples(router.stats(), new Map(live.map((i) => [i.id, i])), now),
      ...platformSamples({ deployments: store.deploymentFigures(), runs: store.runFigures(), instances: live }, now),
    ].map((s) => ({ ...s, name: s.name.startsWith('slipway_') || s.name.startsWith('instance_') ? s.name : `slipway_router_${s.name}` }));
    const families = [...ROUTER_FAMILIES.map((f) => ({ ...f, name: `slipway_router_${f.name}` })), ...PLATFORM_FAMILIES];
    return { samples, families };
  }

  /** One collection round: follow instance output, scrape targets, record router and platform figures. */
  private collect(): void {
    const { store, router, clock } = this.o;
    const now = clock.now();
    const live = store.liveInstances().filter((i) => i.state !== 'stopping');
    const byId = new Map<string, Instance>(live.map((i) => [i.id, i]));
    const targets: ScrapeTarget[] = [];
    for (const i of live) {
      const labels = instanceLabels(i);
      this.follow(i);
      if (i.pid) targets.push({ pid: i.pid, labels, intervalMs: 15_000 });
      const metrics = store.getRelease(i.releaseId)?.config.metrics;
      if (metrics && i.state === 'running') targets.push({ url: `http://127.0.0.1:${i.port}${metrics.path}`, labels, intervalMs: metrics.intervalMs });
    }
    this.scraper.setTargets(targets);
    const stats = router.stats();
    for (const id of this.requestTotals.keys()) if (!byId.has(id)) this.requestTotals.delete(id);
    for (const s of stats) {
      const i = byId.get(s.id);
      if (!i) continue;
      const key = `${i.app}/${i.env}`;
      if (s.requests > (this.requestTotals.get(s.id) ?? 0)) this.lastRequest.set(key, now);
      this.requestTotals.set(s.id, s.requests);
    }
    this.metrics.ingest([
      ...routerSamples(stats, byId, now),
      ...platformSamples({ deployments: store.deploymentFigures(), runs: store.runFigures(), instances: live }, now),
    ], [...ROUTER_FAMILIES, ...PLATFORM_FAMILIES]);
  }
}
