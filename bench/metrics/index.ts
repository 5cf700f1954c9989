// Metrics store benchmark: ingest throughput and a 24-hour range query over 1,000 series at
// 1-minute steps, plus (if Debian's prometheus and promtool are installed) the same queries
// through Prometheus' HTTP API as an anchor.
//
//   node_modules/.bin/node bench/metrics/index.ts            (SKIP_PROMETHEUS=1 to skip the anchor)
//
// Data for the query: 24 h of raw 15 s samples for 1,100 series (1,000 counters + a
// 100-series histogram) pushed through the real pipeline — ingest, compaction into 1-minute
// rollups, day sealing, raw retention — under a manual clock, so the query reads what a
// server would have after a day: yesterday's sealed day chunk, today's hour chunks and the
// raw tail not yet rolled up.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parseExposition } from '../../src/telemetry/metrics/exposition.ts';
import { withTargetLabels } from '../../src/telemetry/metrics/scraper.ts';
import { MetricsStore } from '../../src/telemetry/metrics/store.ts';
import type { MetricQuery, Sample } from '../../src/telemetry/metrics/types.ts';

const S = 1000;
const M = 60_000;
const H = 3_600_000;
const NOW = Date.UTC(2025, 0, 2, 9, 30); // the query's "now": 09:30 UTC, so 24 h spans two days
const APPS = 10;
const INSTANCES = 10;
const CODES = ['200', '201', '204', '301', '304', '400', '401', '404', '500', '503'];
const PATHS = 10;
const LES = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '+Inf'];

