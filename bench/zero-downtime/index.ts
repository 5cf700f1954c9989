// Zero-downtime under sustained load, for every way a release reaches (or leaves) staging:
//   steady · rolling (3 instances) · blue/green switch · canary with analysis to commit ·
//   canary + `slipway promote` · rollback during blue/green probation · rollback after commit.
// WORKERS keep-alive clients hammer the router without cookies, so every request is assigned by
// the traffic weights in force. Strategies change between phases by committing a new
// slipway.yaml (a deployment uses the strategy of the artifact it deploys). The six phases after
// `steady` run ROUNDS times (~40 s a round on 2 cores). Actions use the real CLI (`slipway promote`,
// `rollback`, `resume`); waiting polls the API with fetch. Prints one row per phase (with the
// deployment's story under it) and the total. Goal: 0 failed requests in every phase.
//
// Run: node_modules/.bin/node bench/zero-downtime/index.ts
// Knobs (env): WORKERS=16 STEADY_S=3 ROUNDS=3 CANARY_METRICS=error_rate,latency_p50,latency_p99 (comma-separated analysis metrics)
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { api, cleanup, pct, slipwayWithApp } from '../lib/slipway.ts';
import { GiveUp, waitFor } from '../../test/helpers/wait.ts';
import type { TestRepo } from '../../test/helpers/repo.ts';
import type { TestServer } from '../../test/helpers/server.ts';

const WORKERS = Number(process.env.WORKERS ?? 16);
const STEADY_S = Number(process.env.STEADY_S ?? 3);
/** The six rollout/rollback phases run this many times over (~40 s a round). */
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const CANARY_METRICS = (process.env.CANARY_METRICS ?? 'error_rate,latency_p50,latency_p99').split(',').map((m) => m.trim()).join(', ');
const INSTANCES = 3;
const HOST = 'hello.staging.localhost';
/** No single wait may exceed this; the whole bench gives up after MAX_BENCH_MS. */
const WAIT_MS = 90_000;
const MAX_BENCH_MS = 8 * 60_000;
const REQUEST_TIMEOUT_MS = 10_000;

const STRATEGY = {
  rolling: '{rolling: {max_surge: 1, max_unavailable: 0}}',
  blueGreen: '{blue_green: {probation: 2s}}',
  // The judge's default metrics. Each canary step must pass them on a small, saturated host, where
  // per-process stalls slow runs of requests at once (src/analysis/blocks.ts).
  canary: `{canary: {steps: [10, 30, 50], step_duration: 3s, analysis: {interval: 1s, metrics: [${CANARY_METRICS}]}, probation: 2s}}`,
  // Long enough that the rollback surely lands during probation.
  blueGreenHeld: '{blue_green: {probation: 60s}}',
};

/** examples/hello with 3 instances and one environment, staging, using `strategy` (YAML flow text). */
function specWith(base: string, strategy: string): string {
  return base.replace('  instances: 2', `  instances: ${INSTANCES}`)
    .replace(/environments:[\s\S]*$/, `environments:\n  staging:\n    strategy: ${strategy}\n`);
}

// ---------------------------------------------------------------------------------------------
// Load: WORKERS loops of keep-alive GETs, no cookies.

interface Sample { at: number; ms: number; status: number; release: string; error?: string }

