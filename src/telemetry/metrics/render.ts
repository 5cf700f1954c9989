// Plain-text view of a query result for `slipway metrics`: a title line, then one row per
// series with last/min/avg/max and a sparkline over the queried range. Pure.
import { table } from '../../cli/format.ts';
import { formatMs } from './plan.ts';
import type { Labels, MetricType, QueryResult } from './types.ts';

const BARS = '▁▂▃▄▅▆▇█';

/**
 * One character per step, or when there are more steps than `width`, per group of adjacent
 * steps (their mean); scaled between the row's min and max. A step without a value is a
 * space: a gap in the line is a gap in the data.
 */
export function sparkline(values: ArrayLike<number>, width = 40): string {
  const n = values.length;
  const columns = Math.min(n, width);
  if (columns <= 0) return '';
  const cols: number[] = [];
  for (let c = 0; c < columns; c++) {
    const from = Math.floor((c * n) / columns);
    const to = Math.floor(((c + 1) * n) / columns);
    let sum = 0;
    let count = 0;
    for (let k = from; k < to; k++) if (Number.isFinite(values[k])) { sum += values[k]; count++; }
    cols.push(count ? sum / count : NaN);
  }
  const present = cols.filter((v) => !Number.isNaN(v));
  if (present.length === 0) return ' '.repeat(columns);
  const lo = Math.min(...present);
  const hi = Math.max(...present);
  return cols.map((v) => {
    if (Number.isNaN(v)) return ' ';
    if (hi === lo) return BARS[3]; // flat: a level line mid-height
    return BARS[Math.min(BARS.length - 1, Math.floor(((v - lo) / (hi - lo)) * BARS.length))];
  }).join('');
}

type Unit = 'seconds' | 'bytes' | 'per_second' | 'ratio' | 'plain';

/** What the numbers are, from Prometheus naming conventions and the function. */
export function unitOf(metric: string, fn: QueryResult['fn']): Unit {
  const base = metric.replace(/_(bucket|total|count|sum)$/, '');
  if (fn === 'rate') return base.endsWith('_seconds') ? 'ratio' : 'per_second'; // seconds per second: busy share
  if (base.endsWith('_seconds')) return 'seconds';
  if (base.endsWith('_bytes')) return 'bytes';
  if (base.endsWith('_ratio')) return 'ratio';
  return 'plain';
}

export function formatValue(v: number, unit: Unit = 'plain'): string {
  if (Number.isNaN(v)) return '-';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  switch (unit) {
    case 'seconds': {
      const a = Math.abs(v);
      if (a === 0) return '0s';
      if (a < 1e-3) return `${sig(v * 1e6)}µs`;
      if (a < 1) return `${sig(v * 1e3)}ms`;
      if (a < 120) return `${sig(v)}s`;
      return a < 7200 ? `${sig(v / 60)}m` : `${sig(v / 3600)}h`;
    }
    case 'bytes': {
      const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
      let x = v;
      let i = 0;
      while (Math.abs(x) >= 1024 && i < units.length - 1) { x /= 1024; i++; }
      return `${sig(x)} ${units[i]}`;
    }
    case 'per_second': return `${si(v)}/s`;
    case 'ratio': return sig(v);
    default: return si(v);
  }
}

function sig(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 0.01 ? v.toFixed(2) : v.toPrecision(2);
}

function si(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e12) return `${sig(v / 1e12)}T`;
  if (a >= 1e9) return `${sig(v / 1e9)}G`;
  if (a >= 1e6) return `${sig(v / 1e6)}M`;
  if (a >= 1e4) return `${sig(v / 1e3)}k`;
  if (Number.isInteger(v)) return String(v);
  return sig(v);
}

/** "sum(rate(http_requests_total[1m])) by (release)": how the result was computed, in PromQL words. */
export function describeQuery(r: QueryResult): string {
  const w = formatMs(r.windowMs);
  const by = r.by?.length ? ` by (${r.by.join(', ')})` : '';
  if (r.fn === 'histogram_quantile') return `histogram_quantile(${r.quantile}, rate(${r.metric}_bucket[${w}]))${by}`;
  const expr = r.fn === 'raw' ? r.metric : `${r.fn}(${r.metric}[${w}])`;
  return r.agg ? `${r.agg}(${expr})${by}` : expr;
}

export interface RenderOptions {
  /** Sparkline width in characters. */
  width?: number;
  /** Rows beyond this are summarised in one line (the JSON output has them all). */
  maxRows?: number;
}

export function renderQueryResult(r: QueryResult, opts: RenderOptions = {}): string {
  const width = opts.width ?? 40;
  const maxRows = opts.maxRows ?? 50;
  const range = `${new Date(r.start).toISOString().slice(0, 16).replace('T', ' ')} → ${new Date(r.end).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const title = `${describeQuery(r)}  ·  ${range}  ·  step ${formatMs(r.stepMs)} (${r.resolution === 'raw' ? 'raw samples' : `${r.resolution} rollups`})`;
  const series = r.series;
  if (series.length === 0) return `${title}\n\nno data in this range`;
  const common = commonLabels(series.map((s) => s.labels));
  const unit = unitOf(r.metric, r.fn);
  const rows = series.slice(0, maxRows).map((s) => {
    const vs = s.values.filter(Number.isFinite);
    const stats = vs.length ? [vs[vs.length - 1], Math.min(...vs), vs.reduce((a, b) => a + b, 0) / vs.length, Math.max(...vs)] : [NaN, NaN, NaN, NaN];
    return [labelText(s.labels, common), ...stats.map((v) => formatValue(v, unit)), sparkline(s.values, width)];
  });
  const numbers = [1, 2, 3, 4];
  for (const i of numbers) {
    const w = Math.max(...rows.map((row) => row[i].length));
    for (const row of rows) row[i] = row[i].padStart(w);
  }
  const out = [title];
  const shared = Object.entries(common).map(([k, v]) => `${k}=${v}`).join(' ');
  if (shared && series.length > 1) out.push(`all series: ${shared}`);
  out.push('', table(['SERIES', 'LAST', 'MIN', 'AVG', 'MAX', 'TREND'], rows));
  if (series.length > maxRows) out.push(`… and ${series.length - maxRows} more series (use --json, or narrow with label filters or agg/by)`);
  return out.join('\n');
}

/** A metric list for `slipway metrics <app>`: name and, when scraped with TYPE/HELP, its type and help. */
export function renderMetricNames(names: readonly string[], families: readonly { name: string; type: MetricType; help?: string }[] = []): string {
  if (names.length === 0) return 'no metrics recorded yet';
  const byName = new Map(families.map((f) => [f.name, f]));
  const familyOf = (n: string) => byName.get(n) ?? byName.get(n.replace(/_(bucket|sum|count)$/, ''));
  return table(['METRIC', 'TYPE', 'HELP'], names.map((n) => {
    const f = familyOf(n);
    return [n, f?.type ?? '', (f?.help ?? '').split('\n')[0].slice(0, 80)];
  }));
}

function commonLabels(all: Labels[]): Labels {
  if (all.length === 0) return {};
  const out: Labels = { ...all[0] };
  for (const l of all.slice(1)) for (const k of Object.keys(out)) if (l[k] !== out[k]) delete out[k];
  return out;
}

/** The labels that tell this row apart (all of them when nothing does). */
function labelText(labels: Labels, common: Labels): string {
  const own = Object.entries(labels).filter(([k]) => common[k] === undefined);
  const shown = own.length ? own : Object.entries(labels);
  return shown.length ? shown.map(([k, v]) => `${k}=${v}`).join(' ') : '(all)';
}
