import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeLevel, parseLine, parseTime } from '../../../src/telemetry/logs/parse.ts';

test('parse: pino JSON (numeric level, msg, epoch ms time)', () => {
  const line = JSON.stringify({ level: 40, time: 1763719200123, pid: 42, hostname: 'web-1', reqId: 'req-7f3a', msg: 'slow upstream', upstream: { host: 'db', ms: 812 } });
  assert.deepEqual(parseLine(line), {
    level: 'warn', message: 'slow upstream', time: 1763719200123,
    fields: { pid: 42, hostname: 'web-1', reqId: 'req-7f3a', upstream: { host: 'db', ms: 812 } },
  });
});

test('parse: bunyan JSON (numeric level, msg, ISO time)', () => {
  const line = '{"name":"api","hostname":"h","pid":7,"level":50,"msg":"boom","time":"2026-11-21T10:00:00.250Z","v":0}';
  const p = parseLine(line);
  assert.equal(p.level, 'error');
  assert.equal(p.message, 'boom');
  assert.equal(p.time, Date.UTC(2026, 10, 21, 10, 0, 0, 250));
  assert.deepEqual(p.fields, { name: 'api', hostname: 'h', pid: 7, v: 0 });
});

test('parse: winston JSON (string level, message, timestamp)', () => {
  const p = parseLine('{"level":"warning","message":"cache cold","timestamp":"2026-11-21T10:00:01Z","service":"billing"}');
  assert.deepEqual(p, { level: 'warn', message: 'cache cold', time: Date.UTC(2026, 10, 21, 10, 0, 1), fields: { service: 'billing' } });
  assert.equal(parseLine('{"level":"verbose","message":"x"}').level, 'debug');
  assert.equal(parseLine('{"level":"silly","message":"x"}').level, 'trace');
  assert.equal(parseLine('{"level":"http","message":"x"}').level, 'info');
});

test('parse: logfmt (level, quoted msg, key=value fields)', () => {
  const p = parseLine('time=2026-11-21T10:00:02Z level=warn msg="disk almost full" path=/var/data pct=93 ok=true');
  assert.deepEqual(p, { level: 'warn', message: 'disk almost full', time: Date.UTC(2026, 10, 21, 10, 0, 2), fields: { path: '/var/data', pct: '93', ok: true } });
  assert.deepEqual(parseLine('lvl=error msg=failed'), { level: 'error', message: 'failed', fields: null });
  // Two pairs are enough without level or msg.
  assert.deepEqual(parseLine('method=GET status=200'), { level: null, message: '', fields: { method: 'GET', status: '200' } });
});

test('parse: plain text stays plain, with no level guessed', () => {
  for (const line of ['Listening on port 3000', 'Error: ECONNRESET', 'a=b is not logfmt', '    at foo (bar.js:1:2)', '{not json', '[1,2,3]', '']) {
    assert.deepEqual(parseLine(line), { level: null, message: line, fields: null }, line);
  }
  // Colour codes and a trailing CR are noise.
  assert.deepEqual(parseLine('\u001b[32minfo\u001b[39m: ready\r'), { level: null, message: 'info: ready', fields: null });
});

test('parse: unknown levels stay fields; odd values do not crash', () => {
  assert.deepEqual(parseLine('{"level":"loud","msg":"x"}'), { level: null, message: 'x', fields: { level: 'loud' } });
  assert.deepEqual(parseLine('{"msg":{"a":1},"time":"yesterday"}'), { level: null, message: '{"a":1}', fields: { time: 'yesterday' } });
  assert.deepEqual(parseLine('{"event":"login"}'), { level: null, message: '', fields: { event: 'login' } });
});

test('parse: levels normalise to trace..fatal', () => {
  assert.deepEqual([10, 20, 30, 35, 40, 50, 60, 70, 5].map(normalizeLevel), ['trace', 'debug', 'info', 'info', 'warn', 'error', 'fatal', 'fatal', 'trace']);
  assert.deepEqual(['TRACE', 'Debug', 'INFO', 'warn', 'ERR', 'critical', 'panic', '30', 'nope'].map(normalizeLevel), ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'fatal', 'info', null]);
});

test('parse: times in s, ms, us, ns and ISO', () => {
  const ms = Date.UTC(2026, 10, 21, 10, 0, 0, 500);
  assert.equal(parseTime(ms / 1000), ms);
  assert.equal(parseTime(ms), ms);
  assert.equal(parseTime(ms * 1000), ms);
  assert.equal(parseTime(ms * 1e6), ms);
  assert.equal(parseTime('2026-11-21T10:00:00.500Z'), ms);
  assert.equal(parseTime('not a time'), undefined);
  assert.equal(parseTime(-1), undefined);
});
