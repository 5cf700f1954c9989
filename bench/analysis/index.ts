import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { DEFAULT_ANALYSIS, judge } from '../../src/analysis/judge.ts';
import { DEFAULT_MIN_EFFECT, METRIC_NAMES, evaluateMetric, prepare } from '../../src/analysis/metrics.ts';
import { normalCdf, normalQuantile } from '../../src/analysis/normal.ts';
import type { AnalysisConfig, Observation, Verdict } from '../../src/analysis/types.ts';

// Canary-judge benchmark: false positives, detection power and judge time on synthetic traffic.
// Run: node_modules/.bin/node bench/analysis/index.ts
// Knobs (env): TRIALS=1000 SEED=1 HIGH_RPS=120 (second table, req/s per group) SWEEP=40,80,100 STALL_RPS=1250
//
// Traffic model (documented in the header it prints):
//   * The service takes R req/s; the router sends 10 % to the canary and 10 % to the baseline (a fresh
//     deployment of the old release), so each group gets r = 0.1·R req/s. Requests per group per
//     interval ~ Poisson(r · 20 s) (normal approximation, λ ≥ 400). Interval 20 s, 3 intervals per
//     step; the judge sees the cumulative data after each interval (3 looks) with DEFAULT_ANALYSIS.
//   * Baseline: error with probability 1 % (independent per request). Latency: a two-path mixture —
//     96 % fast path lognormal(median 20 ms, σ 0.45), 4 % slow path (cache miss / DB query)
//     lognormal(median 100 ms, σ 0.5) — giving p50 20.5 ms, p90 39.7 ms, p99 140 ms, p99.9 266 ms.
//   * Canary scenarios: A/A (identical); errors ×2 (2 %); p99 ×1.5 — every latency above the baseline
//     p90 is stretched by T(x) = x · 1.5^((ln x − ln q90)/(ln q99 − ln q90)) (q90, q99: exact model
//     quantiles), a monotone map, so the canary's p99 is exactly 1.5 × the baseline's, p90 and p50 do not
//     move, p95 ×1.10, p99.9 ×1.84 — only the slowest 10 % of requests change (the share slower than the
//     baseline p99 goes from 1 % to 1.91 %); latency ×1.5 (every request 50 % slower).
//   * A trial is Failed when any of its 3 looks is Failed (the controller aborts there). Otherwise its
//     outcome is the last look's. Seeded PRNG (xoshiro128**), so a run is reproducible.
//   * "ceiling": the power of a single uncorrected one-sided z-test at 1 % on all the step's data, told
//     in advance which metric and direction to test — an upper bound for any judge with a 1 % budget.
//   * Stalls (serial correlation; src/analysis/blocks.ts): the busy-host case that failed unchanged releases
//     in the end-to-end runs (16 clients, ~2,500 req/s, 50 % canary, 1 s intervals, one instance per
//     group). Each group gets r = STALL_RPS req/s (default 1,250) with Poisson arrival times over 1-s
//     intervals, 3 looks. Its process stalls (descheduled, a GC pause) a Poisson number of times per
//     interval, 3 per second, for uniform 5–50 ms, independently of the other group's: a request
//     arriving during a stall starts when it ends, a response due during a stall leaves when it ends.
//     Observations are in completion order, as the router records them. The service is local and fast:
//     the latency model above × 0.1 (p50 2.05 ms, p99 14 ms), so a stall's victims are its slowest
//     requests. Both groups run the same release (A/A). Each trial is judged twice on the same data: by
//     the judge, and with the latency metrics' per-request tests alone (MetricContext.independent: the
//     judge before the block test). Two more rows, fewer trials: long pauses (1 per second, 100–300 ms,
//     a known limit) and a real regression (every latency × 2) under the same stalls.

const TRIALS = Number(process.env.TRIALS ?? 1000);
const SEED = Number(process.env.SEED ?? 1);
const INTERVAL_S = 20;
const LOOKS = 3;
const CANARY_SHARE = 0.1;

// ---------------------------------------------------------------------------------------------
// Seeded PRNG: xoshiro128** seeded through splitmix32.

