// The vocabulary of the metrics store: samples in, structured queries and series out.
// Types only; every other file in this folder reads them.

export type Labels = Record<string, string>;

/** One observation of one series: the shape the parser, the process sampler and the scraper produce. */
export interface Sample {
  name: string;
  labels: Labels;
  value: number; // NaN, +Inf and -Inf are allowed; queries treat NaN as a gap
  ts: number; // ms since the epoch
}

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

/** What `# TYPE` / `# HELP` said about a metric family (histogram `x` covers x_bucket, x_sum, x_count). */
export interface Family {
  name: string;
  type: MetricType;
  help?: string;
}

export type MatchOp = '=' | '!=' | '=~' | '!~';
export interface Matcher {
  label: string;
  op: MatchOp;
  value: string;
}

/**
 * raw: last value at each step; rate/increase: per-second / total increase of a counter over the
 * window, counter resets handled; *_over_time: over the window; histogram_quantile: from the
 * rate of the `<metric>_bucket` series.
 */
export const QUERY_FNS = ['raw', 'rate', 'increase', 'avg_over_time', 'min_over_time', 'max_over_time', 'histogram_quantile'] as const;
export type QueryFn = (typeof QUERY_FNS)[number];

export const AGGREGATIONS = ['sum', 'avg', 'max', 'min', 'count'] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

export const RESOLUTIONS = ['raw', '1m', '1h'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

/**
 * A structured query (no PromQL). Durations are "30s"/"5m"/"1h" strings or ms numbers.
 * Example: `{ metric: 'http_requests_total', match: { app: 'hello', env: 'staging' }, fn: 'rate',
 *   window: '1m', agg: 'sum', by: ['release'], since: '1h', step: '1m' }`.
 */
export interface MetricQuery {
  metric: string;
  /** Equality matchers, the common case: `{ app: 'hello', env: 'staging' }`. */
  match?: Labels;
  /** Any matchers, as objects or as CLI text (`code=~5..`, `env!=prod`; see parseMatcher). */
  matchers?: (Matcher | string)[];
  fn?: QueryFn; // default raw; histogram_quantile when only `quantile` is given
  /** Range each step looks back over for rate/increase/*_over_time/histogram_quantile; default = step. */
  window?: string | number;
  agg?: Aggregation;
  by?: string[];
  quantile?: number; // 0..1, histogram_quantile only
  start?: number; // ms; default end - since
  end?: number; // ms; default now
  since?: string | number; // default 1h, used when start is not given
  step?: string | number; // default: range / 60 rounded to a whole 15s/1m/1h-ish step (see plan.ts)
  /** Force a resolution instead of choosing from the step (tests, debugging). */
  resolution?: Resolution | 'auto';
}

export type Point = [ts: number, value: number];

/** One series of a result: values[k] is the value at timestamps[k] of the result; NaN = none (null in JSON). */
export interface ResultSeries {
  labels: Labels;
  values: number[];
}

/** The same series as [ts, value] pairs, steps without a value left out (see withPoints). */
export interface PointSeries {
  labels: Labels;
  points: Point[];
}

export interface QueryResult {
  metric: string;
  fn: QueryFn;
  agg?: Aggregation;
  by?: string[];
  quantile?: number;
  resolution: Resolution;
  start: number;
  end: number;
  stepMs: number;
  windowMs: number;
  /**
   * The evaluation times, shared by every series (steps on multiples of stepMs). Columnar
   * rather than [ts, value] pairs: for 1,000 series × 1,441 steps the pairs alone cost more
   * than the whole query (1.44 M small arrays); withPoints() gives the pairs when wanted.
   */
  timestamps: number[];
  /** Series with at least one value, sorted by labels. */
  series: ResultSeries[];
}
