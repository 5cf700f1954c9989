import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { eventToRecord } from '../../../src/telemetry/logs/events.ts';
import { LogStore } from '../../../src/telemetry/logs/store.ts';
import type { LogRecord } from '../../../src/telemetry/logs/types.ts';
import { instanceLabels, manualClock, openStore, tempDir, until } from './helpers.ts';

const msgs = (records: LogRecord[]) => records.map((r) => r.message);

test('store: lines are parsed, labelled and queried by every filter, newest last', async (t) => {
  const clock = manualClock();
  const store = openStore(t, { clock });
  const t0 = clock.now();
  const a1 = instanceLabels('shop-1');
  const a2 = instanceLabels('shop-2', { release: 'v2' });
  store.ingestLine(JSON.stringify({ level: 30, msg: 'GET /orders 200', reqId: 'req-7f3a9c01', status: 200 }), a1);
  clock.advance(1000);
  store.ingestLine('level=warn msg="slow query" table=orders ms=812', a1);
  clock.advance(1000);
  store.ingestLine('{"level":"error","message":"payment declined","timestamp":"' + new Date(clock.now()).toISOString() + '","status":500,"http":{"method":"POST"}}', a2);
  clock.advance(1000);
  store.ingestLine('Error: ECONNRESET talking to db-primary', { ...a2, stream: 'stderr' });
  store.ingest([{ source: 'pipeline', stream: 'stdout', app: 'shop', message: 'npm test: 42 passing', level: null }]);
  store.ingest([eventToRecord({ seq: 1, ts: clock.now(), app: 'shop', env: 'prod', deployment: 'd1', instance: 'shop-2', kind: 'instance.crashed', actor: 'slipway', before: null, after: { state: 'crashed' }, message: 'instance shop-2 (pid 9) exited' })]);
  store.ingestLine('started', { source: 'instance', stream: 'stdout', app: 'blog', env: 'qa', instance: 'blog-1' });
  await store.flush();

  assert.deepEqual(msgs(store.query({})), ['GET /orders 200', 'slow query', 'payment declined', 'Error: ECONNRESET talking to db-primary', 'npm test: 42 passing', 'instance shop-2 (pid 9) exited', 'started']);
  assert.deepEqual(msgs(store.query({ limit: 2 })), ['instance shop-2 (pid 9) exited', 'started'], 'the newest, oldest first');
  assert.equal(store.query({ app: 'shop' }).length, 6);
  assert.deepEqual(msgs(store.query({ env: 'qa' })), ['started']);
  assert.deepEqual(msgs(store.query({ release: 'v2' })), ['payment declined', 'Error: ECONNRESET talking to db-primary']);
  assert.deepEqual(msgs(store.query({ instance: 'shop-1' })), ['GET /orders 200', 'slow query']);
  assert.deepEqual(msgs(store.query({ source: 'pipeline' })), ['npm test: 42 passing']);
  assert.deepEqual(msgs(store.query({ source: 'event' })), ['instance shop-2 (pid 9) exited']);
  assert.deepEqual(msgs(store.query({ stream: 'stderr' })), ['Error: ECONNRESET talking to db-primary']);
  assert.deepEqual(msgs(store.query({ level: 'warn' })), ['slow query', 'payment declined', 'instance shop-2 (pid 9) exited']);
  assert.deepEqual(msgs(store.query({ level: 'error' })), ['payment declined', 'instance shop-2 (pid 9) exited']);
  assert.deepEqual(msgs(store.query({ level: 'info', app: 'shop', instance: 'shop-1' })), ['GET /orders 200', 'slow query']);
  assert.deepEqual(msgs(store.query({ since: t0 + 1000, until: t0 + 2000 })), ['slow query', 'payment declined']);
  assert.deepEqual(store.query({ app: 'shop', release: 'v9' }), [], 'a release with no lines: answered from label_sets');
  assert.deepEqual(store.query({ level: 'fatal' }), []);
  assert.deepEqual(msgs(store.query({ grep: 'econnreset' })), ['Error: ECONNRESET talking to db-primary']);
  assert.deepEqual(msgs(store.query({ grep: 'db-primary' })), ['Error: ECONNRESET talking to db-primary']);
  assert.deepEqual(msgs(store.query({ grep: 'db-prim' })), [], 'whole words');
  assert.deepEqual(msgs(store.query({ grep: 'db-prim*' })), ['Error: ECONNRESET talking to db-primary'], 'a word start, asked for');
  assert.deepEqual(msgs(store.query({ grep: 'db primary' })), [], 'punctuation is exact');
  assert.deepEqual(msgs(store.query({ grep: 'req-7f3a9c01' })), ['GET /orders 200'], 'fields are searched too');
  assert.deepEqual(msgs(store.query({ grep: 'req-7f3a*' })), ['GET /orders 200']);
  assert.deepEqual(msgs(store.query({ grep: 'table=orders' })), ['slow query']);
  assert.deepEqual(msgs(store.query({ grep: '/' })), ['GET /orders 200'], 'no word characters: a scan');
  assert.deepEqual(msgs(store.query({ fields: { status: '500' } })), ['payment declined']);
  assert.deepEqual(msgs(store.query({ fields: { status: '50' } })), []);
  assert.deepEqual(msgs(store.query({ fields: { 'http.method': 'POST', status: '500' }, grep: 'payment' })), ['payment declined']);
  assert.deepEqual(msgs(store.query({ fields: { kind: 'instance.crashed' } })), ['instance shop-2 (pid 9) exited']);

  const [first, second] = store.query({ app: 'shop' });
  assert.equal(first.ts, t0);
  assert.deepEqual({ ...first, id: 0 }, { id: 0, ts: t0, app: 'shop', env: 'prod', release: 'v1', instance: 'shop-1', source: 'instance', stream: 'stdout', level: 'info', message: 'GET /orders 200', fields: { reqId: 'req-7f3a9c01', status: 200 }, truncated: false });
  assert.deepEqual(msgs(store.query({ afterId: first.id, limit: 1 })), ['slow query'], 'paging forward');
  assert.deepEqual(msgs(store.query({ beforeId: second.id })), ['GET /orders 200'], 'paging back');
});