function rng(seed: number) {
  let x = seed >>> 0;
  const split = () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let s0 = split(), s1 = split(), s2 = split(), s3 = split();
  const next = () => {
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11);
    return r;
  };
  const uniform = () => (next() + 0.5) / 4294967296; // (0, 1)
  let spare = NaN;
  const gauss = () => {
    if (!Number.isNaN(spare)) { const v = spare; spare = NaN; return v; }
    const r = Math.sqrt(-2 * Math.log(uniform())), th = 2 * Math.PI * uniform();
    spare = r * Math.sin(th);
    return r * Math.cos(th);
  };
  return { uniform, gauss };
}
const rotl = (v: number, k: number) => ((v << k) | (v >>> (32 - k))) >>> 0;

// ---------------------------------------------------------------------------------------------
// Latency model.

const FAST = { w: 0.96, median: 20, sigma: 0.45 };
const SLOW = { w: 0.04, median: 100, sigma: 0.5 };
const modelCdf = (x: number) =>
  FAST.w * normalCdf(Math.log(x / FAST.median) / FAST.sigma) + SLOW.w * normalCdf(Math.log(x / SLOW.median) / SLOW.sigma);
function modelQuantile(p: number): number {
  let lo = 0.01, hi = 100_000;
  for (let i = 0; i < 200; i++) { const mid = Math.sqrt(lo * hi); if (modelCdf(mid) < p) lo = mid; else hi = mid; }
  return Math.sqrt(lo * hi);
}
const Q = { p50: modelQuantile(0.5), p90: modelQuantile(0.9), p95: modelQuantile(0.95), p99: modelQuantile(0.99), p999: modelQuantile(0.999) };
const tailStretch = (x: number) => (x <= Q.p90 ? x : x * 1.5 ** (Math.log(x / Q.p90) / Math.log(Q.p99 / Q.p90)));
/** The canary's share of requests slower than the baseline p99 in the p99 x1.5 scenario (baseline: 1 %). */
const P99_SHARE = (() => {
  let lo = Q.p90, hi = Q.p99; // solve tailStretch(x) = Q.p99
  for (let i = 0; i < 200; i++) { const mid = (lo + hi) / 2; if (tailStretch(mid) < Q.p99) lo = mid; else hi = mid; }
  return 1 - modelCdf(lo);
})();

/**
 * An upper bound on what any judge can do: the power of ONE one-sided two-proportion z-test at
 * alpha = 1 % (the whole false-positive budget, no correction for 3 looks or 3 metrics) on all
 * 3 intervals' data, knowing in advance which metric and direction to test.
 */
function oraclePower(p0: number, p1: number, n: number): number {
  const pbar = (p0 + p1) / 2;
  const se0 = Math.sqrt((2 * pbar * (1 - pbar)) / n), se1 = Math.sqrt((p0 * (1 - p0) + p1 * (1 - p1)) / n);
  return normalCdf((p1 - p0 - normalQuantile(0.99) * se0) / se1);
}

interface Scenario { name: string; errorRate: number; latency: (x: number) => number; regression: boolean }
const SCENARIOS: Scenario[] = [
  { name: 'A/A (identical)', errorRate: 0.01, latency: (x) => x, regression: false },
  { name: 'errors x2 (1% -> 2%)', errorRate: 0.02, latency: (x) => x, regression: true },
  { name: 'p99 x1.5 (tail only)', errorRate: 0.01, latency: tailStretch, regression: true },
  { name: 'latency x1.5 (all)', errorRate: 0.01, latency: (x) => 1.5 * x, regression: true },
];

function interval(r: ReturnType<typeof rng>, lambda: number, errorRate: number, latency: (x: number) => number, out: Observation[]) {
  const count = Math.max(0, Math.round(lambda + Math.sqrt(lambda) * r.gauss()));
  for (let i = 0; i < count; i++) {
    const slow = r.uniform() < SLOW.w;
    const base = slow ? SLOW.median * Math.exp(SLOW.sigma * r.gauss()) : FAST.median * Math.exp(FAST.sigma * r.gauss());
    out.push({ latencyMs: latency(base), error: r.uniform() < errorRate });
  }
}

