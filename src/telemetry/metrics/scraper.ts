// Scrapes targets on their interval and feeds the store: HTTP /metrics endpoints (Prometheus
// text format) and processes sampled from /proc. Like Prometheus, every scrape also records
// `up` (1 or 0), `scrape_duration_seconds` and `scrape_samples_scraped` with the target's
// labels, so a failing target shows up in queries instead of as silence; failures are also
// counted per target (`scrape_failures_total`, and health()).
//
// The schedule and sample timestamps follow the injected Clock; the HTTP timeout is real time
// (it bounds a real network wait).
import { systemClock, type Clock } from '../../core/clock.ts';
import { parseExpositionFamilies } from './exposition.ts';
import { canonicalLabels } from './labels.ts';
import { nap } from './nap.ts';
import { sampleProcess } from './process.ts';
import type { Family, Labels, Sample } from './types.ts';

export interface HttpTarget {
  url: string;
  /** Added to every sample: app, env, release, instance. */
  labels: Labels;
  intervalMs?: number; // default 15 s
  timeoutMs?: number; // default 10 s, at most the interval
}

export interface ProcessTarget {
  pid: number;
  labels: Labels;
  intervalMs?: number;
}

export type ScrapeTarget = HttpTarget | ProcessTarget;

export interface TargetHealth {
  target: string; // the URL, or pid:<n>
  labels: Labels;
  up: boolean;
  lastScrape?: number;
  lastDurationMs?: number;
  lastError?: string;
  samples: number; // in the last scrape
  scrapes: number;
  failures: number;
}

/** The part of MetricsStore the scraper needs (tests pass a fake). */
export interface SampleSink {
  ingest(samples: Sample[], families?: Family[]): unknown;
}

export interface ScraperOptions {
  store: SampleSink;
  clock?: Clock;
  /** Largest accepted response; a runaway exporter must not exhaust memory. Default 16 MB. */
  maxBodyBytes?: number;
  fetch?: typeof fetch;
  /** Called with each failure (for logs); scrape failures never throw out of the loops. */
  onError?: (target: ScrapeTarget, err: Error) => void;
}

const DEFAULT_INTERVAL_MS = 15_000;
const DEFAULT_TIMEOUT_MS = 10_000;

interface Running {
  target: ScrapeTarget;
  health: TargetHealth;
  stopped: boolean;
  wake: () => void;
  woken: Promise<void>;
  done: Promise<void>;
}

export class Scraper {
  private readonly store: SampleSink;
  private readonly clock: Clock;
  private readonly maxBodyBytes: number;
  private readonly fetchFn: typeof fetch;
  private readonly onError?: (target: ScrapeTarget, err: Error) => void;
  private readonly running = new Map<string, Running>();

  constructor(opts: ScraperOptions) {
    this.store = opts.store;
    this.clock = opts.clock ?? systemClock;
    this.maxBodyBytes = opts.maxBodyBytes ?? 16 << 20;
    this.fetchFn = opts.fetch ?? fetch;
    this.onError = opts.onError;
  }

  /** Replaces the target list: new targets start scraping now, removed ones stop, unchanged ones keep their schedule. */
  setTargets(targets: ScrapeTarget[]): void {
    const wanted = new Map(targets.map((t) => [targetKey(t), t]));
    for (const [key, r] of this.running) {
      if (!wanted.has(key)) {
        this.halt(r);
        this.running.delete(key);
      }
    }
    for (const [key, target] of wanted) {
      const r = this.running.get(key);
      if (r) r.target = target; // e.g. a new interval, taken at the next wake-up
      else this.running.set(key, this.launch(target));
    }
  }

  health(): TargetHealth[] {
    return [...this.running.values()].map((r) => ({ ...r.health, labels: { ...r.health.labels } }));
  }

  /** Stops every loop and waits for scrapes in flight to finish (bounded by their timeout). */
  async stop(): Promise<void> {
    const all = [...this.running.values()];
    this.running.clear();
    for (const r of all) this.halt(r);
    await Promise.all(all.map((r) => r.done));
  }

