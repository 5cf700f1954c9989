import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { LogStore } from '../../src/telemetry/logs/store.ts';
import type { LogFilter, LogLabels } from '../../src/telemetry/logs/types.ts';
import type { SearchMode } from '../../src/telemetry/logs/search.ts';
import { generateLines, writtenAt } from './lines.ts';

// Log store benchmark, one run:
//  1. ingest: LINES realistic lines (pino/winston JSON, logfmt, plain) through the public path
//     (LogStore.ingestLine; the producer waits while the buffer is full, as the tailer does),
//     until committed. Side by side: appending the same lines to a plain file.
//  2. search: 50 keywords of varied frequency, newest 100 matches, over the stored lines;
//     side by side: `grep -F <word> file | tail -100` over the same lines in a plain file.
//  3. other filters (label, level, field, time range), medians of 5.
//  4. the same ingest and search in 'substring' mode (FTS5 trigrams) over SUBSTRING_LINES lines.
// Knobs (env): LINES=1000000 SUBSTRING_LINES=200000.

const LINES = Number(process.env.LINES ?? 1_000_000);
const SUBSTRING_LINES = Number(process.env.SUBSTRING_LINES ?? 200_000);

const sh = (cmd: string, args: string[]) => { try { return execFileSync(cmd, args, { encoding: 'utf8' }).trim(); } catch { return '?'; } };
const cpuModel = () => /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
const quantile = (xs: number[], q: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]; };
const ms = (x: number) => `${x < 10 ? x.toFixed(2) : x.toFixed(1)} ms`;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const rate = (n: number, msTaken: number) => `${Math.round((n / msTaken) * 1000).toLocaleString('en-US')} lines/s`;
const pad = (s: string, n: number) => s.padEnd(n);

const tmp = mkdtempSync(path.join(os.tmpdir(), 'slipway-bench-logs-'));
const cleanup = () => rmSync(tmp, { recursive: true, force: true });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => { cleanup(); process.exit(130); });
// Piped into `head`: stop quietly, and still clean up.
process.stdout.on('error', () => { cleanup(); process.exit(0); });

const APPS = ['shop', 'blog', 'billing'];
const labelSets: LogLabels[] = [];
for (const app of APPS) for (const n of [1, 2]) for (const stream of ['stdout', 'stderr'] as const) {
  labelSets.push({ app, env: 'prod', release: 'v42', instance: `${app}-${n}`, source: 'instance', stream });
}
/** Plain lines go to stderr (stack traces, warnings), structured ones to stdout. */
const labelsFor = (i: number, line: string) => labelSets[((i % 6) * 2) + (line[0] === '{' || line.startsWith('level=') ? 0 : 1)];

/**
 * Feeds the lines as a tailer would: each one read 40 ms after it was written (its read time is
 * the timestamp of plain lines; JSON lines keep their own), waiting while the buffer is full.
 */
async function ingestAll(store: LogStore, lines: string[], now: number): Promise<{ ms: number; elu: number; cpu: number }> {
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  let i = 0;
  while (i < lines.length) {
    const room = store.room();
    if (room === 0) {
      await new Promise((r) => setTimeout(r, 1));
      continue;
    }
    const end = Math.min(lines.length, i + Math.min(room, 10_000));
    for (; i < end; i++) store.ingestLine(lines[i], labelsFor(i, lines[i]), writtenAt(i, lines.length, now) + 40);
    await new Promise((r) => setImmediate(r));
  }
  await store.flush();
  const taken = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { ms: taken, elu: performance.eventLoopUtilization(elu0).utilization, cpu: (cpu.user + cpu.system) / 1000 };
}

