import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IngestBuffer } from '../../../src/telemetry/logs/buffer.ts';
import { IdAllocator } from '../../../src/telemetry/logs/ids.ts';
import { LineSplitter } from '../../../src/telemetry/logs/lines.ts';
import { instanceLabels } from './helpers.ts';

test('buffer: beyond capacity lines are dropped and counted per origin; a notice follows once calm', () => {
  const b = new IngestBuffer(3);
  const a = instanceLabels('a');
  const c = instanceLabels('c', { stream: 'stderr' });
  assert.deepEqual([b.push('1', 1, a), b.push('2', 1, a), b.push('3', 1, c), b.push('4', 1, a), b.push('5', 1, c), b.push('6', 1, a)], [true, true, true, false, false, false]);
  assert.equal(b.size, 3);
  assert.equal(b.room, 0);
  assert.equal(b.droppedTotal(), 3);
  assert.deepEqual(b.droppedBy().map((d) => [d.origin, d.count]), [['instance a', 2], ['instance c', 1]]);
  b.force({ file: 'f', ino: 1, offset: 10 }, 0);
  assert.equal(b.size, 3, 'offset marks do not count against the capacity');

  assert.deepEqual(b.dropNotices(), [], 'still under pressure');
  const batch = b.take(10);
  assert.deepEqual(batch.items.slice(0, 3), ['1', '2', '3']);
  assert.equal(batch.lines, 3);
  assert.equal(b.size, 0);
  const notices = b.dropNotices();
  assert.deepEqual(notices.map((n) => [n.instance, n.stream, n.level, n.message, n.fields]), [
    ['a', 'system', 'warn', 'dropped 2 stdout lines from instance a: the log buffer was full', { dropped: 2 }],
    ['c', 'system', 'warn', 'dropped 1 stderr lines from instance c: the log buffer was full', { dropped: 1 }],
  ]);
  assert.deepEqual(b.dropNotices(), [], 'reported once');
  assert.equal(b.droppedTotal(), 3, 'the totals stay for stats');
});

test('buffer: pushing a million lines into a small buffer is quick and never blocks', () => {
  const b = new IngestBuffer(1_000);
  const labels = instanceLabels('flood');
  const started = performance.now();
  let kept = 0;
  for (let i = 0; i < 1_000_000; i++) if (b.push('a line of output that goes on a bit', i, labels)) kept++;
  const ms = performance.now() - started;
  assert.equal(kept, 1_000);
  assert.equal(b.droppedTotal(), 999_000);
  assert.ok(ms < 1_000, `took ${ms} ms`);
});

test('ids: time-ordered, unique, up to 1000 per millisecond, late records slot in', () => {
  const stored: number[] = [];
  const ids = new IdAllocator(-1, (ms) => {
    const inMs = stored.filter((id) => Math.floor(id / 1000) === ms);
    return inMs.length ? Math.max(...inMs) : undefined;
  });
  // The writer allocates a sorted batch, then stores it.
  const batch = (...ts: number[]) => {
    ids.startBatch();
    const out = ts.map((t) => ids.next(t));
    stored.push(...out);
    return out;
  };
  assert.deepEqual(batch(5, 5, 7), [5000, 5001, 7000]);
  assert.deepEqual(batch(5, 6, 7, 8), [5002, 6000, 7001, 8000], 'late records go after the others of their millisecond');
  const full = batch(...Array.from({ length: 1002 }, () => 9));
  assert.deepEqual(full.slice(-3), [9999, 10000, 10001], 'a full millisecond spills into the next');
  assert.deepEqual(batch(10), [10002]);
  assert.equal(new Set(stored).size, stored.length);
  assert.deepEqual([...stored].sort((a, b) => a - b).slice(0, 3), [5000, 5001, 5002]);
});

test('lines: partial lines wait, long lines are cut once, UTF-8 split across reads decodes whole', () => {
  const s = new LineSplitter(10);
  assert.deepEqual(s.push(Buffer.from('one\ntw')), [{ text: 'one', truncated: false }]);
  assert.equal(s.pendingBytes, 2);
  assert.deepEqual(s.push(Buffer.from('o\r\n\n  \nthree')), [{ text: 'two', truncated: false }], 'CR stripped, blank lines skipped');
  assert.deepEqual(s.push(Buffer.from('-is-long')), [{ text: 'three-is-l', truncated: true }]);
  assert.equal(s.pendingBytes, 0);
  assert.deepEqual(s.push(Buffer.from('-still\nfour\n')), [{ text: 'four', truncated: false }], 'the rest of the long line is skipped');
  const euro = Buffer.from('€uro\n');
  assert.deepEqual([...s.push(euro.subarray(0, 2)), ...s.push(euro.subarray(2))], [{ text: '€uro', truncated: false }]);
  assert.deepEqual(s.push(Buffer.from('tail')), []);
  assert.deepEqual(s.end(), { text: 'tail', truncated: false });
  assert.deepEqual(new LineSplitter(4).push(Buffer.from('ab€\n')), [{ text: 'ab', truncated: true }], 'a cut character is dropped');
});
