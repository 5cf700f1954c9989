import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matches } from '../../../src/telemetry/logs/filter.ts';
import { fieldMatches, ftsTerm, searchText, textMatches } from '../../../src/telemetry/logs/search.ts';
import type { LogRecord } from '../../../src/telemetry/logs/types.ts';

test('search: the searched text is the message and the fields as key=value', () => {
  assert.equal(searchText('GET /orders', { status: 500, req: { id: 'r-1', tags: ['a', 'b'] }, ok: false, none: null }),
    'GET /orders status=500 req.id=r-1 req.tags=["a","b"] ok=false none=');
  assert.equal(searchText('plain', null), 'plain');
});

test('search: word mode matches whole words, ignoring case; a trailing * lets the last one continue', () => {
  const text = 'Error: ECONNRESET talking to db-primary (req-7f3a9c01)';
  for (const yes of ['econnreset', 'ECONNRESET', 'error: econnreset', 'db-primary', 'req-7f3a9c01', '7f3a9c01', '(req', 'econn*', 'db-prim*', 'req-7f3a*', ': ECONN*', 'talking to']) {
    assert.ok(textMatches(text, yes, 'word'), yes);
  }
  for (const no of ['econn', 'connreset', 'rror', 'db prim', 'db-prim', 'req-7f3a', 'req-7f3a9c012', 'f3a', 'conn*', 'talking  to']) {
    assert.ok(!textMatches(text, no, 'word'), no);
  }
  assert.ok(textMatches('eu-west-1 ok', 'eu-west-1', 'word'));
  assert.ok(!textMatches('eu-west-10 ok', 'eu-west-1', 'word'));
  assert.ok(textMatches(text, 'connreset', 'substring'));
  assert.ok(textMatches(text, 'f3a', 'substring'));
});

test('search: FTS5 expressions propose a superset of what textMatches accepts', () => {
  assert.equal(ftsTerm('req-7f3a9c01', 'word'), '"req" AND "7f3a9c01"');
  assert.equal(ftsTerm('req-7f3a*', 'word'), '"req" AND "7f3a"*');
  assert.equal(ftsTerm('GET /api/', 'word'), '"get" AND "api"');
  assert.equal(ftsTerm('status=500', 'word'), '"status" AND "500"');
  assert.equal(ftsTerm('eu-west-1', 'word'), '"eu" AND "west" AND "1"');
  assert.equal(ftsTerm('eu-west-1*', 'word'), '"eu" AND "west"', 'a short prefix after other words is left to the literal check');
  assert.equal(ftsTerm('req-7f*', 'word'), '"req" AND "7f"*');
  assert.equal(ftsTerm('ok*', 'word'), '"ok"*');
  assert.equal(ftsTerm('a a b', 'word'), '"a" AND "b"');
  assert.equal(ftsTerm('->', 'word'), undefined, 'no word characters: scan');
  assert.equal(ftsTerm('say "hi"', 'substring'), '"say ""hi"""');
  assert.equal(ftsTerm('ok', 'substring'), undefined, 'under 3 characters: scan');
});

test('search: fields match exactly, by key or dotted path, numbers and booleans as written', () => {
  const fields = { status: 500, ok: true, 'http.method': 'GET', req: { id: 'r-1' } };
  assert.ok(fieldMatches(fields, 'status', '500'));
  assert.ok(!fieldMatches(fields, 'status', '50'));
  assert.ok(fieldMatches(fields, 'ok', 'true'));
  assert.ok(fieldMatches(fields, 'http.method', 'GET'));
  assert.ok(fieldMatches(fields, 'req.id', 'r-1'));
  assert.ok(!fieldMatches(fields, 'missing', ''));
  assert.ok(!fieldMatches(null, 'status', '500'));
});

test('filter: every criterion, and a level threshold that skips unlevelled lines', () => {
  const r: LogRecord = { id: 1, ts: 1000, app: 'shop', env: 'prod', release: 'v1', instance: 'i1', source: 'instance', stream: 'stderr', level: 'warn', message: 'disk almost full', fields: { pct: '93' }, truncated: false };
  assert.ok(matches(r, {}, 'word'));
  assert.ok(matches(r, { app: 'shop', env: 'prod', release: 'v1', instance: 'i1', source: 'instance', stream: 'stderr', since: 1000, until: 1000, level: 'warn', grep: 'almost', fields: { pct: '93' } }, 'word'));
  assert.ok(matches(r, { grep: 'pct=93' }, 'word'), 'fields are searched as key=value');
  for (const miss of [{ app: 'x' }, { env: 'qa' }, { release: 'v2' }, { instance: 'i2' }, { source: 'event' as const }, { stream: 'stdout' as const }, { since: 1001 }, { until: 999 }, { level: 'error' as const }, { grep: 'most' }, { fields: { pct: '9' } }]) {
    assert.ok(!matches(r, miss, 'word'), JSON.stringify(miss));
  }
  assert.ok(matches(r, { level: 'info' }, 'word'));
  assert.ok(!matches({ ...r, level: null }, { level: 'trace' }, 'word'));
});
