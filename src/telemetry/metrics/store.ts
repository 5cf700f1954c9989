// The embedded metrics store: one SQLite file, three tiers (raw samples, 1-minute rollups,
// 1-hour rollups), structured range queries. This file wires the parts together; the SQL lives
// in catalog.ts, chunks.ts, reader.ts and compactor.ts, the query logic in plan.ts,
// evaluate.ts and aggregate.ts (pure).
//
// One MetricsStore per file per process: the series catalog and watermarks are cached in
// memory, so a second writer on the same file would go unnoticed.
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { systemClock, type Clock } from '../../core/clock.ts';
import { SlipwayError } from '../../core/errors.ts';
import { transaction } from '../../store/db.ts';
import { Aggregator, histogramQuantile, type Evaluated } from './aggregate.ts';
import { Catalog, type SeriesInfo } from './catalog.ts';
import { ChunkTable, TIER_1H, TIER_1M } from './chunks.ts';
import { Compactor, type CompactionConfig } from './compactor.ts';
import { evaluate, fieldsFor, nanArray } from './evaluate.ts';
import { compileMatchers, normalizeMatchers } from './labels.ts';
import { DAY, HOUR, MINUTE, planQuery, type Plan } from './plan.ts';
import { nap } from './nap.ts';
import { Reader } from './reader.ts';
import { stepTimes, toResultSeries } from './result.ts';
import { bucketOf } from './rollup.ts';
import { openMetricsDb } from './schema.ts';
import { closeMatches } from './suggest.ts';
import type { Family, Labels, Matcher, MetricQuery, QueryResult, Sample } from './types.ts';

export interface MetricsStoreOptions {
  /** The database file, e.g. `<dataDir>/metrics.db` (`:memory:` works for tests). */
  file: string;
  clock?: Clock;
  rawRetentionMs?: number; // default 6 h
  minuteRetentionMs?: number; // default 7 d
  hourRetentionMs?: number; // default 90 d
  /** How long after a minute ends it is rolled up; later samples for it are redone. Default 30 s. */
  compactionGraceMs?: number;
  /** Series per compaction step (default 1,000: ~50 ms of work); smaller keeps steps shorter. */
  compactionSeriesPerStep?: number;
}

export interface IngestResult {
  accepted: number;
  /** Samples older than raw retention (they could never be rolled up) or over an hour in the future. */
  dropped: number;
}

export interface InstantValue {
  labels: Labels;
  value: number;
}

export type InstantQuery = Omit<MetricQuery, 'start' | 'end' | 'since' | 'step'> & { at?: number };

const ROWS_PER_INSERT = 256; // multi-row INSERT: one statement call per 256 samples
const FUTURE_LIMIT_MS = HOUR;

export class MetricsStore {
  readonly clock: Clock;
  readonly config: CompactionConfig;
  private readonly db: DatabaseSync;
  private readonly catalog: Catalog;
  private readonly reader: Reader;
  private readonly compactor: Compactor;
  private readonly insertMany: StatementSync;
  private readonly insertOne: StatementSync;
  private readonly upsertFamily: StatementSync;
  private readonly familyCache = new Map<string, Family>();
  private readonly args = new Array<number>(ROWS_PER_INSERT * 3);
  private counters = { ingested: 0, dropped: 0 };
  private background?: { stop: () => void; done: Promise<void> };
  private closed = false;