const dir = mkdtempSync(join(os.tmpdir(), 'slipway-bench-metrics-'));
const children: ChildProcess[] = [];
const cleanup = () => {
  for (const c of children) if (c.pid && c.exitCode === null && c.signalCode === null) { try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ } }
  rmSync(dir, { recursive: true, force: true });
};
process.on('SIGINT', () => { cleanup(); process.exit(130); });

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => `${n.toFixed(1)} ms`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function header(): void {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const db = new DatabaseSync(':memory:');
  const sqlite = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  db.close();
  console.log(`$ ${[process.argv0, ...process.argv.slice(1).map((a) => a.replace(process.cwd() + '/', ''))].join(' ')}`);
  console.log(`date ${new Date().toISOString()} · nproc ${os.availableParallelism()} · ${cpu} · Node ${process.version} · SQLite ${sqlite} · load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

/** The 1,000 counter series and 100 histogram bucket series, as label sets. */
function seriesLabels() {
  const counters: Record<string, string>[] = [];
  for (let a = 0; a < APPS; a++) for (let i = 0; i < INSTANCES; i++) for (const code of CODES) {
    counters.push({ app: `app${a}`, env: 'production', release: 'v42', instance: `app${a}-${i}`, code });
  }
  const buckets: Record<string, string>[] = [];
  for (let p = 0; p < PATHS; p++) for (const le of LES) buckets.push({ app: 'app0', env: 'production', path: `/api/${p}`, le });
  return { counters, buckets };
}

function samplesAt(t: number, sets: ReturnType<typeof seriesLabels>, round: number): Sample[] {
  const out: Sample[] = [];
  for (let k = 0; k < sets.counters.length; k++) out.push({ name: 'http_requests_total', labels: sets.counters[k], value: round * (1 + (k % 7)), ts: t });
  for (let k = 0; k < sets.buckets.length; k++) out.push({ name: 'http_request_duration_seconds_bucket', labels: sets.buckets[k], value: round * 10 * (1 + (k % LES.length)), ts: t });
  return out;
}

// ---------------------------------------------------------------------------------------------

function benchIngest(): void {
  console.log('\n## ingest: samples/s into a fresh file (one transaction per batch; a batch = one target\'s scrape)');
  console.log('(first scrape: every series is new and gets created; then: known series, the steady state; goal ≥ 200,000/s)');
  console.log(`${'path'.padEnd(36)} ${'series'.padStart(7)} ${'batch'.padStart(7)} ${'1st scrape/s'.padStart(12)} ${'samples'.padStart(10)} ${'seconds'.padStart(8)} ${'samples/s'.padStart(11)}`);
  const runs: [string, number, number, number, boolean][] = [
    ['store.ingest(Sample[])', 10_000, 1_000, 41, false],
    ['store.ingest(Sample[])', 10_000, 10_000, 41, false],
    ['store.ingest(Sample[])', 100_000, 10_000, 7, false],
    ['parse text + target labels + ingest', 10_000, 1_000, 41, true],
  ];
  for (const [path, series, batch, rounds, parse] of runs) {
    const file = join(dir, `ingest-${series}-${batch}-${parse}.db`);
    let now = NOW;
    const store = new MetricsStore({ file, clock: { now: () => now, sleep: async () => {} } });
    const labels = Array.from({ length: series }, (_, k) => ({ app: `app${k % 50}`, env: 'production', release: 'v1', instance: `i${k % 500}`, code: String(k) }));
    let total = 0;
    let elapsed = 0;
    let first = 0;
    for (let r = 0; r < rounds; r++) {
      if (r === 1) {
        first = total / (elapsed / 1000);
        total = 0;
        elapsed = 0;
      }
      now = NOW + r * 15 * S;
      for (let b = 0; b < series; b += batch) {
        const end = Math.min(series, b + batch);
        if (parse) {
          // What the scraper does with one target's response (minus HTTP): exposition text in.
          const target = { app: `app${b % 50}`, env: 'production', release: 'v1', instance: `i${b}` };
          let text = '';
          for (let k = b; k < end; k++) text += `metric_${k % 100}{code="${k}",path="/api/${k % 20}"} ${r * k}\n`;
          const t0 = performance.now();
          const samples = withTargetLabels(parseExposition(text, now), target);
          store.ingest(samples);
          elapsed += performance.now() - t0;
          total += samples.length;
        } else {
          const samples: Sample[] = [];
          for (let k = b; k < end; k++) samples.push({ name: `metric_${k % 100}`, labels: { ...labels[k] }, value: r * k, ts: now });
          const t0 = performance.now();
          store.ingest(samples);
          elapsed += performance.now() - t0;
          total += samples.length;
        }
      }
    }
    store.close();
    console.log(`${path.padEnd(36)} ${fmt(series).padStart(7)} ${fmt(batch).padStart(7)} ${fmt(first).padStart(12)} ${fmt(total).padStart(10)} ${(elapsed / 1000).toFixed(2).padStart(8)} ${fmt(total / (elapsed / 1000)).padStart(11)}`);
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
  }
}

interface Loaded {
  store: MetricsStore;
  file: string;
}

function load24h(): Loaded {
  const file = join(dir, 'day.db');
  let now = NOW - 24 * H - 30 * M;
  const store = new MetricsStore({ file, clock: { now: () => now, sleep: async () => {} } });
  const sets = seriesLabels();
  let samples = 0;
  let ingestMs = 0;
  let compactMs = 0;
  const started = performance.now();
  for (let round = 1; now < NOW; round++) {
    now += 15 * S;
    const batch = samplesAt(now, sets, round);
    let t0 = performance.now();
    store.ingest(batch);
    ingestMs += performance.now() - t0;
    samples += batch.length;
    if (round % 20 === 0) { // compaction every 5 simulated minutes (see the note printed below)
      t0 = performance.now();
      while (store.compact({ budgetMs: 1_000 }).more);
      compactMs += performance.now() - t0;
    }
  }
  const total = performance.now() - started;
  const db = new DatabaseSync(file, { readOnly: true });
  const rows = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  const raw = rows('SELECT count(*) AS n FROM raw');
  const hourChunks = rows(`SELECT count(*) AS n FROM m1 WHERE span = ${H}`);
  const dayChunks = rows(`SELECT count(*) AS n FROM m1 WHERE span = ${24 * H}`);
  db.close();
  const size = ['', '-wal'].reduce((a, s) => { try { return a + statSync(file + s).size; } catch { return a; } }, 0);
  console.log(`\n## 24 h of data: ${fmt(sets.counters.length + sets.buckets.length)} series × raw 15 s samples = ${fmt(samples)} samples through ingest + compaction (manual clock)`);
  console.log('(compaction runs every 5 simulated minutes to keep the bench short; a server runs it every 10 s — same rollups, the open hour chunk is just rewritten less often)');
  console.log(`loaded in ${(total / 1000).toFixed(1)} s (ingest ${(ingestMs / 1000).toFixed(1)} s = ${fmt(samples / (ingestMs / 1000))} samples/s, compaction ${(compactMs / 1000).toFixed(1)} s); ` +
    `now: ${fmt(raw)} raw rows (last 6 h), ${fmt(dayChunks)} sealed day chunks + ${fmt(hourChunks)} hour chunks of 1-minute rollups; file ${(size / 2 ** 20).toFixed(0)} MiB`);
  return { store, file };
}

function timeQuery(store: MetricsStore, q: MetricQuery, reps = 11): { times: number[]; series: number; points: number; jsonMs: number; resolution: string } {
  const run = () => store.query({ ...q, end: NOW });
  const first = run(); // warm-up (page cache, JIT)
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  const t0 = performance.now();
  JSON.stringify(first);
  const jsonMs = performance.now() - t0;
  return { times, series: first.series.length, points: first.series.reduce((a, s) => a + s.values.filter((v) => v === v).length, 0), jsonMs, resolution: first.resolution };
}

const QUERIES: [string, MetricQuery, string | undefined][] = [
  ['raw: last value, 1,000 series', { metric: 'http_requests_total', fn: 'raw', since: '24h', step: '1m' }, 'http_requests_total'],
  ['rate[1m], 1,000 series', { metric: 'http_requests_total', fn: 'rate', window: '1m', since: '24h', step: '1m' }, 'rate(http_requests_total[1m])'],
  ['sum by (app) (rate[5m])', { metric: 'http_requests_total', fn: 'rate', window: '5m', agg: 'sum', by: ['app'], since: '24h', step: '1m' }, 'sum by (app) (rate(http_requests_total[5m]))'],
  ['max by (code) (raw) where code=~5..', { metric: 'http_requests_total', matchers: ['code=~5..'], agg: 'max', by: ['code'], since: '24h', step: '1m' }, 'max by (code) (http_requests_total{code=~"5.."})'],
  ['p99 by (path), 100 bucket series', { metric: 'http_request_duration_seconds', quantile: 0.99, window: '5m', by: ['path'], since: '24h', step: '1m' }, 'histogram_quantile(0.99, sum by (path, le) (rate(http_request_duration_seconds_bucket[5m])))'],
];

function benchQueries(store: MetricsStore): Map<string, number> {
  console.log(`\n## queries over the last 24 h at 1-minute steps (a fresh process opens the file; in-process calls; median and min of 11 after a warm-up; goal ≤ 100 ms) · load average now ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`${'query'.padEnd(38)} ${'res'.padStart(4)} ${'series'.padStart(6)} ${'points'.padStart(10)} ${'median'.padStart(10)} ${'min'.padStart(10)} ${'+JSON'.padStart(9)}`);
  const medians = new Map<string, number>();
  for (const [name, q] of QUERIES) {
    const r = timeQuery(store, q);
    medians.set(name, median(r.times));
    console.log(`${name.padEnd(38)} ${r.resolution.padStart(4)} ${fmt(r.series).padStart(6)} ${fmt(r.points).padStart(10)} ${ms(median(r.times)).padStart(10)} ${ms(Math.min(...r.times)).padStart(10)} ${ms(r.jsonMs).padStart(9)}`);
  }
  const raw = timeQuery(store, { metric: 'http_requests_total', fn: 'rate', window: '1m', since: '1h', step: '15s' });
  console.log(`${'last 1 h, rate[1m] @ 15 s (raw tier)'.padEnd(38)} ${raw.resolution.padStart(4)} ${fmt(raw.series).padStart(6)} ${fmt(raw.points).padStart(10)} ${ms(median(raw.times)).padStart(10)} ${ms(Math.min(...raw.times)).padStart(10)} ${ms(raw.jsonMs).padStart(9)}`);
  return medians;
}

// ---------------------------------------------------------------------------------------------
// Anchor: the same data (at a 1-minute sample interval, to keep the import small) backfilled
// into a Prometheus TSDB with promtool, and the same queries through its HTTP API.

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); });
  });
}

async function writeOpenMetrics(file: string): Promise<number> {
  const sets = seriesLabels();
  const out = createWriteStream(file);
  const write = (s: string) => (out.write(s) ? Promise.resolve() : new Promise<void>((r) => out.once('drain', () => r())));
  const lbl = (l: Record<string, string>) => Object.entries(l).map(([k, v]) => `${k}="${v}"`).join(',');
  let n = 0;
  const start = NOW - 24 * H - 30 * M;
  // OpenMetrics wants each family's samples together; within a series, time ascending.
  await write('# TYPE http_requests_total unknown\n');
  for (let k = 0; k < sets.counters.length; k++) {
    const l = lbl(sets.counters[k]);
    let chunk = '';
    for (let t = start + M, round = 4; t <= NOW; t += M, round += 4) { chunk += `http_requests_total{${l}} ${round * (1 + (k % 7))} ${t / 1000}\n`; n++; }
    await write(chunk);
  }
  await write('# TYPE http_request_duration_seconds_bucket unknown\n');
  for (let k = 0; k < sets.buckets.length; k++) {
    const l = lbl(sets.buckets[k]);
    let chunk = '';
    for (let t = start + M, round = 4; t <= NOW; t += M, round += 4) { chunk += `http_request_duration_seconds_bucket{${l}} ${round * 10 * (1 + (k % LES.length))} ${t / 1000}\n`; n++; }
    await write(chunk);
  }
  await write('# EOF\n');
  await new Promise<void>((r) => out.end(r));
  return n;
}

async function anchor(ours: Map<string, number>): Promise<void> {
  const have = (bin: string) => { try { execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }); return true; } catch { return false; } };
  if (process.env.SKIP_PROMETHEUS || !have('prometheus') || !have('promtool')) {
    console.log('\n## anchor: skipped (needs Debian prometheus + promtool: apt-get install -y prometheus; or SKIP_PROMETHEUS is set)');
    return;
  }
  const version = execFileSync('prometheus', ['--version'], { encoding: 'utf8' }).split('\n')[0];
  const om = join(dir, 'data.om');
  const tsdb = join(dir, 'tsdb');
  let t0 = performance.now();
  const n = await writeOpenMetrics(om);
  const genMs = performance.now() - t0;
  t0 = performance.now();
  execFileSync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', om, tsdb], { stdio: 'ignore' });
  const importMs = performance.now() - t0;
  rmSync(om, { force: true });
  const port = await freePort();
  writeFileSync(join(dir, 'prometheus.yml'), 'global: {}\n');
  const prom = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${tsdb}`, `--web.listen-address=127.0.0.1:${port}`,
    '--storage.tsdb.retention.time=3650d', '--query.max-samples=100000000', '--log.level=error'], { stdio: 'ignore' });
  children.push(prom);
  try {
    const api = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: res.status, body: await res.text() };
    };
    for (let i = 0; ; i++) {
      try { if ((await api('/-/ready')).status === 200) break; } catch { /* starting */ }
      if (i > 300 || prom.exitCode !== null) throw new Error(`prometheus did not become ready (exit ${prom.exitCode})`);
      await new Promise((r) => setTimeout(r, 100));
    }
    console.log(`\n## anchor: ${version}, same series at a 1-minute sample interval (${fmt(n)} samples, generated in ${(genMs / 1000).toFixed(1)} s, promtool import ${(importMs / 1000).toFixed(1)} s); HTTP API, JSON included`);
    console.log(`${'query'.padEnd(38)} ${'series'.padStart(6)} ${'prometheus'.padStart(11)} ${'slipway'.padStart(10)}   PromQL`);
    const start = (NOW - 24 * H) / 1000;
    for (const [name, , promql] of QUERIES) {
      if (!promql) continue;
      // rate over [1m] needs ≥ 2 samples per window: at a 1-minute interval use [2m] instead.
      const expr = promql.replace('[1m]', '[2m]');
      const path = `/api/v1/query_range?query=${encodeURIComponent(expr)}&start=${start}&end=${NOW / 1000}&step=60`;
      const first = await api(path);
      if (first.status !== 200) throw new Error(`prometheus ${first.status}: ${first.body.slice(0, 200)}`);
      const series = JSON.parse(first.body).data.result.length;
      const times: number[] = [];
      for (let i = 0; i < 7; i++) {
        const t = performance.now();
        await api(path);
        times.push(performance.now() - t);
      }
      console.log(`${name.padEnd(38)} ${fmt(series).padStart(6)} ${ms(median(times)).padStart(11)} ${ms(ours.get(name)!).padStart(10)}   ${expr}`);
    }
    console.log('(slipway column: in-process, no HTTP and no JSON; see +JSON above for serialising its result)');
  } finally {
    const exited = new Promise((r) => prom.once('exit', r));
    if (prom.pid && prom.exitCode === null) process.kill(prom.pid, 'SIGTERM');
    await exited;
  }
}

// ---------------------------------------------------------------------------------------------

if (process.env.BENCH_METRICS_QUERY_FILE) {
  // Child: the query phase, in a process that has not just built 6 M sample objects (like a
  // server that opened its metrics.db), so the figures are not skewed by the load phase's heap.
  const store = new MetricsStore({ file: process.env.BENCH_METRICS_QUERY_FILE, clock: { now: () => NOW, sleep: async () => {} } });
  const medians = benchQueries(store);
  store.close();
  writeFileSync(process.env.BENCH_METRICS_QUERY_FILE + '.json', JSON.stringify([...medians]));
  cleanup(); // this process's own (empty) temp dir
} else {
  try {
    header();
    const started = performance.now();
    benchIngest();
    const { store, file } = load24h();
    store.close();
    execFileSync(process.execPath, [process.argv[1]], { stdio: 'inherit', env: { ...process.env, BENCH_METRICS_QUERY_FILE: file } });
    const ours = new Map<string, number>(JSON.parse(readFileSync(file + '.json', 'utf8')));
    await anchor(ours);
    console.log(`\nbench took ${((performance.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    cleanup();
  }
}