test('store: a line keeps its own time unless it is in the future; late lines sort by their time', async (t) => {
  const clock = manualClock();
  const store = openStore(t, { clock });
  const now = clock.now();
  const labels = instanceLabels('i');
  store.ingestLine('now', labels);
  store.ingestLine(JSON.stringify({ msg: 'an hour ago', time: now - 3_600_000 }), labels);
  store.ingestLine(JSON.stringify({ msg: 'next year', time: now + 365 * 86_400_000 }), labels);
  await store.flush();
  const records = store.query({});
  assert.deepEqual(records.map((r) => [r.message, r.ts - now]), [['an hour ago', -3_600_000], ['now', 0], ['next year', 0]]);
});

test('store: a flood of a million lines into a small buffer returns at once; drops are counted and reported', async (t) => {
  const clock = manualClock();
  const store = openStore(t, { clock, bufferLines: 10_000, flushIntervalMs: 10 });
  const labels = instanceLabels('noisy');
  const started = performance.now();
  let kept = 0;
  for (let i = 0; i < 1_000_000; i++) if (store.ingestLine(`{"level":30,"msg":"line ${i}"}`, labels)) kept++;
  const ms = performance.now() - started;
  assert.ok(ms < 2_000, `1,000,000 ingestLine calls took ${Math.round(ms)} ms`);
  assert.equal(kept, 10_000);
  const stats = store.stats();
  assert.equal(stats.buffered, 10_000);
  assert.equal(stats.dropped, 990_000);
  assert.deepEqual(stats.droppedBy.map((d) => [d.origin, d.count]), [['instance noisy', 990_000]]);
  await store.flush();
  // Once the pressure is over, the drop becomes a line a person will see in `slipway logs`.
  const notice = await until(() => store.query({ instance: 'noisy', stream: 'system' })[0], 'the drop notice');
  assert.equal(notice.message, 'dropped 990,000 stdout lines from instance noisy: the log buffer was full');
  assert.equal(notice.level, 'warn');
  await store.flush();
  assert.equal(store.stats().stored, 10_001);
  assert.equal(store.stats().buffered, 0);
});

test('store: retention by age prunes what is older than the period', async (t) => {
  const clock = manualClock();
  const store = openStore(t, { clock, retentionMs: 7 * 86_400_000, pruneBatch: 100 });
  for (let i = 0; i < 1000; i++) store.ingestLine(`old ${i}`, instanceLabels('i'));
  clock.advance(6 * 86_400_000);
  for (let i = 0; i < 10; i++) store.ingestLine(`recent ${i}`, instanceLabels('i'));
  await store.flush();
  assert.deepEqual(await store.prune(), { deleted: 0 });
  clock.advance(1 * 86_400_000 + 1);
  assert.deepEqual(await store.prune(), { deleted: 1000 });
  assert.deepEqual(msgs(store.query({})), Array.from({ length: 10 }, (_, i) => `recent ${i}`));
  assert.equal(store.stats().stored, 10);
  assert.equal(store.stats().pruned, 1000);
  assert.deepEqual(store.query({ grep: 'old' }), [], 'gone from the index too');
  assert.equal(store.query({ instance: 'i', since: 0 }).length, 10, 'label spans follow the pruning');
});