  /**
   * One scrape of one target, ingested with the target's labels plus up / scrape_* samples.
   * Never throws for target problems: they become up = 0 and health.lastError.
   */
  async scrapeOnce(target: ScrapeTarget, health: TargetHealth = newHealth(target)): Promise<TargetHealth> {
    const started = this.clock.now();
    const t0 = performance.now();
    let samples: Sample[] = [];
    let families: Family[] = [];
    let error: Error | undefined;
    try {
      if ('pid' in target) {
        samples = sampleProcess(target.pid, target.labels, started);
        if (samples.length === 0) throw new Error(`process ${target.pid} is not running`);
      } else {
        const text = await this.fetchText(target);
        ({ samples, families } = parseExpositionFamilies(text, started));
        samples = withTargetLabels(samples, target.labels);
      }
    } catch (err) {
      error = err instanceof Error ? err : new Error(String(err));
      samples = [];
      families = [];
    }
    const durationMs = performance.now() - t0;
    health.scrapes++;
    if (error) health.failures++;
    Object.assign(health, { up: !error, lastScrape: started, lastDurationMs: durationMs, lastError: error?.message, samples: samples.length });
    const meta = (name: string, value: number): Sample => ({ name, labels: { ...target.labels }, value, ts: started });
    samples.push(
      meta('up', error ? 0 : 1),
      meta('scrape_duration_seconds', durationMs / 1000),
      meta('scrape_samples_scraped', health.samples),
      meta('scrape_failures_total', health.failures),
    );
    try {
      this.store.ingest(samples, families);
    } catch (err) {
      // A store failure is not the target's fault, but it must not kill the loop either.
      error = err as Error;
      health.lastError = `storing samples failed: ${error.message}`;
    }
    if (error) this.onError?.(target, error);
    return health;
  }

  private async fetchText(target: HttpTarget): Promise<string> {
    const timeoutMs = Math.min(target.timeoutMs ?? DEFAULT_TIMEOUT_MS, target.intervalMs ?? DEFAULT_INTERVAL_MS);
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const res = await this.fetchFn(target.url, { signal, headers: { accept: 'text/plain;version=0.0.4;q=1,*/*;q=0.1' } });
      if (!res.ok) {
        await res.body?.cancel();
        throw new Error(`HTTP ${res.status} from ${target.url}`);
      }
      const declared = Number(res.headers.get('content-length'));
      if (declared > this.maxBodyBytes) {
        await res.body?.cancel();
        throw new Error(`response of ${declared} bytes is over the ${this.maxBodyBytes}-byte limit`);
      }
      const text = await res.text();
      if (text.length > this.maxBodyBytes) throw new Error(`response of ${text.length} bytes is over the ${this.maxBodyBytes}-byte limit`);
      return text;
    } catch (err) {
      if (signal.aborted) throw new Error(`scrape of ${target.url} timed out after ${timeoutMs} ms`);
      throw err;
    }
  }

  private launch(target: ScrapeTarget): Running {
    let wake = () => {};
    const woken = new Promise<void>((resolve) => { wake = resolve; });
    const r: Running = { target, health: newHealth(target), stopped: false, wake, woken, done: Promise.resolve() };
    r.done = (async () => {
      while (!r.stopped) {
        const started = this.clock.now();
        await this.scrapeOnce(r.target, r.health);
        await nap(this.clock, started + (r.target.intervalMs ?? DEFAULT_INTERVAL_MS), r.woken, () => r.stopped);
      }
    })();
    return r;
  }

  private halt(r: Running): void {
    r.stopped = true;
    r.wake();
  }
}

function targetKey(t: ScrapeTarget): string {
  return `${'pid' in t ? `pid:${t.pid}` : t.url} ${canonicalLabels(t.labels)}`;
}

function newHealth(t: ScrapeTarget): TargetHealth {
  return { target: 'pid' in t ? `pid:${t.pid}` : t.url, labels: { ...t.labels }, up: false, samples: 0, scrapes: 0, failures: 0 };
}

/**
 * Adds the target's labels; a scraped label with the same name is kept as exported_<name>
 * (Prometheus' honor_labels: false), so an app cannot pose as another app or release.
 * In place (the parser's fresh objects; no copy per sample); returns `samples`.
 */
export function withTargetLabels(samples: Sample[], target: Labels): Sample[] {
  const names = Object.keys(target);
  for (const s of samples) {
    const labels = s.labels;
    for (const k of names) {
      if (Object.hasOwn(labels, k)) labels[`exported_${k}`] = labels[k];
      labels[k] = target[k];
    }
  }
  return samples;
}
