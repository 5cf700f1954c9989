import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { parseProcStat, parseProcStatusRss, sampleProcess } from '../../../src/telemetry/metrics/process.ts';
import { Scraper, type ScrapeTarget, type TargetHealth } from '../../../src/telemetry/metrics/scraper.ts';
import { MetricsStore } from '../../../src/telemetry/metrics/store.ts';
import { withPoints } from '../../../src/telemetry/metrics/result.ts';
import type { Family, Sample } from '../../../src/telemetry/metrics/types.ts';
import { ManualClock } from './clock.ts';

const T0 = Date.UTC(2025, 0, 1);
const TARGET = { app: 'hello', env: 'staging', release: 'v7', instance: 'web-1' };

// One loopback server; each test sets what it answers.
let respond: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_req, res) => res.end('');
let requests = 0;
const server = http.createServer((req, res) => { requests++; respond(req, res); });
const ready = new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
after(() => { server.closeAllConnections(); server.close(); });

class Sink {
  batches: { samples: Sample[]; families?: Family[] }[] = [];
  ingest(samples: Sample[], families?: Family[]) { this.batches.push({ samples, families }); }
  get last() { return this.batches.at(-1)!.samples; }
  value(name: string) { return this.last.find((s) => s.name === name)?.value; }
}

test('a scrape adds the target labels (scraped clashes become exported_*), up = 1 and scrape_* samples', async () => {
  const port = await ready;
  respond = (_req, res) => res.end('# TYPE http_requests_total counter\nhttp_requests_total{code="200",app="imposter"} 41\nexplicit_ts 1 1234\n');
  const clock = new ManualClock(T0);
  const store = new MetricsStore({ file: ':memory:', clock });
  const scraper = new Scraper({ store, clock });
  const health = await scraper.scrapeOnce({ url: `http://127.0.0.1:${port}/metrics`, labels: TARGET });
  assert.equal(health.up, true);
  assert.equal(health.samples, 2);
  const r = withPoints(store.query({ metric: 'http_requests_total', since: '1m', step: '15s', end: T0 }));
  assert.deepEqual(r.series[0].labels, { code: '200', exported_app: 'imposter', ...TARGET });
  assert.deepEqual(r.series[0].points, [[T0, 41]]);
  assert.equal(store.instant({ metric: 'up', match: { app: 'hello' }, at: T0 })[0].value, 1);
  assert.equal(store.instant({ metric: 'scrape_samples_scraped', at: T0 })[0].value, 2);
  assert.ok(store.instant({ metric: 'scrape_duration_seconds', at: T0 })[0].value >= 0);
  assert.deepEqual(store.families().map((f) => [f.name, f.type]), [['http_requests_total', 'counter']]);
  store.close();
});

test('failures: HTTP error, refused connection, timeout, unparsable body, oversized body → up = 0, counted, explained', async () => {
  const port = await ready;
  const sink = new Sink();
  const errors: string[] = [];
  const scraper = new Scraper({ store: sink, clock: new ManualClock(T0), maxBodyBytes: 1000, onError: (_t, e) => errors.push(e.message) });
  const target = { url: `http://127.0.0.1:${port}/metrics`, labels: TARGET, timeoutMs: 300 };
  const health: TargetHealth = { target: target.url, labels: TARGET, up: true, samples: 0, scrapes: 0, failures: 0 };

  respond = (_req, res) => { res.statusCode = 503; res.end('busy'); };
  await scraper.scrapeOnce(target, health);
  assert.equal(health.up, false);
  assert.equal(health.lastError, `HTTP 503 from ${target.url}`);
  assert.deepEqual([sink.value('up'), sink.value('scrape_failures_total'), sink.value('scrape_samples_scraped')], [0, 1, 0]);
  assert.deepEqual(sink.last.find((s) => s.name === 'up')!.labels, TARGET);

  respond = () => { /* never answers */ };
  const started = Date.now();
  await scraper.scrapeOnce(target, health);
  assert.ok(Date.now() - started < 2_000);
  assert.equal(health.lastError, `scrape of ${target.url} timed out after 300 ms`);

  respond = (_req, res) => res.end('ok 1\nbroken{ 2\n');
  await scraper.scrapeOnce(target, health);
  assert.match(health.lastError!, /^line 2: /);

  respond = (_req, res) => res.end(`big 1\n${'#'.repeat(2000)}\n`);
  await scraper.scrapeOnce(target, health);
  assert.match(health.lastError!, /over the 1000-byte limit/);

  const closed = await new Promise<number>((resolve) => { const s = http.createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as AddressInfo).port; s.close(() => resolve(p)); }); });
  await scraper.scrapeOnce({ ...target, url: `http://127.0.0.1:${closed}/metrics` }, health);
  assert.equal(health.up, false);
  assert.equal(health.failures, 5);
  assert.equal(health.scrapes, 5);
  assert.equal(sink.value('scrape_failures_total'), 5);
  assert.equal(errors.length, 5);

  respond = (_req, res) => res.end('fine 1\n');
  await scraper.scrapeOnce(target, health);
  assert.deepEqual([health.up, health.lastError, sink.value('up')], [true, undefined, 1]);
});

