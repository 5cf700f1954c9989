// Query planning: validates a structured query and decides the steps, the window, how far back
// to read and at which resolution. Pure: everything it needs (now, retentions) is passed in.
import { parseDuration } from '../../core/duration.ts';
import { SlipwayError } from '../../core/errors.ts';
import { normalizeMatchers } from './labels.ts';
import { AGGREGATIONS, QUERY_FNS, RESOLUTIONS, type Aggregation, type Matcher, type MetricQuery, type QueryFn, type Resolution } from './types.ts';

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** Bucket width of each resolution; raw samples are buckets of width 0. */
export const WIDTH: Readonly<Record<Resolution, number>> = { raw: 0, '1m': MINUTE, '1h': HOUR };

/** Like Prometheus: the latest value counts at a step if it is at most this old. */
export const LOOKBACK_MS = 5 * MINUTE;
/** Like Prometheus' limit on points per series: past this, ask for a bigger step. */
export const MAX_STEPS = 11_000;
const DEFAULT_SINCE = HOUR;
// Enough for a 40–60 character sparkline, and it keeps the default for an hour at 1-minute
// steps (the rollup tier, cheap to read) rather than raw samples.
const TARGET_POINTS = 60;
const NICE_STEPS = [15_000, 30_000, MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 6 * HOUR, 12 * HOUR, DAY];

export interface PlanContext {
  now: number;
  rawRetentionMs: number;
  minuteRetentionMs: number;
}

export interface Plan {
  metric: string;
  /** The stored series to read: `<metric>_bucket` for histogram_quantile. */
  seriesName: string;
  fn: QueryFn;
  agg?: Aggregation;
  by: string[];
  quantile?: number;
  matchers: Matcher[];
  start: number;
  end: number;
  stepMs: number;
  windowMs: number;
  lookbackMs: number;
  resolution: Resolution;
  /** Evaluation times: firstStep, firstStep + stepMs, … (stepCount of them). */
  firstStep: number;
  stepCount: number;
  /** Oldest timestamp any step can need (window plus the sample before it). */
  readFrom: number;
}

const bad = (message: string, hint?: string) => new SlipwayError('metrics.bad_query', message, { hint });