  constructor(opts: MetricsStoreOptions) {
    this.clock = opts.clock ?? systemClock;
    this.config = {
      rawRetentionMs: opts.rawRetentionMs ?? 6 * HOUR,
      minuteRetentionMs: opts.minuteRetentionMs ?? 7 * DAY,
      hourRetentionMs: opts.hourRetentionMs ?? 90 * DAY,
      graceMs: opts.compactionGraceMs ?? 30_000,
      seriesPerStep: opts.compactionSeriesPerStep ?? 1_000,
    };
    const { rawRetentionMs, minuteRetentionMs, hourRetentionMs } = this.config;
    if (!(rawRetentionMs >= 2 * HOUR && minuteRetentionMs >= rawRetentionMs && hourRetentionMs >= minuteRetentionMs)) {
      // Rollups are built from the finer tier while it still has the data: raw must outlive the
      // 1-minute lag, 1-minute buckets the 1-hour lag, and each tier must keep at least as long.
      throw new SlipwayError('metrics.bad_retention', 'metrics retention must be raw ≥ 2h, 1-minute ≥ raw and 1-hour ≥ 1-minute', {
        hint: `got raw ${rawRetentionMs} ms, 1-minute ${minuteRetentionMs} ms, 1-hour ${hourRetentionMs} ms`,
      });
    }
    this.db = openMetricsDb(opts.file);
    this.catalog = new Catalog(this.db);
    const m1 = new ChunkTable(this.db, TIER_1M);
    const h1 = new ChunkTable(this.db, TIER_1H);
    this.reader = new Reader(this.db, m1, h1);
    this.compactor = new Compactor(this.db, this.catalog, m1, h1, this.config);
    this.insertMany = this.db.prepare(`INSERT OR REPLACE INTO raw (ts, series_id, value) VALUES ${Array(ROWS_PER_INSERT).fill('(?,?,?)').join(',')}`);
    this.insertOne = this.db.prepare('INSERT OR REPLACE INTO raw (ts, series_id, value) VALUES (?, ?, ?)');
    this.upsertFamily = this.db.prepare('INSERT OR REPLACE INTO families (name, type, help) VALUES (?, ?, ?)');
    for (const f of this.db.prepare('SELECT name, type, help FROM families').all() as { name: string; type: Family['type']; help: string | null }[]) {
      this.familyCache.set(f.name, { name: f.name, type: f.type, ...(f.help !== null ? { help: f.help } : {}) });
    }
  }

  /**
   * Stores samples in one transaction. Samples for minutes already rolled up are kept and the
   * minute is redone by compaction; samples too old to ever be rolled up are dropped (counted).
   */
  ingest(samples: readonly Sample[], families: readonly Family[] = []): IngestResult {
    const now = this.clock.now();
    const oldest = now - this.config.rawRetentionMs + MINUTE;
    const newest = now + FUTURE_LIMIT_MS;
    const wm = this.compactor.lateBefore();
    const late: [number, number][] = [];
    const created: number[] = [];
    const args = this.args;
    let accepted = 0;
    try {
      transaction(this.db, () => {
        let k = 0;
        for (const s of samples) {
          const ts = s.ts;
          if (!(ts >= oldest && ts <= newest)) continue;
          const id = this.catalog.idFor(s.name, s.labels, ts, created);
          args[k++] = ts;
          args[k++] = id;
          args[k++] = s.value;
          if (k === args.length) {
            this.insertMany.run(...args);
            k = 0;
          }
          if (ts <= wm) late.push([bucketOf(ts, MINUTE), id]); // its minute is rolled up already
          accepted++;
        }
        for (let i = 0; i < k; i += 3) this.insertOne.run(args[i], args[i + 1], args[i + 2]);
        this.compactor.markLate(late);
        for (const f of families) this.recordFamily(f);
      });
    } catch (err) {
      this.catalog.forget(created);
      for (const f of families) this.familyCache.delete(f.name);
      throw err;
    }
    const dropped = samples.length - accepted;
    this.counters.ingested += accepted;
    this.counters.dropped += dropped;
    return { accepted, dropped };
  }

  private recordFamily(f: Family): void {
    const known = this.familyCache.get(f.name);
    if (known && known.type === f.type && known.help === f.help) return;
    this.upsertFamily.run(f.name, f.type, f.help ?? null);
    this.familyCache.set(f.name, { ...f });
  }

