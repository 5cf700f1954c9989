// Test doubles for alerting: a clock moved by hand, sources whose answers a test sets, a
// notifier that records, and a real loopback HTTP receiver whose answers a test scripts.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DatabaseSync } from 'node:sqlite';
import type { TestContext } from 'node:test';
import type { Clock } from '../../../src/core/clock.ts';
import { AlertEngine, type AlertEngineOptions } from '../../../src/telemetry/alerts/engine.ts';
import type { Notifier } from '../../../src/telemetry/alerts/notifiers/notifier.ts';
import { parseAlertRules } from '../../../src/telemetry/alerts/rules-read.ts';
import type { AlertRule, AlertSources, MetricQuery, Notification, Series, Target } from '../../../src/telemetry/alerts/types.ts';

export const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
export const SEC = 1000;
export const MIN = 60_000;

export class ManualClock implements Clock {
  t: number;
  constructor(t = T0) { this.t = t; }
  now(): number { return this.t; }
  async sleep(ms: number): Promise<void> { this.t += ms; }
  advance(ms: number): void { this.t += ms; }
}

/** Sources answering from plain fields; every question asked is recorded. */
export class FakeSources implements AlertSources {
  series = new Map<string, Series[]>(); // by underlying metric name
  logs = new Map<string, number>(); // `${app}/${env}` → matching lines
  seen = new Map<string, number>(); // JSON of match → last time
  draining = new Set<string>();
  scaling = new Map<string, number>();
  targetList: Target[] = [];
  queries: MetricQuery[] = [];
  fail: string | null = null;

  async metric(q: MetricQuery): Promise<Series[]> {
    if (this.fail) throw new Error(this.fail);
    this.queries.push(q);
    return (this.series.get(q.metric) ?? []).filter((s) => Object.entries(q.match).every(([k, v]) => s.labels[k] === v));
  }
  async logCount(q: { pattern: string; window: number; match: Record<string, string> }): Promise<number> {
    return this.logs.get(`${q.match.app}/${q.match.env}`) ?? 0;
  }
  async lastSeen(q: { event: string; match: Record<string, string> }): Promise<number | null> {
    return this.seen.get(`${q.event} ${JSON.stringify(q.match)}`) ?? null;
  }
  async deployments() {
    return { drainingInstances: new Set(this.draining), scaling: new Map(this.scaling) };
  }
  async targets(): Promise<Target[]> {
    return this.targetList;
  }
  /** Sets one series value for (app, env[, instance]) of an underlying metric. */
  set(metric: string, labels: Record<string, string>, value: number): void {
    const list = (this.series.get(metric) ?? []).filter((s) => JSON.stringify(s.labels) !== JSON.stringify(labels));
    list.push({ labels, value });
    this.series.set(metric, list);
  }
  clear(metric: string): void {
    this.series.delete(metric);
  }
  markSeen(event: string, match: Record<string, string>, at: number): void {
    this.seen.set(`${event} ${JSON.stringify(match)}`, at);
  }
}

export class RecordingNotifier implements Notifier {
  readonly name: string;
  readonly kind = 'memory';
  readonly target = 'memory';
  readonly sent: Notification[] = [];
  filter: (n: Notification) => boolean = () => true;
  constructor(name = 'memory') { this.name = name; }
  accepts(n: Notification): boolean { return this.filter(n); }
  async send(n: Notification): Promise<void> { this.sent.push(n); }
}

export function rules(yaml: string): AlertRule[] {
  return parseAlertRules(yaml, 'test.yaml');
}

export interface Harness {
  engine: AlertEngine;
  clock: ManualClock;
  sources: FakeSources;
  notifier: RecordingNotifier;
  db: DatabaseSync;
  /** Evaluate, deliver, and return what was delivered by this step. */
  tick(): Promise<Notification[]>;
}

export function harness(t: TestContext, opts: Partial<AlertEngineOptions> = {}): Harness {
  const clock = new ManualClock();
  const sources = new FakeSources();
  const notifier = new RecordingNotifier();
  const db = (opts.db as DatabaseSync | undefined) ?? new DatabaseSync(':memory:');
  const engine = new AlertEngine({ db, sources, clock, notifiers: [notifier], intervalMs: 15 * SEC, ...opts });
  t.after(() => engine.close());
  return {
    engine, clock, sources, notifier, db,
    async tick() {
      const before = notifier.sent.length;
      await engine.evaluate();
      await engine.outbox.deliverDue();
      return notifier.sent.slice(before);
    },
  };
}

// ---- a real HTTP receiver on a free loopback port ----

export interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  at: number;
}

export interface Receiver {
  url: string;
  port: number;
  requests: Received[];
  /** Status codes to answer with, in order; once used up, 200. */
  script: number[];
  close(): Promise<void>;
}

export async function receiver(t: TestContext, port = 0): Promise<Receiver> {
  const state: Receiver = { url: '', port: 0, requests: [], script: [], close: async () => undefined };
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      let parsed: unknown = body;
      try { parsed = JSON.parse(body); } catch { /* kept as text */ }
      state.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: parsed, at: Date.now() });
      const status = state.script.shift() ?? 200;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : `scripted ${status}`);
    });
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', resolve); });
  state.port = (server.address() as AddressInfo).port;
  state.url = `http://127.0.0.1:${state.port}/hook/secret-token`;
  let closed = false;
  state.close = async () => {
    if (closed) return;
    closed = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  t.after(() => state.close());
  return state;
}
