import assert from 'node:assert/strict';
import { appendFileSync, closeSync, openSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { LogStore } from '../../../src/telemetry/logs/store.ts';
import { LogTailer, type TailSink } from '../../../src/telemetry/logs/tailer.ts';
import type { LogLabels } from '../../../src/telemetry/logs/types.ts';
import type { OffsetMark } from '../../../src/telemetry/logs/writer.ts';
import { instanceLabels, tempDir, until } from './helpers.ts';

function setup(t: TestContext, opts: { truncateAtBytes?: number } = {}) {
  const dir = tempDir(t, 'tailer');
  const file = path.join(dir, 'instances', 'shop-1', 'stdout.log');
  const db = path.join(dir, 'logs.db');
  const start = () => {
    const store = new LogStore({ file: db, pruneIntervalMs: 0, flushIntervalMs: 10 });
    const tailer = new LogTailer({ sink: store, pollMs: 20, ...opts });
    return { store, tailer, stop: async () => { await tailer.close(); await store.close(); } };
  };
  return { dir, file, start };
}

const messages = (store: LogStore) => store.query({ limit: 10_000 }).map((r) => r.message);

test('tailer: appended lines arrive, labelled and parsed; a partial line waits for its end', async (t) => {
  const { file, start } = setup(t);
  const { store, tailer, stop } = start();
  t.after(stop);
  tailer.follow(file, instanceLabels('shop-1'));
  await new Promise((r) => setTimeout(r, 50));
  const { mkdirSync } = await import('node:fs');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, 'first\n{"level":50,"msg":"second"}\npar');
  await until(() => messages(store).length === 2, 'two lines');
  const [first, second] = store.query({});
  assert.equal(first.instance, 'shop-1');
  assert.equal(second.level, 'error');
  appendFileSync(file, 'tial');
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(messages(store), ['first', 'second'], 'no half line');
  appendFileSync(file, ' line\n' + 'x'.repeat(20_000) + '\nafter\n');
  await until(() => messages(store).length === 5, 'the rest');
  const all = store.query({});
  assert.equal(all[2].message, 'partial line');
  assert.equal(all[3].message.length, 16 * 1024);
  assert.equal(all[3].truncated, true);
  assert.equal(all[4].message, 'after');
});

test('tailer: a restarted control plane resumes at the stored offset, no duplicates, no gaps', async (t) => {
  const { file, start } = setup(t);
  const { mkdirSync } = await import('node:fs');
  mkdirSync(path.dirname(file), { recursive: true });
  // The instance keeps its descriptor (O_APPEND) across our restarts.
  const fd = openSync(file, 'a');
  t.after(() => closeSync(fd));
  for (let i = 0; i < 100; i++) writeSync(fd, `line ${i}\n`);
  const first = start();
  first.tailer.follow(file, instanceLabels('shop-1'));
  await until(() => messages(first.store).length === 100, '100 lines');
  writeSync(fd, 'line 100\nline 1');
  await until(() => messages(first.store).length === 101, '101 lines');
  await first.stop();

  writeSync(fd, '01\n');
  for (let i = 102; i < 200; i++) writeSync(fd, `line ${i}\n`);
  const second = start();
  t.after(second.stop);
  second.tailer.follow(file, instanceLabels('shop-1'));
  await until(() => messages(second.store).length >= 200, '200 lines');
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(messages(second.store), Array.from({ length: 200 }, (_, i) => `line ${i}`));
});

test('tailer: a file over the cap is truncated once read; the O_APPEND writer carries on at its start', async (t) => {
  const { file, start } = setup(t, { truncateAtBytes: 2048 });
  const { mkdirSync } = await import('node:fs');
  mkdirSync(path.dirname(file), { recursive: true });
  const fd = openSync(file, 'a');
  t.after(() => closeSync(fd));
  const { store, tailer, stop } = start();
  t.after(stop);
  tailer.follow(file, instanceLabels('shop-1'));
  const expected: string[] = [];
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 100; i++) {
      const line = `round ${round} line ${i} ${'.'.repeat(20)}`;
      expected.push(line);
      writeSync(fd, `${line}\n`);
    }
    await until(() => messages(store).length === expected.length, `round ${round}`);
    await until(() => statSync(file).size === 0, 'the truncation');
  }
  assert.deepEqual(messages(store), expected);
  // Restarting after a truncation starts at the (new) beginning, not at the old offset.
  await tailer.unfollow(file);
  writeSync(fd, 'after truncation\n');
  tailer.follow(file, instanceLabels('shop-1'));
  await until(() => messages(store).at(-1) === 'after truncation', 'the line after truncation');
  assert.equal(messages(store).length, expected.length + 1);
});

test('tailer: unfollow stores the unfinished last line; forget drops the offset', async (t) => {
  const { file, start } = setup(t);
  const { mkdirSync } = await import('node:fs');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, 'done\nexiting without a newline');
  const { store, tailer, stop } = start();
  t.after(stop);
  tailer.follow(file, instanceLabels('shop-1'));
  await until(() => messages(store).length === 1, 'one line');
  await tailer.unfollow(file);
  await store.flush();
  assert.deepEqual(messages(store), ['done', 'exiting without a newline']);
  assert.equal(store.offset(file)?.offset, statSync(file).size);
  tailer.follow(file, instanceLabels('shop-1'));
  await tailer.unfollow(file, { forget: true });
  await store.flush();
  assert.equal(store.offset(file), undefined);
});