export function planQuery(q: MetricQuery, ctx: PlanContext): Plan {
  if (typeof q.metric !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(q.metric)) {
    throw bad(`"${q.metric}" is not a metric name`, 'metric names are letters, digits, _ and :, e.g. http_requests_total');
  }
  const fn = q.fn ?? (q.quantile !== undefined ? 'histogram_quantile' : 'raw');
  if (!QUERY_FNS.includes(fn)) throw bad(`unknown function "${fn}"`, `use one of: ${QUERY_FNS.join(', ')}`);
  if (q.agg !== undefined && !AGGREGATIONS.includes(q.agg)) throw bad(`unknown aggregation "${q.agg}"`, `use one of: ${AGGREGATIONS.join(', ')}`);
  const by = q.by ?? [];
  for (const label of by) if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(label)) throw bad(`"${label}" is not a label name`);
  if (by.length > 0 && !q.agg && fn !== 'histogram_quantile') throw bad('"by" needs an aggregation', 'add agg: sum, avg, max, min or count');

  let quantile: number | undefined;
  let seriesName = q.metric;
  if (fn === 'histogram_quantile') {
    quantile = q.quantile;
    if (typeof quantile !== 'number' || !(quantile >= 0 && quantile <= 1)) {
      throw new SlipwayError('metrics.bad_quantile', `quantile ${quantile} is outside 0–1`, { hint: 'write the quantile as a fraction: 0.99 for p99, 0.5 for the median' });
    }
    if (q.agg !== undefined && q.agg !== 'sum') throw bad(`histogram_quantile sums the buckets; agg "${q.agg}" does not apply`, 'leave agg out (or use sum) and group with by');
    if (!seriesName.endsWith('_bucket')) seriesName += '_bucket';
  } else if (q.quantile !== undefined) {
    throw bad(`quantile applies to histogram_quantile, not ${fn}`, 'drop fn (or set fn: histogram_quantile) to compute a quantile from a histogram');
  }

  const now = ctx.now;
  const end = q.end ?? now;
  const start = q.start ?? end - duration(q.since ?? DEFAULT_SINCE, 'since');
  if (!Number.isFinite(start) || !Number.isFinite(end)) throw bad('start and end must be times in ms');
  if (start > end) throw bad('start is after end');
  const instant = start === end;

  let stepMs = q.step !== undefined ? duration(q.step, 'step') : defaultStep(end - start);
  let windowMs = q.window !== undefined ? duration(q.window, 'window') : stepMs;
  // Finest data that still covers the range: raw for short steps, rollups for long steps or old data.
  const forced = q.resolution && q.resolution !== 'auto' ? q.resolution : undefined;
  if (forced && !RESOLUTIONS.includes(forced)) throw bad(`unknown resolution "${forced}"`, `use one of: ${RESOLUTIONS.join(', ')}, auto`);
  const resolution = forced ?? chooseResolution(instant ? 0 : stepMs, start - windowMs, ctx);
  const width = WIDTH[resolution];
  // A step or window finer than the buckets would only repeat or miss buckets.
  stepMs = Math.max(stepMs, width);
  windowMs = Math.max(windowMs, width);

  let firstStep: number;
  let stepCount: number;
  if (instant) {
    firstStep = end;
    stepCount = 1;
  } else {
    // Steps on multiples of the step, so repeated queries line up and buckets end on steps.
    const last = Math.floor(end / stepMs) * stepMs;
    firstStep = Math.min(Math.ceil(start / stepMs) * stepMs, last);
    stepCount = (last - firstStep) / stepMs + 1;
  }
  if (stepCount > MAX_STEPS) {
    throw new SlipwayError('metrics.too_many_points', `${stepCount} steps of ${formatMs(stepMs)} is more than ${MAX_STEPS} points per series`, {
      hint: `use a larger step (at least ${formatMs(Math.ceil((end - start) / MAX_STEPS / 1000) * 1000)}) or a shorter range`,
    });
  }
  const lookbackMs = Math.max(LOOKBACK_MS, 2 * width, windowMs);
  return {
    metric: q.metric, seriesName, fn, agg: q.agg, by, quantile,
    matchers: normalizeMatchers(q.match, q.matchers),
    start, end, stepMs, windowMs, lookbackMs, resolution, firstStep, stepCount,
    readFrom: firstStep - windowMs - lookbackMs,
  };
}

/**
 * The step picks the resolution (under 1 minute: raw; under 1 hour: 1-minute rollups; else
 * 1-hour rollups); data older than a tier keeps forces a coarser one.
 */
export function chooseResolution(stepMs: number, oldest: number, ctx: PlanContext): Resolution {
  let r: Resolution = stepMs < MINUTE ? 'raw' : stepMs < HOUR ? '1m' : '1h';
  if (r === 'raw' && oldest < ctx.now - ctx.rawRetentionMs) r = '1m';
  if (r === '1m' && oldest < ctx.now - ctx.minuteRetentionMs) r = '1h';
  return r;
}

/** About TARGET_POINTS points over the range, rounded up to a familiar step. */
export function defaultStep(rangeMs: number): number {
  const want = rangeMs / TARGET_POINTS;
  return NICE_STEPS.find((s) => s >= want) ?? Math.ceil(want / DAY) * DAY;
}

function duration(value: string | number, what: string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0) throw new SlipwayError('usage.bad_duration', `${what} ${value} is not a positive number of ms`, { hint: 'write a duration such as 30s, 5m or 1h' });
    return value;
  }
  const ms = parseDuration(value, what);
  if (ms <= 0) throw new SlipwayError('usage.bad_duration', `${what} "${value}" must be longer than 0`, { hint: 'write a duration such as 30s, 5m or 1h' });
  return ms;
}

export function formatMs(ms: number): string {
  for (const [unit, size] of [['d', DAY], ['h', HOUR], ['m', MINUTE], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
