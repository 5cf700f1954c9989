import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { MAX_LINE, runStep } from '../../src/pipeline/process.ts';
import { waitFor } from '../helpers/wait.ts';

// Real `sh -c` steps. A marker in each command's arguments finds its processes in /proc.

function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try { if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) found.push(Number(entry)); } catch { /* gone */ }
  }
  return found;
}

function step(t: { after: (fn: () => void) => void }, command: string) {
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'slipway-step-'));
  t.after(() => rmSync(cwd, { recursive: true, force: true }));
  const lines: string[] = [];
  const proc = runStep(command, { cwd, env: { PATH: process.env.PATH! }, timeoutMs: 20_000, onLine: (_s, line) => lines.push(line) });
  return { proc, lines };
}

test('step: what the shell leaves running in the background is stopped when it exits', async (t) => {
  // Holding stdout: before, the step waited for it until its timeout.
  const held = `${300}.1${process.pid}`;
  const a = step(t, `sleep ${held} & echo started`);
  const outcome = await a.proc.done;
  assert.deepEqual({ code: outcome.code, timedOut: outcome.timedOut }, { code: 0, timedOut: false });
  assert.deepEqual(a.lines, ['started']);
  await waitFor(() => processesWith(held).length === 0, 10_000, 'the background sleep to be stopped');

  // Detached from the pipes: before, it outlived the step (and its workspace).
  const loose = `${300}.2${process.pid}`;
  const b = step(t, `nohup sleep ${loose} >/dev/null 2>&1 & echo started`);
  assert.equal((await b.proc.done).code, 0);
  await waitFor(() => processesWith(loose).length === 0, 10_000, 'the detached sleep to be stopped');
});

test('step: one that ignores SIGTERM in the background still goes, by SIGKILL', async (t) => {
  const stubborn = `${300}.3${process.pid}`;
  const s = step(t, `(trap '' TERM; exec sleep ${stubborn}) >/dev/null 2>&1 & echo started`);
  assert.equal((await s.proc.done).code, 0);
  await waitFor(() => processesWith(stubborn).length === 0, 15_000, 'the stubborn sleep to be killed');
});

test('step: output arrives line by line; a line longer than MAX_LINE continues on the next', async (t) => {
  const s = step(t, `printf 'one\\r\\ntwo\\n'; head -c 100000 /dev/zero | tr '\\0' x; printf '\\nlast'`);
  assert.equal((await s.proc.done).code, 0);
  assert.deepEqual(s.lines.slice(0, 2), ['one', 'two']);
  const long = s.lines.slice(2, -1);
  assert.ok(long.every((l) => l.length <= MAX_LINE), 'every piece within MAX_LINE');
  assert.equal(long.join(''), 'x'.repeat(100_000), 'nothing lost or added');
  assert.equal(s.lines.at(-1), 'last', 'an unterminated last line still arrives');
});
