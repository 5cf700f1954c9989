import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SlipwayError } from '../../../src/core/errors.ts';
import { parseExposition, parseExpositionFamilies } from '../../../src/telemetry/metrics/exposition.ts';

const NOW = 1_700_000_000_000;
const parse = (text: string) => parseExposition(text, NOW);

function parseFails(text: string, pattern: RegExp): SlipwayError {
  try {
    parse(text);
  } catch (err) {
    assert.ok(err instanceof SlipwayError, `expected a SlipwayError, got ${err}`);
    assert.equal(err.code, 'metrics.parse_error');
    assert.match(err.message, pattern);
    return err;
  }
  assert.fail(`expected ${JSON.stringify(text)} to fail`);
}

test('counters, gauges and untyped samples with HELP, TYPE and comments', () => {
  const text = [
    '# HELP http_requests_total The total number of HTTP requests.',
    '# TYPE http_requests_total counter',
    'http_requests_total{method="post",code="200"} 1027',
    'http_requests_total{method="post",code="400"}    3',
    '',
    '# just a comment',
    '   ',
    '# TYPE temperature gauge',
    'temperature -3.5e2',
    'no_type_at_all 12.47',
  ].join('\n');
  const { samples, families } = parseExpositionFamilies(text, NOW);
  assert.deepEqual(samples, [
    { name: 'http_requests_total', labels: { method: 'post', code: '200' }, value: 1027, ts: NOW },
    { name: 'http_requests_total', labels: { method: 'post', code: '400' }, value: 3, ts: NOW },
    { name: 'temperature', labels: {}, value: -350, ts: NOW },
    { name: 'no_type_at_all', labels: {}, value: 12.47, ts: NOW },
  ]);
  assert.deepEqual(families, [
    { name: 'http_requests_total', type: 'counter', help: 'The total number of HTTP requests.' },
    { name: 'temperature', type: 'gauge' },
  ]);
});

test('label value escaping: backslash, double quote, newline; unknown escapes kept verbatim', () => {
  const [s] = parse('msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\"",odd="a\\tb"} 1.458255915e9');
  assert.deepEqual(s.labels, { path: 'C:\\DIR\\FILE.TXT', error: 'Cannot find file:\n"FILE.TXT"', odd: 'a\\tb' });
  assert.equal(s.value, 1.458255915e9);
});

test('label values may hold braces, commas, = and # ; trailing comma and spaces in the label set', () => {
  const [s] = parse('m{ a = "x,}{=#" , b="" , } 1');
  assert.deepEqual(s.labels, { a: 'x,}{=#', b: '' });
});

test('HELP escaping: \\\\ and \\n', () => {
  const { families } = parseExpositionFamilies('# HELP m first line\\nsecond \\\\ end\nm 1\n', NOW);
  assert.equal(families[0].help, 'first line\nsecond \\ end');
});

test('NaN, +Inf, -Inf and other float spellings', () => {
  const values = parse('a NaN\nb +Inf\nc -Inf\nd Inf\ne 1e3\nf -0.5\ng .5\nh 5.\n').map((s) => s.value);
  assert.ok(Number.isNaN(values[0]));
  assert.deepEqual(values.slice(1), [Infinity, -Infinity, Infinity, 1000, -0.5, 0.5, 5]);
});

test('optional timestamps in ms, negative too; samples without one get now', () => {
  const s = parse('http_requests_total{code="200"} 1027 1395066363000\nsomething_weird{problem="division by zero"} +Inf -3982045\nplain 1\n');
  assert.deepEqual(s.map((x) => x.ts), [1395066363000, -3982045, NOW]);
  assert.equal(s[1].value, Infinity);
});