// Stalls: timed arrivals at `rps` over `seconds`, the group's process stalled at Poisson times.
interface Stalls { perSecond: number; minMs: number; maxMs: number }
const STALLS: Stalls = { perSecond: 3, minMs: 5, maxMs: 50 };
const LONG_PAUSES: Stalls = { perSecond: 1, minMs: 100, maxMs: 300 };
const STALL_SCALE = 0.1; // latency model × 0.1: a fast local service

function poisson(r: ReturnType<typeof rng>, lambda: number): number {
  if (lambda > 100) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * r.gauss()));
  let k = 0, p = Math.exp(-lambda), cdf = p;
  const u = r.uniform();
  while (u > cdf && p > 0) { k++; p *= lambda / k; cdf += p; }
  return k;
}

function stalledInterval(r: ReturnType<typeof rng>, rps: number, seconds: number, stalls: Stalls, latency: (x: number) => number, out: Observation[]) {
  const span = seconds * 1000;
  const pauses: [number, number][] = [];
  for (let k = poisson(r, stalls.perSecond * seconds); k > 0; k--) {
    const start = r.uniform() * span;
    pauses.push([start, start + stalls.minMs + (stalls.maxMs - stalls.minMs) * r.uniform()]);
  }
  const requests: { arrival: number; done: number; error: boolean }[] = [];
  for (let k = poisson(r, rps * seconds); k > 0; k--) {
    const arrival = r.uniform() * span;
    const slow = r.uniform() < SLOW.w;
    const service = latency(STALL_SCALE * (slow ? SLOW.median * Math.exp(SLOW.sigma * r.gauss()) : FAST.median * Math.exp(FAST.sigma * r.gauss())));
    let start = arrival;
    for (const [from, to] of pauses) if (start >= from && start < to) start = to;
    let done = start + service;
    for (const [from, to] of pauses) if (done >= from && done < to) done = to;
    requests.push({ arrival, done, error: r.uniform() < 0.01 });
  }
  requests.sort((x, y) => x.done - y.done);
  for (const q of requests) out.push({ latencyMs: q.done - q.arrival, error: q.error });
}

/** The judge with every latency metric on its per-request test alone (requests taken as independent). */
function independentJudge(canary: Observation[], baseline: Observation[], config: AnalysisConfig): 'Failed' | 'not Failed' {
  if (canary.length < config.minObservations || baseline.length < config.minObservations) return 'not Failed';
  const alpha = (1 - config.confidence) / ((config.looks ?? 3) * config.metrics.length);
  const c = prepare(canary), b = prepare(baseline);
  const failed = METRIC_NAMES.filter((name) => config.metrics.includes(name) && evaluateMetric(name, c, b, {
    alpha, tolerance: config.tolerance, minEffect: DEFAULT_MIN_EFFECT[name], minLatencySamples: Math.ceil(config.minObservations / 2), weight: 1, independent: true,
  }).failed);
  return failed.length > 0 ? 'Failed' : 'not Failed'; // equal weights: any failing metric fails the verdict (66.7 < 75)
}

// ---------------------------------------------------------------------------------------------
// Trials.

interface Row { scenario: Scenario; failed: number; inconclusive: number; successful: number; byLook: number[]; named: Map<string, number> }

function runScenario(scenario: Scenario, perGroupRps: number, config: AnalysisConfig, seed: number): Row {
  const r = rng(seed);
  const lambda = perGroupRps * INTERVAL_S;
  const row: Row = { scenario, failed: 0, inconclusive: 0, successful: 0, byLook: new Array(LOOKS).fill(0), named: new Map() };
  for (let t = 0; t < TRIALS; t++) {
    const canary: Observation[] = [], baseline: Observation[] = [];
    let last: Verdict | null = null, look = 0;
    for (; look < LOOKS; look++) {
      interval(r, lambda, scenario.errorRate, scenario.latency, canary);
      interval(r, lambda, 0.01, (x) => x, baseline);
      last = judge(canary, baseline, config);
      if (last.outcome === 'Failed') break;
    }
    if (last!.outcome === 'Failed') {
      row.failed++;
      row.byLook[look]++;
      for (const m of last!.metrics) if (m.failed) row.named.set(m.metric, (row.named.get(m.metric) ?? 0) + 1);
    } else if (last!.outcome === 'Inconclusive') row.inconclusive++;
    else row.successful++;
  }
  return row;
}