  /** A range query; see MetricQuery. Throws SlipwayError for unknown metrics and bad parameters. */
  query(q: MetricQuery): QueryResult {
    const plan = planQuery(q, { now: this.clock.now(), ...this.config });
    const selected = this.select(plan);
    const ids = selected.map((s) => s.id);
    const wm = this.compactor.watermarks();
    const fields = fieldsFor(plan.fn);
    let list: Evaluated[] = [];
    if (plan.agg && plan.fn !== 'histogram_quantile') {
      // Fold each series in as it is evaluated, into one reused array.
      const aggregator = new Aggregator(plan.agg, plan.by, plan.stepCount);
      const scratch = nanArray(plan.stepCount);
      this.reader.each(ids, plan.resolution, plan.readFrom, plan.end, wm, fields, (i, b) => aggregator.add(selected[i].labels, evaluate(plan.fn, b, plan, scratch)));
      list = aggregator.result();
    } else {
      this.reader.each(ids, plan.resolution, plan.readFrom, plan.end, wm, fields, (i, b) => list.push({ labels: selected[i].labels, values: evaluate(plan.fn, b, plan) }));
      if (plan.fn === 'histogram_quantile') list = histogramQuantile(plan.quantile!, list, plan.by, plan.stepCount);
    }
    return {
      metric: plan.metric, fn: plan.fn,
      ...(plan.agg ? { agg: plan.agg } : {}),
      ...(plan.by.length ? { by: plan.by } : {}),
      ...(plan.quantile !== undefined ? { quantile: plan.quantile } : {}),
      resolution: plan.resolution, start: plan.start, end: plan.end, stepMs: plan.stepMs, windowMs: plan.windowMs,
      timestamps: stepTimes(plan.firstStep, plan.stepMs, plan.stepCount),
      series: toResultSeries(list),
    };
  }

  /** The value of an expression at one time (default now), e.g. for alert rules: one per label set. */
  instant(q: InstantQuery): InstantValue[] {
    const at = q.at ?? this.clock.now();
    return this.query({ ...q, start: at, end: at }).series.map((s) => ({ labels: s.labels, value: s.values[0] }));
  }

  /** Metric names with at least one series matching (e.g. `{ app: 'hello' }`), sorted. */
  metricNames(match: Labels | (Matcher | string)[] = {}): string[] {
    const matchers = Array.isArray(match) ? normalizeMatchers({}, match) : normalizeMatchers(match);
    return this.catalog.names(matchers.length ? compileMatchers(matchers) : undefined);
  }

