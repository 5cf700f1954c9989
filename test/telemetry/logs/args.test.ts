import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SlipwayError } from '../../../src/core/errors.ts';
import { filterFromParams, parseFieldArgs, parseLevelArg, parseTimeArg } from '../../../src/telemetry/logs/args.ts';

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);

test('args: --since/--until take a duration back from now or a time', () => {
  assert.equal(parseTimeArg('15m', NOW), NOW - 15 * 60_000);
  assert.equal(parseTimeArg('2h', NOW), NOW - 7_200_000);
  assert.equal(parseTimeArg('500ms', NOW), NOW - 500);
  assert.equal(parseTimeArg('2026-11-21T10:00:00Z', NOW), Date.UTC(2026, 10, 21, 10));
  assert.equal(parseTimeArg('2026-11-21T10:00:00.250+01:00', NOW), Date.UTC(2026, 10, 21, 9, 0, 0, 250));
  assert.equal(parseTimeArg('2026-11-21 10:00', NOW), new Date(2026, 10, 21, 10, 0).getTime(), 'no zone: local time');
  assert.equal(parseTimeArg('2026-11-21', NOW), new Date(2026, 10, 21).getTime(), 'a bare date: local midnight');
  assert.equal(parseTimeArg('1763719200000', NOW), 1763719200000);
});

test('args: a bad time says what was wrong and how to write it', () => {
  for (const bad of ['15x', 'yesterday', '1', '2026-13-45', '']) {
    assert.throws(() => parseTimeArg(bad, NOW), (err: SlipwayError) => {
      assert.equal(err.code, 'usage.bad_time');
      assert.equal(err.message, `--since "${bad}" is not a duration or a time`);
      assert.match(err.hint!, /15m.*2026-11-21T10:00:00Z/);
      assert.equal(err.status, 400);
      return true;
    });
  }
  assert.throws(() => parseTimeArg('soon', NOW, '--until'), /--until "soon" is not a duration or a time/);
});

test('args: levels and fields', () => {
  assert.equal(parseLevelArg('WARN'), 'warn');
  assert.throws(() => parseLevelArg('loud'), /--level "loud" is not a log level/);
  assert.deepEqual(parseFieldArgs(['status=500', 'q=a=b', 'req.method=POST']), { status: '500', q: 'a=b', 'req.method': 'POST' });
  assert.throws(() => parseFieldArgs(['status']), (err: SlipwayError) => err.code === 'usage.bad_field' && /key=value/.test(err.message));
});

test('args: CLI options and query strings build the same filter', () => {
  const filter = filterFromParams({
    app: 'shop', env: 'prod', release: 'v3', instance: 'i-1', source: 'instance', stream: 'stderr',
    since: '15m', until: '2026-11-21T11:59:00Z', level: 'warn', grep: 'timeout', field: ['status=500', 'region=eu'], limit: '100', after: '42', unrelated: 'x',
  }, NOW);
  assert.deepEqual(filter, {
    app: 'shop', env: 'prod', release: 'v3', instance: 'i-1', grep: 'timeout', source: 'instance', stream: 'stderr',
    since: NOW - 900_000, until: Date.UTC(2026, 10, 21, 11, 59), level: 'warn', fields: { status: '500', region: 'eu' }, limit: 100, afterId: 42,
  });
  assert.deepEqual(filterFromParams({ app: '', field: 'k=v' }, NOW), { fields: { k: 'v' } });
  assert.throws(() => filterFromParams({ since: '1h', until: '2h' }, NOW), /--since .* is after --until/);
  assert.throws(() => filterFromParams({ source: 'disk' }, NOW), /--source "disk" is not one of instance, pipeline, event, external/);
  assert.throws(() => filterFromParams({ limit: '0' }, NOW), /--limit 0 is out of range/);
  assert.throws(() => filterFromParams({ limit: 'ten' }, NOW), /not a whole number/);
});