function loadGenerator(port: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: WORKERS });
  const samples: Sample[] = [];
  const t0 = performance.now();
  let running = true;
  const one = () => new Promise<void>((resolve) => {
    const start = performance.now();
    const req = http.get({ host: '127.0.0.1', port, path: '/', headers: { host: HOST }, agent, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      res.resume();
      res.on('end', () => {
        samples.push({ at: start - t0, ms: performance.now() - start, status: res.statusCode ?? 0, release: String(res.headers['x-slipway-release'] ?? '?') });
        resolve();
      });
      res.on('error', (err) => { samples.push({ at: start - t0, ms: performance.now() - start, status: 0, release: '?', error: `response: ${err.message}` }); resolve(); });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', (err) => { samples.push({ at: start - t0, ms: performance.now() - start, status: 0, release: '?', error: err.message }); resolve(); });
  });
  const loops = Array.from({ length: WORKERS }, async () => { while (running) await one(); });
  return async () => {
    running = false;
    await Promise.all(loops);
    agent.destroy();
    return samples;
  };
}

// ---------------------------------------------------------------------------------------------
// Waiting on the control plane through the API (a fetch costs far less than a CLI process).

const TERMINAL = ['committed', 'failed', 'rolled_back', 'aborted'];

async function staging(server: TestServer): Promise<any> {
  return (await api(server, '/apps/hello/status')).environments.find((e: any) => e.name === 'staging');
}

/** Polls staging until `check` returns something; `check` may throw GiveUp to stop at once. */
function untilStaging<T>(server: TestServer, what: string, check: (env: any) => T | undefined | false): Promise<T> {
  return waitFor(async () => { const env = await staging(server); return env ? check(env) : undefined; }, WAIT_MS, what) as Promise<T>;
}

const settledOn = (env: any, version: string) => env.release?.version === version && TERMINAL.includes(env.deployment?.state)
  && env.instances.length === INSTANCES && env.instances.every((i: any) => i.release === version && i.healthy && i.routed && i.state === 'running');

/** The deployment to `version` must end `state` and staging must run only `version`, at full size. */
async function waitEnded(server: TestServer, id: () => string | undefined, version: string, state: string): Promise<any> {
  await untilStaging(server, `deployment ${id() ?? 'to ' + version} to end ${state} with staging on ${version} only`, (env) => {
    const d = env.deployment;
    if (d && d.id === id() && TERMINAL.includes(d.state) && d.state !== state) throw new GiveUp(`deployment ${d.id} ended ${d.state}: ${d.reason}`);
    if (d && d.id === id() && d.state === 'paused') throw new GiveUp(`deployment ${d.id} paused: ${d.reason}`);
    return d?.id === id() && d.state === state && settledOn(env, state === 'committed' ? d.to : version);
  });
  return api(server, `/deployments/${id()}`);
}

/** Waits for the deployment the pipeline creates for `version` and returns its id. */
async function deploymentFor(server: TestServer, version: string, ok: (d: any) => boolean = () => true, what = 'to start'): Promise<string> {
  const d = await untilStaging(server, `the deployment of ${version} ${what}`, (env) => {
    const dep = env.deployment;
    if (dep?.to !== version) return undefined;
    if (TERMINAL.includes(dep.state) && !ok(dep)) throw new GiveUp(`deployment ${dep.id} ended ${dep.state} (${dep.reason}) while waiting for it ${what}`);
    return ok(dep) ? dep : undefined;
  });
  return d.id;
}

async function cli(server: TestServer, ...args: string[]): Promise<string> {
  const r = await server.cli(...args);
  if (r.code !== 0) throw new Error(`slipway ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** Commits files (a new version) and tells the server at once, as a git hook would. Returns the version. */
async function push(server: TestServer, repo: TestRepo, files: Record<string, string>, message: string): Promise<string> {
  repo.commit(files, message);
  const res = await fetch(`${server.apiUrl}/api/v1/apps/hello/hooks/git`, { method: 'POST', headers: { authorization: `Bearer ${server.token}` } });
  if (!res.ok) throw new Error(`hooks/git: HTTP ${res.status} ${await res.text()}`);
  return `v${(await res.json()).run.number}`;
}

/** One line about what a deployment did: strategy, path, ending, traffic steps, verdicts. */
function story(d: any): string {
  const weights = d.events.filter((e: any) => e.kind === 'traffic.shifted').map((e: any) => e.after.weight);
  const outcomes = new Map<string, number>();
  for (const v of d.verdicts ?? []) outcomes.set(v.outcome, (outcomes.get(v.outcome) ?? 0) + 1);
  const parts = [`${d.id} ${d.strategy} ${d.from ?? '∅'} → ${d.to}: ${d.state}${d.reason ? ` (${d.reason})` : ''}`];
  if (weights.length) parts.push(`weights ${weights.join(' → ')}`);
  if (outcomes.size) parts.push(`verdicts ${[...outcomes].map(([k, n]) => `${n} ${k}`).join(', ')}`);
  if (d.events.some((e: any) => e.kind === 'deployment.promoted')) parts.push('promoted');
  const started = Date.parse(d.startedAt), finished = Date.parse(d.finishedAt);
  if (started && finished) parts.push(`${((finished - started) / 1000).toFixed(1)} s start → end`);
  return parts.join(' · ');
}

// ---------------------------------------------------------------------------------------------
// Phases and the table.

const COLUMNS = `${'phase'.padEnd(30)} ${'requests'.padStart(8)} ${'failed'.padStart(7)} ${'req/s'.padStart(7)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'secs'.padStart(6)}  served`;

function row(name: string, samples: Sample[], seconds: number): { failed: number } {
  const ok = samples.filter((s) => s.status === 200);
  const failed = samples.length - ok.length;
  const sorted = ok.map((s) => s.ms).sort((a, b) => a - b);
  const served = new Map<string, number>();
  for (const s of ok) served.set(s.release, (served.get(s.release) ?? 0) + 1);
  const share = [...served].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
    .map(([release, n]) => `${release} ${((100 * n) / ok.length).toFixed(n === ok.length ? 0 : 1)}%`).join(', ');
  console.log(`${name.padEnd(30)} ${String(samples.length).padStart(8)} ${String(failed).padStart(7)} ${(samples.length / seconds).toFixed(0).padStart(7)} ${pct(sorted, 50).toFixed(2).padStart(7)} ${pct(sorted, 99).toFixed(2).padStart(7)} ${seconds.toFixed(1).padStart(6)}  ${share}`);
  return { failed };
}

const all: Sample[] = [];
let totalSeconds = 0;
let totalFailed = 0;

async function phase(name: string, port: number, action: () => Promise<string | string[] | void>): Promise<void> {
  const stop = loadGenerator(port);
  const started = performance.now();
  let notes: string | string[] | void = undefined;
  let error: unknown;
  try {
    notes = await action();
  } catch (err) {
    error = err;
  }
  const samples = await stop();
  const seconds = (performance.now() - started) / 1000;
  const { failed } = row(name, samples, seconds);
  all.push(...samples);
  totalSeconds += seconds;
  totalFailed += failed;
  for (const note of [notes ?? []].flat()) console.log(`    ${note}`);
  if (failed) {
    const kinds = new Map<string, number>();
    for (const s of samples) if (s.status !== 200) { const k = s.error ?? `HTTP ${s.status}`; kinds.set(k, (kinds.get(k) ?? 0) + 1); }
    console.log(`    FAILED: ${[...kinds].map(([k, n]) => `${n}× ${k}`).join('; ')}`);
    console.log(`    first failures at (s into the phase): ${samples.filter((s) => s.status !== 200).slice(0, 8).map((s) => (s.at / 1000).toFixed(3)).join(', ')}`);
  }
  if (error) throw error;
}

function header(): void {
  const rel = (p: string) => (path.isAbsolute(p) ? path.relative(process.cwd(), p) || '.' : p);
  const knobs = ['WORKERS', 'STEADY_S', 'ROUNDS', 'CANARY_METRICS'].filter((k) => process.env[k] !== undefined).map((k) => `${k}=${process.env[k]} `).join('');
  console.log('bench/zero-downtime: every rollout and rollback under sustained load through the router');
  console.log(`command : ${knobs}${[process.argv0, ...process.argv.slice(1).map(rel)].join(' ')}`);
  console.log(`date    : ${new Date().toISOString()}`);
  console.log(`machine : nproc ${os.availableParallelism()} · ${os.cpus()[0]?.model ?? 'unknown CPU'} · ${Math.round(os.totalmem() / 2 ** 30)} GiB · ${os.type()} ${os.release()}`);
  console.log(`load    : load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} at start`);
  console.log(`node    : ${process.version} · git ${execFileSync('git', ['--version'], { encoding: 'utf8' }).trim().replace('git version ', '')}`);
  console.log(`traffic : ${WORKERS} keep-alive clients, no cookies (each request assigned by weight), GET / on ${HOST}; failed = non-200 or transport error`);
  console.log(`setup   : staging ${INSTANCES} instances; ${ROUNDS} round(s) of six phases; each phase commits slipway.yaml with its strategy:`);
  for (const [name, text] of Object.entries(STRATEGY)) console.log(`          ${name.padEnd(14)} ${text}`);
}

// ---------------------------------------------------------------------------------------------

const watchdog = setTimeout(() => {
  console.error(`bench/zero-downtime: gave up after ${MAX_BENCH_MS / 60_000} min`);
  void cleanup().finally(() => process.exit(3));
}, MAX_BENCH_MS);
process.once('SIGINT', () => { void cleanup().finally(() => process.exit(130)); });

try {
  header();
  const benchStarted = performance.now();
  const base = readFileSync(new URL('../../examples/hello/slipway.yaml', import.meta.url), 'utf8');
  const { server, repo } = await slipwayWithApp(() => specWith(base, STRATEGY.rolling), '1h');
  const port = server.routerPort;
  await untilStaging(server, 'staging on v1', (env) => settledOn(env, 'v1'));
  console.log('');
  console.log(COLUMNS);

  await phase(`steady v1 (${STEADY_S} s)`, port, () => new Promise((r) => setTimeout(r, STEADY_S * 1000)));

  let id: string | undefined;
  const current = () => id;
  let serving = 'v1';
  for (let round = 1; round <= ROUNDS; round++) {
    const tag = ROUNDS > 1 ? ` #${round}` : '';
    const commit = (strategy: string, what: string) =>
      push(server, repo, { 'message.txt': `${what}, round ${round}\n`, 'slipway.yaml': specWith(base, strategy) }, `${what} #${round}`);

    await phase(`rolling${tag}`, port, async () => {
      const v = await commit(STRATEGY.rolling, 'rolling');
      id = await deploymentFor(server, v);
      const d = await waitEnded(server, current, v, 'committed');
      serving = v;
      return story(d);
    });

    await phase(`blue/green switch${tag}`, port, async () => {
      const v = await commit(STRATEGY.blueGreen, 'blue/green');
      id = await deploymentFor(server, v);
      const d = await waitEnded(server, current, v, 'committed');
      serving = v;
      return story(d);
    });

    await phase(`canary 10/30/50${tag}`, port, async () => {
      const v = await commit(STRATEGY.canary, 'canary');
      id = await deploymentFor(server, v);
      const d = await waitEnded(server, current, v, 'committed');
      serving = v;
      return story(d);
    });

    await phase(`canary + promote${tag}`, port, async () => {
      const v = await commit(STRATEGY.canary, 'canary, promoted');
      id = await deploymentFor(server, v, (d) => d.state === 'progressing' && d.weight === 10, 'to reach 10%');
      await new Promise((r) => setTimeout(r, 1000)); // let the 10% step serve a moment
      const said = await cli(server, 'promote', 'hello', 'staging');
      const d = await waitEnded(server, current, v, 'committed');
      serving = v;
      return [story(d), `slipway promote: ${said}`];
    });

    await phase(`rollback in b/g probation${tag}`, port, async () => {
      const v = await commit(STRATEGY.blueGreenHeld, 'blue/green, rolled back');
      id = await deploymentFor(server, v, (d) => d.state === 'probation' && d.weight === 100, 'to switch (probation)');
      await new Promise((r) => setTimeout(r, 1000)); // the green set serves everything for a moment
      const said = await cli(server, 'rollback', 'hello', 'staging');
      return [story(await waitEnded(server, current, serving, 'rolled_back')), `slipway rollback: ${said}`];
    });

    await phase(`rollback after commit${tag}`, port, async () => {
      // No old instances left: a rolling deployment of the previous committed release.
      const dep = JSON.parse(await cli(server, 'rollback', 'hello', 'staging', '--json'));
      id = dep.id;
      const d = await waitEnded(server, current, dep.to, 'committed');
      serving = dep.to;
      // After this kind of rollback automatic deployments wait for a person.
      if (!(await staging(server)).autoDeployPaused) throw new Error('automatic deployments are not paused after a rollback after commit');
      const resumed = await cli(server, 'resume', 'hello', 'staging');
      if ((await staging(server)).autoDeployPaused) throw new Error('automatic deployments still paused after `slipway resume`');
      return [story(d), `slipway resume: ${resumed}`];
    });
  }

  const sorted = all.filter((s) => s.status === 200).map((s) => s.ms).sort((a, b) => a - b);
  console.log('-'.repeat(COLUMNS.length));
  console.log(`${'total'.padEnd(30)} ${String(all.length).padStart(8)} ${String(totalFailed).padStart(7)} ${(all.length / totalSeconds).toFixed(0).padStart(7)} ${pct(sorted, 50).toFixed(2).padStart(7)} ${pct(sorted, 99).toFixed(2).padStart(7)} ${totalSeconds.toFixed(1).padStart(6)}`);
  console.log('');
  console.log(totalFailed === 0 ? 'result: 0 failed requests' : `result: ${totalFailed} FAILED requests`);
  console.log(`bench wall time: ${((performance.now() - benchStarted) / 1000).toFixed(0)} s (server start and v1 included)`);
  process.exitCode = totalFailed === 0 ? 0 : 1;
} catch (err) {
  console.error(`bench/zero-downtime: stopped: ${(err as Error).message ?? err}`);
  if (process.env.BENCH_DEBUG) console.error((err as Error).stack);
  process.exitCode = 2;
} finally {
  clearTimeout(watchdog);
  await cleanup();
}