function needles(lines: string[]): { group: string; words: string[] }[] {
  const rare: string[] = [];
  for (let i = 0; rare.length < 20; i += Math.floor(lines.length / 23)) {
    const m = /req-[0-9a-f]{12}/.exec(lines[i % lines.length]);
    if (m) rare.push(m[0]);
    else i -= Math.floor(lines.length / 23) - 1;
  }
  return [
    { group: 'rare (a request id, 1 line)', words: rare },
    { group: 'medium (a user id, ~80 lines)', words: ['u1234', 'u77', 'u4999', 'u2500', 'u310', 'u4096', 'u1', 'u3333', 'u808', 'u2718'] },
    { group: 'phrases (0.5-3% of lines)', words: ['circuit breaker opened', 'certificate expires soon', 'email bounced', 'inventory reservation', 'disk usage above'] },
    { group: 'common (10-40% of lines)', words: ['GET', 'payment', 'ECONNRESET', 'eu-west-1', 'request completed', 'cache miss', 'deprecated', 'TimeoutError', 'web-1', '/api/orders'] },
    { group: 'absent', words: ['zebra', 'kubernetes', 'segfault', 'req-000000000000', 'OutOfMemory'] },
    { group: 'prefix (`word*`: start of a word)', words: ['timeout*', 'req-7f*', 'pay*', 'u12*', 'econn*'] },
  ];
}

function searchStore(store: LogStore, groups: { group: string; words: string[] }[]) {
  for (const g of groups) store.query({ grep: g.words[0], limit: 100 }); // warm the page cache
  return groups.map((g) => ({
    group: g.group,
    times: g.words.map((w) => {
      const t0 = performance.now();
      const hits = store.query({ grep: w, limit: 100 }).length;
      return { t: performance.now() - t0, hits };
    }),
  }));
}