const pct = (k: number, n: number) => `${((100 * k) / n).toFixed(1)}%`;

function table(perGroupRps: number, scenarios: Scenario[], seed: number) {
  const total = perGroupRps / CANARY_SHARE;
  const lambda = perGroupRps * INTERVAL_S;
  console.log(`\n## ${perGroupRps} req/s per group (service ${total} req/s, canary ${CANARY_SHARE * 100}% + baseline ${CANARY_SHARE * 100}%): ` +
    `looks at ~${lambda}/${2 * lambda}/${3 * lambda} requests per group, ${TRIALS} trials per scenario`);
  console.log(`ceiling (one uncorrected one-sided z-test at 1% on all ${3 * lambda} requests, told what to test): ` +
    `errors x2 ${pct(oraclePower(0.01, 0.02, 3 * lambda), 1)}, p99 x1.5 ${pct(oraclePower(0.01, P99_SHARE, 0.99 * 3 * lambda), 1)} ` +
    `(share slower than the baseline p99: 1.0% -> ${(P99_SHARE * 100).toFixed(2)}%)`);
  console.log('| true condition | Failed | Inconclusive | Successful | rate | goal | failed on look 1/2/3 | metrics named |');
  console.log('|---|---:|---:|---:|---|---|---|---|');
  const t0 = performance.now();
  for (const [i, s] of scenarios.entries()) {
    const row = runScenario(s, perGroupRps, DEFAULT_ANALYSIS, seed * 1000 + i * 17 + perGroupRps);
    const rate = s.regression ? `detected ${pct(row.failed, TRIALS)}` : `false positive ${pct(row.failed, TRIALS)}, inconclusive ${pct(row.inconclusive, TRIALS)}`;
    const goal = s.regression
      ? (s.name.startsWith('latency x1.5') ? '(extra)' : row.failed / TRIALS >= 0.95 ? '>= 95%: met' : '>= 95%: NOT met')
      : row.failed / TRIALS <= 0.01 ? '<= 1%: met' : '<= 1%: NOT met';
    const named = [...row.named].map(([m, k]) => `${m} ${k}`).join(', ') || '-';
    console.log(`| ${s.name} | ${row.failed} | ${row.inconclusive} | ${row.successful} | ${rate} | ${goal} | ${row.byLook.join('/')} | ${named} |`);
  }
  return performance.now() - t0;
}

function timing(perGroup: number, calls: number) {
  const r = rng(99);
  const c: Observation[] = [], b: Observation[] = [];
  interval(r, perGroup, 0.01, tailStretch, c);
  interval(r, perGroup, 0.01, (x) => x, b);
  const wall: number[] = [], cpu: number[] = [];
  for (let i = 0; i < calls; i++) {
    const u0 = process.cpuUsage(), t0 = performance.now();
    judge(c, b, DEFAULT_ANALYSIS);
    wall.push(performance.now() - t0);
    const u = process.cpuUsage(u0);
    cpu.push((u.user + u.system) / 1000);
  }
  const med = (xs: number[]) => { const s = [...xs].sort((x, y) => x - y); return s[s.length >> 1]; };
  console.log(`| ${c.length} canary + ${b.length} baseline | ${calls} | ${med(wall).toFixed(2)} ms | ${med(cpu).toFixed(2)} ms | ${Math.min(...wall).toFixed(2)} ms |`);
}

// ---------------------------------------------------------------------------------------------

const sh = (cmd: string, args: string[]) => { try { return execFileSync(cmd, args, { encoding: 'utf8' }).trim(); } catch { return '?'; } };
const cpuModel = () => /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? 'unknown';