  /** TYPE/HELP of the families seen in scrapes. */
  families(): Family[] {
    return [...this.familyCache.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Does compaction work for up to budgetMs; `more` says whether work remains. */
  compact(opts: { budgetMs?: number } = {}): { steps: string[]; more: boolean } {
    const budget = opts.budgetMs ?? 50;
    const started = performance.now();
    const steps: string[] = [];
    for (;;) {
      const did = this.compactor.step(this.clock.now());
      if (!did) return { steps, more: false };
      steps.push(did);
      if (performance.now() - started >= budget) return { steps, more: true };
    }
  }

  /**
   * Compacts in the background: small units with the event loop free in between, then a nap of
   * intervalMs (on the injected clock) once caught up.
   */
  startCompaction(opts: { intervalMs?: number; budgetMs?: number; onError?: (err: Error) => void } = {}): void {
    if (this.background || this.closed) return;
    let running = true;
    let wake: () => void = () => {};
    const stopped = new Promise<void>((resolve) => { wake = resolve; });
    const loop = async () => {
      while (running && !this.closed) {
        let more = false;
        try {
          more = this.compact({ budgetMs: opts.budgetMs ?? 20 }).more;
        } catch (err) {
          opts.onError?.(err as Error); // e.g. disk full: try again next interval
        }
        if (more) await new Promise((r) => setImmediate(r));
        else await nap(this.clock, this.clock.now() + (opts.intervalMs ?? 10_000), stopped, () => !running || this.closed);
      }
    };
    this.background = { stop: () => { running = false; wake(); }, done: loop() };
  }

  async stopCompaction(): Promise<void> {
    const bg = this.background;
    this.background = undefined;
    if (!bg) return;
    bg.stop();
    await bg.done;
  }

  stats(): { series: number; ingested: number; dropped: number; watermarks: { m1?: number; h1?: number } } {
    return { series: this.catalog.size, ...this.counters, watermarks: this.compactor.watermarks() };
  }

  close(): void {
    if (this.closed) return;
    this.background?.stop();
    this.background = undefined;
    this.closed = true;
    this.db.close();
  }

  /** The series a plan reads, or an error that says what exists instead. */
  private select(plan: Plan): SeriesInfo[] {
    const test = compileMatchers(plan.matchers);
    const selected = this.catalog.select(plan.seriesName, test);
    if (selected.length > 0) return selected;
    const all = this.catalog.series(plan.seriesName);
    if (all.length > 0) throw noSeries(plan, all);
    if (plan.fn === 'histogram_quantile' && this.catalog.series(plan.metric).length > 0) throw notHistogram(plan, this.catalog.series(plan.metric));
    throw this.unknownMetric(plan);
  }

  private unknownMetric(plan: Plan): SlipwayError {
    const histogram = plan.fn === 'histogram_quantile';
    const scope = plan.matchers.filter((m) => m.op === '=');
    let names = this.catalog.names(scope.length ? compileMatchers(scope) : undefined);
    const scoped = scope.length > 0 && names.length > 0;
    if (!scoped) names = this.catalog.names();
    if (histogram) names = names.filter((n) => n.endsWith('_bucket')).map((n) => n.slice(0, -'_bucket'.length));
    const what = histogram ? 'histogram' : 'metric';
    const suggestions = closeMatches(plan.metric, names);
    const listed = [...suggestions, ...names.filter((n) => !suggestions.includes(n))];
    const shown = listed.slice(0, 15).join(', ') + (listed.length > 15 ? ` and ${listed.length - 15} more` : '');
    const where = scoped ? ` for ${scope.map((m) => `${m.label}="${m.value}"`).join(', ')}` : '';
    const message = names.length === 0
      ? `no ${what} named "${plan.metric}"; no ${what}s have been recorded${scope.length ? ` for ${scope.map((m) => `${m.label}="${m.value}"`).join(', ')}` : ''} yet`
      : `no ${what} named "${plan.metric}"; known ${what}s${where}: ${shown}`;
    return new SlipwayError('metrics.unknown_metric', message, {
      status: 404,
      hint: suggestions.length ? `did you mean "${suggestions[0]}"?` : names.length ? 'metric names are case-sensitive; pick one of the known ones' : 'is the app exposing /metrics, and is it being scraped?',
      details: { known: names, suggestions },
    });
  }
}

/** The metric exists but no series passes the filters: say which filter and which values exist. */
function noSeries(plan: Plan, all: readonly SeriesInfo[]): SlipwayError {
  const failing = plan.matchers.find((m) => !all.some((s) => compileMatchers([m])(s.labels))) ?? plan.matchers[0];
  const values = [...new Set(all.map((s) => s.labels[failing.label]).filter((v) => v !== undefined))].sort();
  const shown = values.slice(0, 15).map((v) => JSON.stringify(v)).join(', ') + (values.length > 15 ? ` and ${values.length - 15} more` : '');
  return new SlipwayError('metrics.no_series', `metric "${plan.seriesName}" has no series with ${failing.label}${failing.op}${JSON.stringify(failing.value)}`, {
    status: 404,
    hint: values.length ? `${failing.label} values of "${plan.seriesName}": ${shown}` : `"${plan.seriesName}" has no "${failing.label}" label`,
    details: { label: failing.label, values },
  });
}

function notHistogram(plan: Plan, series: readonly SeriesInfo[]): SlipwayError {
  const summary = series.some((s) => s.labels.quantile !== undefined);
  return new SlipwayError('metrics.not_histogram', `"${plan.metric}" is not a histogram: there are no "${plan.metric}_bucket" series with an "le" label`, {
    hint: summary
      ? `"${plan.metric}" is a summary: its quantiles are precomputed; query it with fn raw and a quantile label filter, e.g. quantile=0.99`
      : 'histogram_quantile needs a Prometheus histogram (<name>_bucket series); use raw, rate or *_over_time for this metric',
  });
}