test('targets are scraped on their interval (manual clock), replaced and stopped', async () => {
  const port = await ready;
  respond = (_req, res) => res.end('g 1\n');
  const clock = new ManualClock(T0);
  const sink = new Sink();
  const scraper = new Scraper({ store: sink, clock });
  const a: ScrapeTarget = { url: `http://127.0.0.1:${port}/a`, labels: { instance: 'a' }, intervalMs: 15_000 };
  const b: ScrapeTarget = { url: `http://127.0.0.1:${port}/b`, labels: { instance: 'b' }, intervalMs: 60_000 };
  const settle = async (n: number) => { for (let i = 0; i < 200 && sink.batches.length < n; i++) await new Promise((r) => setTimeout(r, 5)); };
  scraper.setTargets([a, b]);
  await settle(2);
  assert.equal(sink.batches.length, 2, 'both scraped at once');
  clock.advance(15_000);
  await settle(3);
  assert.equal(sink.batches.length, 3, 'a again after 15 s, b not yet');
  assert.equal(sink.batches[2].samples[0].labels.instance, 'a');
  assert.equal(sink.batches[2].samples[0].ts, T0 + 15_000);
  scraper.setTargets([b]); // a goes away
  clock.advance(45_000);
  await settle(4);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(sink.batches.length, 4);
  assert.equal(sink.batches[3].samples[0].labels.instance, 'b');
  assert.deepEqual(scraper.health().map((h) => [h.labels.instance, h.scrapes, h.up]), [['b', 2, true]]);
  await scraper.stop();
  clock.advance(600_000);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(sink.batches.length, 4, 'nothing after stop');
});

test('/proc parsing: command names with spaces and parentheses; RSS in bytes; zombies have none', () => {
  const fields = ['S', '1', '2', '3', '0', '-1', '4194560', '100', '0', '0', '0', '250', '50', '7', '8', '20', '0', '4', '0', '123'];
  assert.equal(parseProcStat(`4242 (my (odd) app) ${fields.join(' ')}\n`, 100), 3);
  assert.equal(parseProcStat(`4242 (x) ${fields.join(' ')}`, 250), 1.2);
  assert.throws(() => parseProcStat('garbage', 100));
  assert.equal(parseProcStatusRss('Name:\tnode\nVmRSS:\t   2048 kB\nThreads:\t7\n'), 2048 * 1024);
  assert.equal(parseProcStatusRss('Name:\tzombie\nState:\tZ (zombie)\n'), undefined);
});

test('process sampling: a live child (stopped by PID), then gone; as a scrape target', async () => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  const pid = child.pid!;
  try {
    // Until exec has happened, /proc shows the forked copy of this process (or nothing usable).
    for (let i = 0; i < 200 && readFileSync(`/proc/${pid}/comm`, 'utf8') !== 'sleep\n'; i++) await new Promise((r) => setTimeout(r, 10));
    const samples = sampleProcess(pid, { instance: 'w1' }, T0);
    assert.deepEqual(samples.map((s) => [s.name, s.labels, s.ts]), [
      ['process_cpu_seconds_total', { instance: 'w1' }, T0],
      ['process_resident_memory_bytes', { instance: 'w1' }, T0],
    ]);
    assert.ok(samples[0].value >= 0 && samples[0].value < 5);
    assert.ok(samples[1].value > 0 && samples[1].value % 1024 === 0, `rss ${samples[1].value}`); // kB → bytes; small right after exec
    const sink = new Sink();
    const health = await new Scraper({ store: sink, clock: new ManualClock(T0) }).scrapeOnce({ pid, labels: { instance: 'w1' } });
    assert.equal(health.up, true);
    assert.deepEqual(sink.last.map((s) => s.name), ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_failures_total']);
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(pid, 'SIGTERM');
    await exited;
  }
  assert.deepEqual(sampleProcess(pid, {}, T0), []);
  const own = sampleProcess(process.pid, {}, T0);
  assert.ok(own[0].value > 0, 'this test process has used some CPU');
  const sink = new Sink();
  const health = await new Scraper({ store: sink, clock: new ManualClock(T0) }).scrapeOnce({ pid, labels: {} });
  assert.deepEqual([health.up, health.lastError, sink.value('up')], [false, `process ${pid} is not running`, 0]);
});
