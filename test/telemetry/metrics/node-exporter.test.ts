// The parser against real output: Debian's prometheus-node-exporter (apt package
// `prometheus-node-exporter`), started on a free loopback port and stopped by PID.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, test } from 'node:test';
import { createRequire } from 'node:module';
import { parseExpositionFamilies } from '../../../src/telemetry/metrics/exposition.ts';

const BINARY = 'prometheus-node-exporter';
const binaryPath = (process.env.PATH ?? '').split(delimiter).map((d) => join(d, BINARY)).find((p) => existsSync(p));
const skip = binaryPath ? false : `${BINARY} is not installed (apt-get install -y prometheus-node-exporter)`;

const dir = mkdtempSync(join(tmpdir(), 'slipway-node-exporter-'));
let child: ChildProcess | undefined;
after(async () => {
  if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child!.once('exit', r));
    process.kill(child.pid, 'SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function fetchMetrics(port: number): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      if (res.ok) return await res.text();
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (child?.exitCode !== null) throw new Error(`${BINARY} exited with ${child?.exitCode}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// The textfile collector re-exposes this through Go's encoder: a labelled histogram (node
// exporter has none of its own) and label values that need escaping.
const TEXTFILE = [
  '# HELP slipway_test_duration_seconds Test histogram.',
  '# TYPE slipway_test_duration_seconds histogram',
  'slipway_test_duration_seconds_bucket{path="/a",le="0.1"} 3',
  'slipway_test_duration_seconds_bucket{path="/a",le="1"} 7',
  'slipway_test_duration_seconds_bucket{path="/a",le="+Inf"} 9',
  'slipway_test_duration_seconds_sum{path="/a"} 4.5',
  'slipway_test_duration_seconds_count{path="/a"} 9',
  '# HELP slipway_test_info Escaping test.',
  '# TYPE slipway_test_info gauge',
  'slipway_test_info{note="quote \\" backslash \\\\ newline \\n end"} 1',
  '',
].join('\n');

test('parses real prometheus-node-exporter output', { skip }, async () => {
  writeFileSync(join(dir, 'slipway.prom'), TEXTFILE);
  const port = await freePort();
  child = spawn(binaryPath!, ['--no-collector.systemd', `--web.listen-address=127.0.0.1:${port}`, `--collector.textfile.directory=${dir}`], { stdio: 'ignore' });
  const text = await fetchMetrics(port);
  const now = Date.now();
  const { samples, families } = parseExpositionFamilies(text, now);

  // Every line that is not blank or a comment is exactly one sample.
  const sampleLines = text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  assert.equal(samples.length, sampleLines.length);
  assert.ok(samples.length > 100, `only ${samples.length} samples`);
  const type = (name: string) => families.find((f) => f.name === name)?.type;

  // A counter with labels.
  assert.equal(type('node_cpu_seconds_total'), 'counter');
  const cpu = samples.filter((s) => s.name === 'node_cpu_seconds_total');
  assert.ok(cpu.length > 0);
  for (const s of cpu) {
    assert.match(s.labels.cpu, /^\d+$/);
    assert.ok(s.labels.mode, 'mode label');
    assert.ok(s.value >= 0 && Number.isFinite(s.value));
    assert.equal(s.ts, now);
  }
  assert.ok(cpu.some((s) => s.labels.mode === 'idle'));

  // A summary: quantiles 0…1, then _sum and _count.
  assert.equal(type('go_gc_duration_seconds'), 'summary');
  const gc = samples.filter((s) => s.name.startsWith('go_gc_duration_seconds'));
  assert.deepEqual(gc.filter((s) => s.name === 'go_gc_duration_seconds').map((s) => s.labels.quantile), ['0', '0.25', '0.5', '0.75', '1']);
  assert.equal(gc.filter((s) => s.name === 'go_gc_duration_seconds_sum').length, 1);
  assert.equal(gc.filter((s) => s.name === 'go_gc_duration_seconds_count').length, 1);

  // The histogram, as re-encoded by Go: buckets keep their other labels, _sum/_count are there.
  assert.equal(type('slipway_test_duration_seconds'), 'histogram');
  const buckets = samples.filter((s) => s.name === 'slipway_test_duration_seconds_bucket');
  assert.deepEqual(buckets.map((s) => [s.labels.path, s.labels.le, s.value]), [['/a', '0.1', 3], ['/a', '1', 7], ['/a', '+Inf', 9]]);
  assert.equal(samples.find((s) => s.name === 'slipway_test_duration_seconds_sum')?.value, 4.5);
  assert.equal(samples.find((s) => s.name === 'slipway_test_duration_seconds_count')?.value, 9);

  // Escaped label values round-trip.
  assert.equal(samples.find((s) => s.name === 'slipway_test_info')?.labels.note, 'quote " backslash \\ newline \n end');

  // Untyped families are there too (the textfile collector's own, at least).
  assert.ok(families.some((f) => f.type === 'gauge'));
  assert.ok(samples.some((s) => s.name === 'node_exporter_build_info' && s.labels.version));
});

// Why src/telemetry/metrics/exposition.ts does not wrap the installed npm parser: it loses
// information. If these start failing, the package got better and the decision is worth
// revisiting.
test('parse-prometheus-text-format (evaluated, not used) loses labels, _sum/_count and timestamps', () => {
  const require = createRequire(import.meta.url);
  const parse = require('parse-prometheus-text-format') as (text: string) => any[];
  const histogram = parse('# TYPE h histogram\nh_bucket{m="a",le="1"} 1\nh_bucket{m="a",le="+Inf"} 2\nh_sum{m="a"} 3\nh_count{m="a"} 2\nh_bucket{m="b",le="1"} 10\nh_bucket{m="b",le="+Inf"} 20\nh_sum{m="b"} 30\nh_count{m="b"} 20\n');
  assert.deepEqual(histogram[0].metrics, [{ buckets: { 1: '10', '+Inf': '20' } }], 'label sets merged, _sum/_count gone');
  const timestamps = parse('# TYPE h histogram\nh_bucket{le="+Inf"} 2 1000\nh_sum 3 1000\nh_count 2 1000\n');
  assert.equal(JSON.stringify(timestamps).includes('1000'), false, 'histogram timestamps dropped');
  assert.deepEqual(parse('a 1\nb 2').map((f) => f.name), ['a'], 'last line without newline dropped');
  assert.deepEqual(parse('m\n')[0].metrics, [{ value: '' }], 'a line without value accepted');
});