test('histograms: every bucket, _sum and _count kept, with their labels and timestamps', () => {
  const text = [
    '# HELP http_request_duration_seconds A histogram of the request duration.',
    '# TYPE http_request_duration_seconds histogram',
    'http_request_duration_seconds_bucket{path="/a",le="0.05"} 24054 1000',
    'http_request_duration_seconds_bucket{path="/a",le="0.1"} 33444 1000',
    'http_request_duration_seconds_bucket{path="/a",le="+Inf"} 144320 1000',
    'http_request_duration_seconds_sum{path="/a"} 53423 1000',
    'http_request_duration_seconds_count{path="/a"} 144320 1000',
    'http_request_duration_seconds_bucket{path="/b",le="0.05"} 1',
    'http_request_duration_seconds_bucket{path="/b",le="+Inf"} 2',
    'http_request_duration_seconds_sum{path="/b"} 0.3',
    'http_request_duration_seconds_count{path="/b"} 2',
  ].join('\n');
  const { samples, families } = parseExpositionFamilies(text, NOW);
  assert.equal(samples.length, 9);
  assert.deepEqual(samples[2], { name: 'http_request_duration_seconds_bucket', labels: { path: '/a', le: '+Inf' }, value: 144320, ts: 1000 });
  assert.deepEqual(samples[3], { name: 'http_request_duration_seconds_sum', labels: { path: '/a' }, value: 53423, ts: 1000 });
  assert.deepEqual(samples[7], { name: 'http_request_duration_seconds_sum', labels: { path: '/b' }, value: 0.3, ts: NOW });
  assert.equal(families[0].type, 'histogram');
});

test('summaries: quantile samples, _sum and _count, labelled and not', () => {
  const text = [
    '# TYPE rpc_duration_seconds summary',
    'rpc_duration_seconds{quantile="0.01"} 3102',
    'rpc_duration_seconds{quantile="0.99"} 76656',
    'rpc_duration_seconds_sum 1.7560473e+07',
    'rpc_duration_seconds_count 2693',
    '# TYPE jvm_gc_collection_seconds summary',
    'jvm_gc_collection_seconds_count{gc="Copy",} 104.0',
    'jvm_gc_collection_seconds_sum{gc="Copy",} 0.491',
  ].join('\n');
  const s = parse(text);
  assert.deepEqual(s.map((x) => [x.name, x.labels, x.value]), [
    ['rpc_duration_seconds', { quantile: '0.01' }, 3102],
    ['rpc_duration_seconds', { quantile: '0.99' }, 76656],
    ['rpc_duration_seconds_sum', {}, 17560473],
    ['rpc_duration_seconds_count', {}, 2693],
    ['jvm_gc_collection_seconds_count', { gc: 'Copy' }, 104],
    ['jvm_gc_collection_seconds_sum', { gc: 'Copy' }, 0.491],
  ]);
});

test('CRLF line ends and a last line without newline', () => {
  const s = parse('a 1\r\nb 2\r\nc 3');
  assert.deepEqual(s.map((x) => [x.name, x.value]), [['a', 1], ['b', 2], ['c', 3]]);
});

test('bad lines fail with the line number and what is wrong', () => {
  const err = parseFails('ok 1\n\nbroken{code=200} 1\n', /^line 3: expected a quoted value for label "code": broken\{code=200\} 1$/);
  assert.deepEqual(err.details, { line: 3 });
  parseFails('m\n', /line 1: missing value/);
  parseFails('m{a="1"}\n', /line 1: missing value/);
  parseFails('m abc\n', /line 1: invalid value "abc"/);
  parseFails('m 1 12.5\n', /line 1: invalid timestamp "12.5"/);
  parseFails('m 1 2 3\n', /line 1: unexpected text after the timestamp/);
  parseFails('m{a="1" 2\n', /line 1: expected "," or "}" after the value of label "a"/);
  parseFails('m{a="1} 2\n', /line 1: unterminated value for label "a"/);
  parseFails('m{a="1",a="2"} 2\n', /line 1: duplicate label "a"/);
  parseFails('m{1a="1"} 2\n', /line 1: invalid label name/);
  parseFails('m{a="1"\n', /line 1: (unterminated|expected)/);
  parseFails('9lives 1\n', /line 1: expected a metric name/);
  parseFails('m-1 1\n', /line 1: unexpected character "-" in metric name/);
  parseFails('# TYPE m histogramm\n', /line 1: unknown metric type "histogramm"/);
  parseFails('# TYPE h histogram\nh_bucket 1\n', /line 2: histogram bucket without an "le" label/);
  parseFails('# TYPE h histogram\nh_bucket{le="x"} 1\n', /line 2: invalid bucket bound le="x"/);
  parseFails('# TYPE s summary\ns 1\n', /line 2: summary sample without a "quantile" label/);
});

test('comments that are not HELP/TYPE, and #-lines without a space, are ignored', () => {
  assert.deepEqual(parse('#comment\n# EOF\n#  TYPE? no\nm 1\n').map((s) => s.name), ['m']);
});
