// Prometheus text exposition format (version 0.0.4) → flat samples. Pure: text in, samples out.
//
// Why not the installed `parse-prometheus-text-format` package: evaluated against the spec and
// real node-exporter output, it loses information we need —
//   * histograms/summaries with labels: the buckets of every label set are merged into one map
//     keyed only by `le`/`quantile` (the other labels are dropped) and their `_sum`/`_count`
//     samples are dropped entirely;
//   * timestamps of histogram/summary samples are dropped (kept only for plain samples);
//   * the last sample is dropped when the text does not end with a newline;
//   * a sample line without a value is accepted with value "" and `#comment` (no space) becomes a
//     metric named "#comment"; errors carry no line number; values stay strings.
// Its output is also nested by family while the store wants flat samples, so the small parser
// below (plus tests) is less code than wrapping and repairing it.
//
// Leniency follows the Prometheus server's own scrape parser, not the stricter Go client
// library: unknown escape sequences in label values are kept verbatim, CRLF line ends and a
// trailing comma in a label set are accepted, and comment lines other than HELP/TYPE are ignored.
import { SlipwayError } from '../../core/errors.ts';
import type { Family, Labels, MetricType, Sample } from './types.ts';

const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INF = /^([+-]?)inf(?:inity)?$/i;
const INTEGER = /^-?\d+$/;

export interface Exposition {
  samples: Sample[];
  /** Families declared with `# TYPE` or `# HELP`, in order of first mention. */
  families: Family[];
}

/** Parses exposition text; samples without a timestamp get `nowMs`. Throws metrics.parse_error with the line number. */
export function parseExposition(text: string, nowMs: number): Sample[] {
  return parseExpositionFamilies(text, nowMs).samples;
}

export function parseExpositionFamilies(text: string, nowMs: number): Exposition {
  const samples: Sample[] = [];
  const families = new Map<string, Family>();
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    let line = lines[n];
    if (line.endsWith('\r')) line = line.slice(0, -1);
    let i = 0;
    while (i < line.length && isBlank(line.charCodeAt(i))) i++;
    if (i === line.length) continue; // blank line
    if (line.charCodeAt(i) === HASH) {
      readComment(line.trim(), n + 1, families);
      continue;
    }
    const sample = readSample(line, i, n + 1, nowMs);
    checkFamilyLabels(sample, families, n + 1, line);
    samples.push(sample);
  }
  return { samples, families: [...families.values()] };
}

function parseError(lineNo: number, what: string, line: string): SlipwayError {
  const excerpt = line.length > 120 ? `${line.slice(0, 117)}...` : line;
  return new SlipwayError('metrics.parse_error', `line ${lineNo}: ${what}: ${excerpt}`, {
    hint: 'the target must serve the Prometheus text format (version 0.0.4)',
    details: { line: lineNo },
  });
}

function readComment(line: string, lineNo: number, families: Map<string, Family>): void {
  const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s+(.*))?$/.exec(line);
  if (!m) return; // any other comment
  const [, keyword, name, rest = ''] = m;
  if (!isMetricName(name)) throw parseError(lineNo, `invalid metric name "${name}" in ${keyword}`, line);
  const family = families.get(name) ?? { name, type: 'untyped' as MetricType };
  if (keyword === 'TYPE') {
    const type = rest.trim().toLowerCase() as MetricType;
    if (!TYPES.has(type)) throw parseError(lineNo, `unknown metric type "${rest.trim()}" (expected counter, gauge, histogram, summary or untyped)`, line);
    family.type = type;
  } else {
    family.help = unescapeHelp(rest);
  }
  families.set(name, family);
}