test('store: retention by size drops the oldest records until the database fits', async (t) => {
  const clock = manualClock();
  const maxBytes = 2 * 1024 * 1024;
  const store = openStore(t, { clock, maxBytes, pruneBatch: 1000 });
  const line = (i: number) => `level=info msg="request ${i} served" path=/api/orders/${i} user=u${i % 97} took_ms=${i % 1000}`;
  for (let i = 0; i < 20_000; i++) {
    store.ingestLine(line(i), instanceLabels('i'));
    if (i % 100 === 0) clock.advance(1);
  }
  await store.flush();
  // The writer starts a pass by itself once over budget; an explicit pass finishes the job.
  await store.prune();
  const stats = store.stats();
  assert.ok(stats.bytes <= maxBytes, `${stats.bytes} bytes used`);
  assert.ok(stats.stored > 1000 && stats.stored < 20_000, `${stats.stored} kept`);
  assert.equal(stats.pruned, 20_000 - stats.stored);
  assert.equal(store.query({ limit: 1 })[0].message, 'request 19999 served', 'the newest stay');
  assert.equal(store.query({ grep: 'request 0 served' }).length, 0, 'the oldest go');
  assert.equal(store.query({ limit: 10_000 }).length, Math.min(10_000, stats.stored));
  // Steady state: freed pages are reused, the used size stays within budget.
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 5_000; i++) store.ingestLine(line(i), instanceLabels('i'));
    await store.flush();
    await store.prune();
    assert.ok(store.stats().bytes <= maxBytes, `round ${round}: ${store.stats().bytes} bytes used`);
  }
});

test('store: live subscribe delivers new matching records only, in order, until unsubscribed', async (t) => {
  const store = openStore(t);
  store.ingestLine('before', instanceLabels('a'));
  await store.flush();
  const seen: string[] = [];
  const unsubscribe = store.subscribe({ instance: 'a', level: 'warn' }, (r) => seen.push(r.message));
  store.ingestLine('level=warn msg="one"', instanceLabels('a'));
  store.ingestLine('level=info msg="quiet"', instanceLabels('a'));
  store.ingestLine('level=error msg="other instance"', instanceLabels('b'));
  store.ingestLine('level=error msg="two"', instanceLabels('a'));
  await store.flush();
  assert.deepEqual(seen, ['one', 'two']);
  unsubscribe();
  store.ingestLine('level=error msg="three"', instanceLabels('a'));
  await store.flush();
  assert.deepEqual(seen, ['one', 'two']);
});

test('store: tail gives the backlog then live records, with no gap and no duplicate', async (t) => {
  const store = openStore(t);
  for (let i = 0; i < 5; i++) store.ingestLine(`old ${i}`, instanceLabels('a'));
  await store.flush();
  const seen: string[] = [];
  // Lines keep arriving while the tail starts.
  const writer = setInterval(() => store.ingestLine(`new ${seen.length}`, instanceLabels('a')), 1);
  const stop = await store.tail({ instance: 'a', limit: 3 }, (r) => seen.push(r.message));
  await new Promise((r) => setTimeout(r, 100));
  clearInterval(writer);
  await store.flush();
  stop();
  const all = msgs(store.query({ instance: 'a', limit: 10_000 }));
  const from = all.indexOf(seen[0]);
  assert.deepEqual(seen, all.slice(from), 'exactly the stored sequence from the backlog on');
  assert.ok(from <= 2 + 5);
  // A reconnect with the last id seen resumes right after it.
  const resumed: string[] = [];
  const lastId = store.query({ instance: 'a', limit: 10_000 }).at(-3)!.id!;
  const stop2 = await store.tail({ instance: 'a', afterId: lastId, limit: 1 }, (r) => resumed.push(r.message));
  stop2();
  assert.deepEqual(resumed, all.slice(-2));
});

test('store: records survive a restart and new ones sort after them', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'logs.db');
  const clock = manualClock();
  const first = new LogStore({ file, clock, pruneIntervalMs: 0 });
  first.ingestLine('one', instanceLabels('a'));
  first.ingestLine('two', instanceLabels('a'));
  await first.close();
  const second = new LogStore({ file, clock, pruneIntervalMs: 0 });
  t.after(() => second.close());
  await until(() => second.stats().stored === 2, 'the writer to report');
  second.ingestLine('three', instanceLabels('a'));
  await second.flush();
  assert.deepEqual(msgs(second.query({})), ['one', 'two', 'three']);
  assert.equal(second.ingestLine('late', instanceLabels('a')), true);
  await second.close();
  assert.equal(second.ingestLine('closed', instanceLabels('a')), false);
});

test('store: substring mode (trigrams) finds text inside words', async (t) => {
  const store = openStore(t, { search: 'substring' });
  store.ingestLine('Error: ECONNRESET', instanceLabels('a'));
  store.ingestLine('ok', instanceLabels('a'));
  await store.flush();
  assert.equal(store.mode, 'substring');
  assert.deepEqual(msgs(store.query({ grep: 'connreset' })), ['Error: ECONNRESET']);
  assert.deepEqual(msgs(store.query({ grep: 'ok' })), ['ok'], 'short needles scan');
});

test('store: pipeline labels carry fields onto every line', async (t) => {
  const store = openStore(t);
  store.ingestLine('{"msg":"compiled","files":12}', { source: 'pipeline', stream: 'stdout', app: 'shop', fields: { run: 'r-7', step: 'build' } });
  await store.flush();
  assert.deepEqual(store.query({ fields: { step: 'build' } }).map((r) => r.fields), [{ run: 'r-7', step: 'build', files: 12 }]);
});