/** A sink whose room the test controls. */
function fakeSink(room: number) {
  const sink = {
    capacity: 100, room: () => room, lines: [] as string[], marks: [] as OffsetMark[], dropped: 0,
    setRoom(n: number) { room = n; },
    ingestLine(raw: string) { sink.lines.push(raw); return true; },
    markOffset(mark: OffsetMark) { sink.marks.push(mark); },
    offset: () => undefined,
    countDropped(_labels: LogLabels, n: number) { sink.dropped += n; },
  };
  return sink satisfies TailSink;
}

test('tailer: waits in the file while the store is busy; skips ahead (counted) when too far behind', async (t) => {
  const dir = tempDir(t, 'tailer');
  const file = path.join(dir, 'out.log');
  writeFileSync(file, 'a\nb\n');
  const sink = fakeSink(10);
  const tailer = new LogTailer({ sink, pollMs: 20, maxLagBytes: 1000 });
  t.after(() => tailer.close());
  tailer.follow(file, instanceLabels('i'));
  await new Promise((r) => setTimeout(r, 150));
  assert.deepEqual(sink.lines, [], 'no room above the reserve: nothing read');
  sink.setRoom(100);
  await until(() => sink.lines.length === 2, 'lines once there is room');
  sink.setRoom(0);
  appendFileSync(file, 'c\n'.repeat(600)); // 1200 bytes behind > maxLagBytes
  await until(() => sink.dropped === 600, 'the skipped lines counted');
  sink.setRoom(100);
  appendFileSync(file, 'd\n');
  await until(() => sink.lines.length === 3, 'reading resumes at the end');
  assert.deepEqual(sink.lines, ['a', 'b', 'd']);
  assert.equal(sink.marks.at(-1)!.offset, statSync(file).size);
});

test('tailer: a replaced file (new inode) is read from its start', async (t) => {
  const dir = tempDir(t, 'tailer');
  const file = path.join(dir, 'out.log');
  writeFileSync(file, 'old 1\nold 2\n');
  const sink = fakeSink(100);
  const tailer = new LogTailer({ sink, pollMs: 20 });
  t.after(() => tailer.close());
  tailer.follow(file, instanceLabels('i'));
  await until(() => sink.lines.length === 2, 'old lines');
  writeFileSync(`${file}.new`, 'new 1\nnew 2\nnew 3\n');
  renameSync(`${file}.new`, file);
  await until(() => sink.lines.length === 5, 'new lines');
  assert.deepEqual(sink.lines, ['old 1', 'old 2', 'new 1', 'new 2', 'new 3']);
});

test('tailer: an instance flooding its file never waits, the file stays bounded, the loss is counted', async (t) => {
  const dir = tempDir(t, 'tailer');
  const file = path.join(dir, 'out.log');
  const store = new LogStore({ file: path.join(dir, 'logs.db'), pruneIntervalMs: 0, bufferLines: 20_000, flushIntervalMs: 10 });
  const tailer = new LogTailer({ sink: store, pollMs: 20, maxLagBytes: 2 * 1024 * 1024, truncateAtBytes: 2 * 1024 * 1024 });
  t.after(async () => { await tailer.close(); await store.close(); });
  tailer.follow(file, instanceLabels('flood'));
  // The instance: its own process, appending (O_APPEND) as fast as it can for a second.
  const { spawn } = await import('node:child_process');
  const script = `const fs = require('fs'); const fd = fs.openSync(${JSON.stringify(file)}, 'a'); const end = Date.now() + 1000; let i = 0;
    while (Date.now() < end) { let chunk = ''; for (let k = 0; k < 1000; k++) chunk += 'level=info msg="flood line" n=' + (i++) + '\\n'; fs.writeSync(fd, chunk); }
    console.log(i);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  let maxSize = 0;
  let maxLag = 0;
  let last = performance.now();
  const sampler = setInterval(() => {
    const now = performance.now();
    maxLag = Math.max(maxLag, now - last - 10);
    last = now;
    try { maxSize = Math.max(maxSize, statSync(file).size); } catch { /* not yet */ }
  }, 10);
  await new Promise((r) => child.once('exit', r));
  const written = Number(out.trim());
  // Caught up: everything the child wrote was read or skipped.
  await until(() => store.offset(file)?.offset === statSync(file).size && store.stats().buffered === 0, 'the tailer to catch up', 20_000);
  clearInterval(sampler);
  await store.flush();
  const stats = store.stats();
  assert.ok(written > 10_000, `the child wrote ${written} lines`);
  assert.ok(maxLag < 500, `our event loop stalled ${Math.round(maxLag)} ms`);
  assert.ok(maxSize < 64 * 1024 * 1024, `the file reached ${maxSize} bytes`);
  assert.ok(stats.written > 0);
  // Every line is stored or counted as dropped; skipped backlogs are counted by estimate.
  const accounted = stats.written + stats.dropped;
  assert.ok(Math.abs(accounted - written) < written * 0.1, `${stats.written} stored + ${stats.dropped} dropped of ${written}`);
  const notice = await until(() => store.query({ instance: 'flood', stream: 'system' })[0], 'the drop notice');
  assert.match(notice.message, /^dropped about [\d,]+ stdout lines from instance flood: the log store fell too far behind$/);
});