function unescapeHelp(text: string): string {
  return text.replace(/\\([\\n])/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
}

// Character codes: the scanner below compares codes, not one-character strings or regexes
// (a node-exporter scrape is ~500 lines; an app with many series can be 100× that).
const HASH = 35; // #
const SPACE = 32;
const TAB = 9;
const LBRACE = 123;
const RBRACE = 125;
const EQUALS = 61;
const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;

const isBlank = (c: number) => c === SPACE || c === TAB;
const isLetter = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95; // a-z A-Z _
const isDigit = (c: number) => c >= 48 && c <= 57;
const isNameStart = (c: number) => isLetter(c) || c === 58; // :
const isNameChar = (c: number) => isLetter(c) || isDigit(c) || c === 58;

function readSample(line: string, i: number, lineNo: number, nowMs: number): Sample {
  const len = line.length;
  const nameStart = i;
  if (!isNameStart(line.charCodeAt(i))) throw parseError(lineNo, 'expected a metric name', line);
  while (i < len && isNameChar(line.charCodeAt(i))) i++;
  const name = line.slice(nameStart, i);
  const labels: Labels = {};
  let afterLabels = false;
  if (line.charCodeAt(i) === LBRACE) {
    i = readLabels(line, i + 1, labels, lineNo);
    afterLabels = true;
  }
  const afterName = i;
  while (i < len && isBlank(line.charCodeAt(i))) i++;
  // `name{a="b"}1` is fine (the brace separates), `name-1` is not.
  if (i === afterName && i < len && !afterLabels) throw parseError(lineNo, `unexpected character "${line[i]}" in metric name`, line);
  const valueStart = i;
  while (i < len && !isBlank(line.charCodeAt(i))) i++;
  const valueText = line.slice(valueStart, i);
  if (valueText === '') throw parseError(lineNo, 'missing value', line);
  const value = parseValue(valueText);
  if (value === undefined) throw parseError(lineNo, `invalid value "${valueText}"`, line);
  while (i < len && isBlank(line.charCodeAt(i))) i++;
  let ts = nowMs;
  if (i < len) {
    const tsStart = i;
    while (i < len && !isBlank(line.charCodeAt(i))) i++;
    const tsText = line.slice(tsStart, i);
    if (!INTEGER.test(tsText)) throw parseError(lineNo, `invalid timestamp "${tsText}" (expected integer milliseconds)`, line);
    ts = Number(tsText);
    while (i < len && isBlank(line.charCodeAt(i))) i++;
    if (i < len) throw parseError(lineNo, 'unexpected text after the timestamp', line);
  }
  return { name, labels, value, ts };
}

/** Reads `a="x",b="y"}` starting after the `{`; returns the index after the `}`. */
function readLabels(line: string, i: number, labels: Labels, lineNo: number): number {
  const len = line.length;
  for (;;) {
    while (i < len && isBlank(line.charCodeAt(i))) i++;
    if (i >= len) throw parseError(lineNo, 'unterminated label set (missing "}")', line);
    if (line.charCodeAt(i) === RBRACE) return i + 1;
    const start = i;
    if (!isLetter(line.charCodeAt(i))) throw parseError(lineNo, `invalid label name at "${line.slice(i, i + 10)}"`, line);
    while (i < len && (isLetter(line.charCodeAt(i)) || isDigit(line.charCodeAt(i)))) i++;
    const label = line.slice(start, i);
    while (i < len && isBlank(line.charCodeAt(i))) i++;
    if (line.charCodeAt(i) !== EQUALS) throw parseError(lineNo, `expected "=" after label name "${label}"`, line);
    i++;
    while (i < len && isBlank(line.charCodeAt(i))) i++;
    if (line.charCodeAt(i) !== QUOTE) throw parseError(lineNo, `expected a quoted value for label "${label}"`, line);
    i++;
    const valueStart = i;
    let value: string | undefined; // set only when the value has escapes
    let chunkStart = i;
    for (;;) {
      if (i >= len) throw parseError(lineNo, `unterminated value for label "${label}"`, line);
      const c = line.charCodeAt(i);
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        const next = line[i + 1];
        if (next === undefined) throw parseError(lineNo, `unterminated value for label "${label}"`, line);
        value = (value ?? '') + line.slice(chunkStart, i) + (next === 'n' ? '\n' : next === '\\' || next === '"' ? next : `\\${next}`);
        i += 2;
        chunkStart = i;
        continue;
      }
      i++;
    }
    value = value === undefined ? line.slice(valueStart, i) : value + line.slice(chunkStart, i);
    i++; // closing quote
    if (Object.hasOwn(labels, label)) throw parseError(lineNo, `duplicate label "${label}"`, line);
    labels[label] = value;
    while (i < len && isBlank(line.charCodeAt(i))) i++;
    const c = line.charCodeAt(i);
    if (c === COMMA) i++;
    else if (c !== RBRACE) throw parseError(lineNo, `expected "," or "}" after the value of label "${label}"`, line);
  }
}

/** Go's ParseFloat, restricted to what exporters write: decimal floats, NaN and ±Inf. */
export function parseValue(text: string): number | undefined {
  if (FLOAT.test(text)) return Number(text);
  const inf = INF.exec(text);
  if (inf) return inf[1] === '-' ? -Infinity : Infinity;
  if (/^nan$/i.test(text)) return NaN;
  return undefined;
}

/** Histogram buckets need `le`, summary quantiles need `quantile`; both must be numbers. */
function checkFamilyLabels(s: Sample, families: Map<string, Family>, lineNo: number, line: string): void {
  if (families.size === 0) return;
  if (s.name.endsWith('_bucket') && families.get(s.name.slice(0, -7))?.type === 'histogram') {
    if (s.labels.le === undefined) throw parseError(lineNo, 'histogram bucket without an "le" label', line);
    if (parseValue(s.labels.le) === undefined) throw parseError(lineNo, `invalid bucket bound le="${s.labels.le}"`, line);
  } else if (families.get(s.name)?.type === 'summary') {
    if (s.labels.quantile === undefined) throw parseError(lineNo, 'summary sample without a "quantile" label', line);
    if (parseValue(s.labels.quantile) === undefined) throw parseError(lineNo, `invalid quantile="${s.labels.quantile}"`, line);
  }
}

function isMetricName(name: string): boolean {
  return /^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name);
}