const started = performance.now();
console.log('# Canary judge benchmark');
{
  const env = ['TRIALS', 'SEED', 'HIGH_RPS', 'SWEEP'].filter((k) => process.env[k] !== undefined).map((k) => `${k}=${process.env[k]} `).join('');
  console.log(`command: ${env}${[process.argv0, ...process.argv.slice(1).map((a) => a.replace(process.cwd() + '/', ''))].join(' ')}`);
}
console.log(`date: ${new Date().toISOString()}`);
console.log(`machine: nproc ${sh('nproc', [])}, CPU ${cpuModel()}, node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
{
  const a = (1 - DEFAULT_ANALYSIS.confidence) / ((DEFAULT_ANALYSIS.looks ?? 3) * DEFAULT_ANALYSIS.metrics.length);
  console.log(`config: DEFAULT_ANALYSIS = ${JSON.stringify(DEFAULT_ANALYSIS)} → alpha per metric per look ${a.toFixed(5)} two-sided ` +
    `(${(a / 2).toFixed(5)} on the harmful side; bound on failing an unchanged release per step: ${((1 - DEFAULT_ANALYSIS.confidence) / 2 * 100).toFixed(0)}%)`);
}
console.log(`latency model (ms): p50 ${Q.p50.toFixed(1)}, p90 ${Q.p90.toFixed(1)}, p95 ${Q.p95.toFixed(1)}, p99 ${Q.p99.toFixed(1)}, p99.9 ${Q.p999.toFixed(1)}; ` +
  `p99 x1.5 canary: p50 ${tailStretch(Q.p50).toFixed(1)} (x${(tailStretch(Q.p50) / Q.p50).toFixed(2)}), p90 ${tailStretch(Q.p90).toFixed(1)} (x1.00), ` +
  `p95 ${tailStretch(Q.p95).toFixed(1)} (x${(tailStretch(Q.p95) / Q.p95).toFixed(2)}), p99 ${tailStretch(Q.p99).toFixed(1)} (x${(tailStretch(Q.p99) / Q.p99).toFixed(2)}), ` +
  `p99.9 ${tailStretch(Q.p999).toFixed(1)} (x${(tailStretch(Q.p999) / Q.p999).toFixed(2)})`);
console.log('traffic: interval 20 s, 3 cumulative looks per step, baseline error rate 1%; requests per interval ~ Poisson');

const BASE_RPS = 20;   // per group: a 200 req/s service at a 10 % canary share
const HIGH_RPS = Number(process.env.HIGH_RPS ?? 120); // per group: where the error-rate goal is met
const tBase = table(BASE_RPS, SCENARIOS, SEED);
const tHigh = table(HIGH_RPS, SCENARIOS, SEED);

// Where do the detection goals flip? A coarser sweep (fewer trials) of the two goal scenarios.
const SWEEP_TRIALS = Math.max(50, Math.round(TRIALS / 5));
const SWEEP = (process.env.SWEEP ?? '40,80,100').split(',').map(Number);
console.log(`\n## detection vs traffic (${SWEEP_TRIALS} trials per cell, Failed within 3 looks)`);
console.log('| req/s per group | service req/s at 10% | requests per group after 3 looks | errors x2 | p99 x1.5 | ceiling errors x2 | ceiling p99 x1.5 |');
console.log('|---:|---:|---:|---:|---:|---:|---:|');
for (const rps of SWEEP) {
  const e = runScenarioTrials(SCENARIOS[1], rps, SWEEP_TRIALS, SEED * 7 + rps);
  const p = runScenarioTrials(SCENARIOS[2], rps, SWEEP_TRIALS, SEED * 11 + rps);
  const n = rps * INTERVAL_S * LOOKS;
  console.log(`| ${rps} | ${rps / CANARY_SHARE} | ${n} | ${pct(e, SWEEP_TRIALS)} | ${pct(p, SWEEP_TRIALS)} | ${pct(oraclePower(0.01, 0.02, n), 1)} | ${pct(oraclePower(0.01, P99_SHARE, 0.99 * n), 1)} |`);
}

// Serial correlation: A/A with stalls, judged by the judge and by its per-request tests alone.
const STALL_RPS = Number(process.env.STALL_RPS ?? 1250);
const tStall = stallTable(STALL_RPS, SEED);

console.log('\n## judge time per call (DEFAULT_ANALYSIS, p99 x1.5 canary data)');
console.log('| data | calls | wall median | CPU median | wall min |');
console.log('|---|---:|---:|---:|---:|');
timing(BASE_RPS * INTERVAL_S * LOOKS, 300);
timing(HIGH_RPS * INTERVAL_S * LOOKS, 100);
timing(30_000, 30);
console.log(`\nwall time: ${BASE_RPS} req/s table ${(tBase / 1000).toFixed(1)} s, ${HIGH_RPS} req/s table ${(tHigh / 1000).toFixed(1)} s, ` +
  `stalls table ${(tStall / 1000).toFixed(1)} s, total ${((performance.now() - started) / 1000).toFixed(1)} s`);

function stallTable(rps: number, seed: number): number {
  const t0 = performance.now();
  const rows: { name: string; stalls: Stalls; latency: (x: number) => number; regression: boolean; trials: number }[] = [
    { name: 'A/A with stalls (3/s, 5-50 ms)', stalls: STALLS, latency: (x) => x, regression: false, trials: TRIALS },
    { name: 'A/A with long pauses (1/s, 100-300 ms)', stalls: LONG_PAUSES, latency: (x) => x, regression: false, trials: SWEEP_TRIALS },
    { name: 'latency x2 (all) with stalls (3/s, 5-50 ms)', stalls: STALLS, latency: (x) => 2 * x, regression: true, trials: SWEEP_TRIALS },
  ];
  console.log(`\n## serial correlation: ${rps} req/s per group (a ${2 * rps} req/s service at 50% canary), 1 s intervals, 3 looks, ` +
    `latency model x${STALL_SCALE}, each group's process stalled independently`);
  console.log('| true condition | trials | judge: Failed | rate | goal | per-request tests alone (before): Failed | rate | judge: metrics named |');
  console.log('|---|---:|---:|---|---|---:|---|---|');
  for (const [i, row] of rows.entries()) {
    const r = rng(seed * 1000 + 500 + i * 17 + rps);
    let failed = 0, before = 0;
    const named = new Map<string, number>();
    for (let t = 0; t < row.trials; t++) {
      const canary: Observation[] = [], baseline: Observation[] = [];
      let done = false, doneBefore = false;
      for (let look = 0; look < LOOKS && !(done && doneBefore); look++) {
        stalledInterval(r, rps, 1, row.stalls, row.latency, canary);
        stalledInterval(r, rps, 1, row.stalls, (x) => x, baseline);
        if (!done) {
          const v = judge(canary, baseline, DEFAULT_ANALYSIS);
          if (v.outcome === 'Failed') {
            done = true; failed++;
            for (const m of v.metrics) if (m.failed) named.set(m.metric, (named.get(m.metric) ?? 0) + 1);
          }
        }
        if (!doneBefore && independentJudge(canary, baseline, DEFAULT_ANALYSIS) === 'Failed') { doneBefore = true; before++; }
      }
    }
    const what = row.regression ? 'detected' : 'false positive';
    const goal = row.regression ? '(extra)' : row.stalls === STALLS ? (failed / row.trials <= 0.01 ? '<= 1%: met' : '<= 1%: NOT met') : '(limit)';
    const names = [...named].map(([m, k]) => `${m} ${k}`).join(', ') || '-';
    console.log(`| ${row.name} | ${row.trials} | ${failed} | ${what} ${pct(failed, row.trials)} | ${goal} | ${before} | ${what} ${pct(before, row.trials)} | ${names} |`);
  }
  return performance.now() - t0;
}

function runScenarioTrials(scenario: Scenario, rps: number, trials: number, seed: number): number {
  const r = rng(seed);
  const lambda = rps * INTERVAL_S;
  let failed = 0;
  for (let t = 0; t < trials; t++) {
    const canary: Observation[] = [], baseline: Observation[] = [];
    for (let look = 0; look < LOOKS; look++) {
      interval(r, lambda, scenario.errorRate, scenario.latency, canary);
      interval(r, lambda, 0.01, (x) => x, baseline);
      if (judge(canary, baseline, DEFAULT_ANALYSIS).outcome === 'Failed') { failed++; break; }
    }
  }
  return failed;
}