function searchGrep(file: string, groups: { group: string; words: string[] }[]) {
  spawnSync('sh', ['-c', `cat '${file}' > /dev/null`]); // the file in the page cache, as the database is
  return groups.map((g) => ({
    group: g.group,
    times: g.words.map((w) => {
      const t0 = performance.now();
      const out = spawnSync('sh', ['-c', `grep -F -- '${w.replace(/\*$/, '')}' '${file}' | tail -100`], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      return { t: performance.now() - t0, hits: out.stdout.split('\n').filter(Boolean).length };
    }),
  }));
}

function dbBytes(file: string): number {
  return [file, `${file}-wal`].filter(existsSync).reduce((n, f) => n + statSync(f).size, 0);
}

async function openFilled(mode: SearchMode, lines: string[], now: number): Promise<{ store: LogStore; ingest: { ms: number; elu: number; cpu: number }; file: string }> {
  const file = path.join(tmp, `logs-${mode}.db`);
  // Retention off for the run: the generated lines span the last hour and the size is ours to see.
  const store = new LogStore({ file, search: mode, pruneIntervalMs: 0, maxBytes: 64 * 1024 ** 3 });
  const ingest = await ingestAll(store, lines, now);
  return { store, ingest, file };
}

async function main(): Promise<void> {
  const started = performance.now();
  console.log('# Log store benchmark');
  console.log(`command: ${['node', ...process.argv.slice(1).map((a) => path.relative(process.cwd(), a) || a)].join(' ')}${process.env.LINES ? ` (LINES=${LINES})` : ''}${process.env.SUBSTRING_LINES ? ` (SUBSTRING_LINES=${SUBSTRING_LINES})` : ''}`);
  console.log(`date: ${new Date().toISOString()}`);
  console.log(`load average at start: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (other work on the machine slows every figure below)`);
  console.log(`machine: nproc ${sh('nproc', [])}, CPU ${cpuModel()}, node ${process.version}, SQLite ${sh('sh', ['-c', `${process.execPath} -e "console.log(new (require('node:sqlite').DatabaseSync)(':memory:').prepare('select sqlite_version() v').get().v)"`])}, ${sh('sh', ['-c', 'grep --version | head -1'])}`);

  const now = Date.now();
  const lines = generateLines(LINES, now);
  const plainFile = path.join(tmp, 'plain.log');
  const tPlain = performance.now();
  writeFileSync(plainFile, '');
  for (let i = 0; i < lines.length; i += 5000) writeFileSync(plainFile, lines.slice(i, i + 5000).join('\n') + '\n', { flag: 'a' });
  const plainMs = performance.now() - tPlain;
  const avg = lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0) / lines.length;
  console.log(`data: ${LINES.toLocaleString('en-US')} lines, ${mb(statSync(plainFile).size)} as a plain file (avg ${avg.toFixed(0)} bytes/line); 40% pino JSON, 15% winston JSON, 25% logfmt, 20% plain text; 6 instances x 2 streams`);
  console.log();

  // ── word mode (the default) ──
  const word = await openFilled('word', lines, now);
  const stats = word.store.stats();
  console.log('## Ingest (public path: LogStore.ingestLine -> buffer -> writer thread -> SQLite, until committed)');
  console.log();
  console.log('| | lines | time | rate | CPU per line (all threads) | on disk |');
  console.log('|---|---:|---:|---:|---:|---:|');
  console.log(`| log store, word index (default) | ${LINES.toLocaleString('en-US')} | ${(word.ingest.ms / 1000).toFixed(1)} s | **${rate(LINES, word.ingest.ms)}** | ${((word.ingest.cpu / LINES) * 1000).toFixed(1)} µs | ${mb(dbBytes(word.file))} |`);
  console.log(`| plain file append (reference) | ${LINES.toLocaleString('en-US')} | ${(plainMs / 1000).toFixed(2)} s | ${rate(LINES, plainMs)} | | ${mb(statSync(plainFile).size)} |`);
  console.log();
  console.log(`stored ${stats.stored.toLocaleString('en-US')}, dropped ${stats.dropped}, main-thread event loop utilisation during ingest ${(word.ingest.elu * 100).toFixed(0)}% (parsing, indexing and writing run in the writer thread)`);
  console.log();

  const groups = needles(lines);
  const storeTimes = searchStore(word.store, groups);
  const grepTimes = searchGrep(plainFile, groups);
  console.log(`## Keyword search over ${LINES.toLocaleString('en-US')} lines: newest 100 matches (\`--grep WORD --limit 100\`) vs \`grep -F WORD file | tail -100\``);
  console.log();
  console.log('| words | n | store p50 | store max | grep -F p50 | grep -F max | hits (store / grep) |');
  console.log('|---|---:|---:|---:|---:|---:|---|');
  for (let i = 0; i < groups.length; i++) {
    const s = storeTimes[i].times;
    const g = grepTimes[i].times;
    const hits = (xs: { hits: number }[]) => `${Math.min(...xs.map((x) => x.hits))}-${Math.max(...xs.map((x) => x.hits))}`;
    console.log(`| ${groups[i].group} | ${s.length} | ${ms(quantile(s.map((x) => x.t), 0.5))} | ${ms(Math.max(...s.map((x) => x.t)))} | ${ms(quantile(g.map((x) => x.t), 0.5))} | ${ms(Math.max(...g.map((x) => x.t)))} | ${hits(s)} / ${hits(g)} |`);
  }
  // The 50 keyword queries: every group but the prefix one.
  const allStore = storeTimes.slice(0, -1).flatMap((g) => g.times.map((x) => x.t));
  const allGrep = grepTimes.slice(0, -1).flatMap((g) => g.times.map((x) => x.t));
  console.log(`| **all keywords** | ${allStore.length} | **${ms(quantile(allStore, 0.5))}** (p99 ${ms(quantile(allStore, 0.99))}) | ${ms(Math.max(...allStore))} | **${ms(quantile(allGrep, 0.5))}** (p99 ${ms(quantile(allGrep, 0.99))}) | ${ms(Math.max(...allGrep))} | |`);
  console.log();
  console.log('Hits differ by design: the store matches whole words ignoring case (a trailing * a word start); grep -F is case-sensitive and matches anywhere. The grep column for a prefix searches the text without the *.');
  console.log();

  const filters: [string, LogFilter][] = [
    ['--app shop (newest 500)', { app: 'shop' }],
    ['--app shop --level error', { app: 'shop', level: 'error' }],
    ['--level fatal (none exist: full answer is empty)', { level: 'fatal' }],
    ['--instance blog-2 --since 15m', { instance: 'blog-2', since: now - 900_000 }],
    ['--since 40m --until 30m (newest 500 of the slice)', { since: now - 2_400_000, until: now - 1_800_000 }],
    ['--field userId=u1234', { fields: { userId: 'u1234' } }],
    ['--app billing --level warn --grep payment', { app: 'billing', level: 'warn', grep: 'payment' }],
    ['--stream stderr --grep ECONNRESET --limit 100', { stream: 'stderr', grep: 'ECONNRESET', limit: 100 }],
  ];
  console.log('## Other filters (median of 5)');
  console.log();
  console.log('| filter | records | median |');
  console.log('|---|---:|---:|');
  for (const [name, f] of filters) {
    const times: number[] = [];
    let n = 0;
    for (let k = 0; k < 5; k++) {
      const t0 = performance.now();
      n = word.store.query(f).length;
      times.push(performance.now() - t0);
    }
    console.log(`| \`${name}\` | ${n} | ${ms(quantile(times, 0.5))} |`);
  }
  console.log();
  await word.store.close();
  rmSync(word.file, { force: true });
  rmSync(`${word.file}-wal`, { force: true });
  rmSync(`${word.file}-shm`, { force: true });

  // ── substring mode (trigrams), smaller: it is the slow one to fill ──
  const sub = generateLines(SUBSTRING_LINES, now);
  const subPlain = path.join(tmp, 'plain-sub.log');
  writeFileSync(subPlain, sub.join('\n') + '\n');
  const wordSmall = await openFilled('word', sub, now);
  const wordSmallTimes = searchStore(wordSmall.store, groups).slice(0, -1).flatMap((g) => g.times.map((x) => x.t));
  const wordSmallBytes = dbBytes(wordSmall.file);
  await wordSmall.store.close();
  const trigram = await openFilled('substring', sub, now);
  const triTimes = searchStore(trigram.store, groups).slice(0, -1).flatMap((g) => g.times.map((x) => x.t));
  const grepSmall = searchGrep(subPlain, groups).slice(0, -1).flatMap((g) => g.times.map((x) => x.t));
  console.log(`## Word index vs trigram index (substring search) over ${SUBSTRING_LINES.toLocaleString('en-US')} lines (the 50 keyword queries)`);
  console.log();
  console.log('| index | ingest | CPU per line | on disk | search p50 | search p99 |');
  console.log('|---|---:|---:|---:|---:|---:|');
  console.log(`| word: unicode61 (default) | ${rate(SUBSTRING_LINES, wordSmall.ingest.ms)} | ${((wordSmall.ingest.cpu / SUBSTRING_LINES) * 1000).toFixed(1)} µs | ${mb(wordSmallBytes)} | ${ms(quantile(wordSmallTimes, 0.5))} | ${ms(quantile(wordSmallTimes, 0.99))} |`);
  console.log(`| substring: trigram | ${rate(SUBSTRING_LINES, trigram.ingest.ms)} | ${((trigram.ingest.cpu / SUBSTRING_LINES) * 1000).toFixed(1)} µs | ${mb(dbBytes(trigram.file))} | ${ms(quantile(triTimes, 0.5))} | ${ms(quantile(triTimes, 0.99))} |`);
  console.log(`| grep -F over a plain file | - | - | ${mb(statSync(subPlain).size)} | ${ms(quantile(grepSmall, 0.5))} | ${ms(quantile(grepSmall, 0.99))} |`);
  console.log();
  await trigram.store.close();
  console.log(`total bench time ${((performance.now() - started) / 1000).toFixed(0)} s; load average at end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

try {
  await main();
} finally {
  cleanup();
}
