// Rollback time: from `slipway rollback` to 100 % of traffic on the previous release.
//
//   (a) during blue/green probation      the old (blue) set still runs: a weight change
//   (b) during a canary step at 50 %     the old set still runs (50 % canary + 50 % baseline before)
//   (c) during canary probation          after `promote`: 100 % canary, the old set still runs
//   (d) after commit, for contrast       no old instances left: a rolling redeploy of the previous
//                                        release (info only; automatic deployments are resumed after)
//
// Each is measured two ways, interleaved: from the API call (POST .../environments/staging/rollback,
// t0 just before fetch) and from invoking the real CLI (`node src/cli/main.ts rollback hello staging`,
// t0 just before spawn, so Node start-up is included). Meanwhile one keep-alive client sends GETs
// through the router back to back, no cookies. "100 %" is the first instant after which the next
// 200 consecutive requests all answer 200 with the previous release's X-Slipway-Release; the time
// reported is that request's send time minus t0. Goal for (a)–(c): ≤ 1 s.
//
// Run: node_modules/.bin/node bench/rollback/index.ts         knobs (env): REPS=5, STREAK=200
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { api, cleanup, median, slipwayWithApp } from '../lib/slipway.ts';
import { runCli } from '../../test/helpers/server.ts';
import { GiveUp, waitFor } from '../../test/helpers/wait.ts';
import type { TestRepo } from '../../test/helpers/repo.ts';
import type { TestServer } from '../../test/helpers/server.ts';

const REPS = Number(process.env.REPS ?? 5);
const STREAK = Number(process.env.STREAK ?? 200);
const GOAL_MS = 1000;
const INSTANCES = 2;
const HOST = 'hello.staging.localhost';
const WAIT_MS = 90_000;
const MAX_BENCH_MS = 10 * 60_000;
/** How long the prober may look for the streak after t0: (a)–(c) and (d). */
const PROBE_LIMIT_MS = { instant: 20_000, rolling: 90_000 };
/** The prober runs this long before t0, to show what traffic looked like just before the rollback. */
const BEFORE_MS = 200;

const STRATEGY = {
  blueGreen: '{blue_green: {probation: 10m}}',
  // One long step and no verdict that could move it: the canary sits at 50 % until told otherwise.
  canary: '{canary: {steps: [50], step_duration: 10m, analysis: {interval: 10m, min_requests: 1000000}, probation: 10m}}',
  rolling: '{rolling: {max_surge: 1, max_unavailable: 0}}',
};

function specWith(base: string, strategy: string): string {
  return base.replace('  instances: 2', `  instances: ${INSTANCES}`)
    .replace(/environments:[\s\S]*$/, `environments:\n  staging:\n    strategy: ${strategy}\n`);
}

// ---------------------------------------------------------------------------------------------
// The prober: back-to-back GETs through the router on one keep-alive connection.

interface Probe { at: number; status: number; release: string }

function prober(port: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const samples: Probe[] = [];
  let running = true;
  const one = () => new Promise<void>((resolve) => {
    const at = performance.now();
    const req = http.get({ host: '127.0.0.1', port, path: '/', headers: { host: HOST }, agent, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => { samples.push({ at, status: res.statusCode ?? 0, release: String(res.headers['x-slipway-release'] ?? '?') }); resolve(); });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => { samples.push({ at, status: 0, release: '?' }); resolve(); });
  });
  const loop = (async () => { while (running) await one(); })();
  return {
    samples,
    /** Resolves with the index of the first request (sent at or after t0) that starts STREAK answers of `release`. */
    async streak(t0: number, release: string, limitMs: number): Promise<number | undefined> {
      let start = -1, length = 0, seen = 0;
      while (performance.now() - t0 < limitMs) {
        for (; seen < samples.length; seen++) {
          const s = samples[seen];
          if (s.at < t0) continue;
          if (s.status === 200 && s.release === release) {
            if (length++ === 0) start = seen;
            if (length >= STREAK) return start;
          } else length = 0;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      return undefined;
    },
    async stop() { running = false; await loop; agent.destroy(); },
  };
}

// ---------------------------------------------------------------------------------------------
// Control plane, through the API.

const TERMINAL = ['committed', 'failed', 'rolled_back', 'aborted'];

async function staging(server: TestServer): Promise<any> {
  return (await api(server, '/apps/hello/status')).environments.find((e: any) => e.name === 'staging');
}

function untilStaging<T>(server: TestServer, what: string, check: (env: any) => T | undefined | false): Promise<T> {
  return waitFor(async () => { const env = await staging(server); return env ? check(env) : undefined; }, WAIT_MS, what) as Promise<T>;
}

const onlyOn = (env: any, version: string) => env.instances.length === INSTANCES
  && env.instances.every((i: any) => i.release === version && i.healthy && i.routed && i.state === 'running');

async function push(server: TestServer, repo: TestRepo, files: Record<string, string>, message: string): Promise<string> {
  repo.commit(files, message);
  const res = await fetch(`${server.apiUrl}/api/v1/apps/hello/hooks/git`, { method: 'POST', headers: { authorization: `Bearer ${server.token}` } });
  if (!res.ok) throw new Error(`hooks/git: HTTP ${res.status} ${await res.text()}`);
  return `v${(await res.json()).run.number}`;
}

/** Waits until the deployment of `version` satisfies `ok` (and its instances are ready); fails at once if it ended otherwise. */
function reach(server: TestServer, version: string, what: string, ok: (d: any, env: any) => boolean): Promise<any> {
  return untilStaging(server, `${version} ${what}`, (env) => {
    const d = env.deployment;
    if (d?.to !== version) return undefined;
    if (!ok(d, env) && (TERMINAL.includes(d.state) || d.state === 'paused')) throw new GiveUp(`deployment ${d.id} is ${d.state} (${d.reason}) while waiting for ${what}`);
    return ok(d, env) ? env : undefined;
  });
}

async function post(server: TestServer, verb: string): Promise<any> {
  const res = await fetch(`${server.apiUrl}/api/v1/apps/hello/environments/staging/${verb}`, { method: 'POST', headers: { authorization: `Bearer ${server.token}` } });
  if (!res.ok) throw new Error(`POST ${verb}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

// ---------------------------------------------------------------------------------------------
// One measurement.

type Method = 'api' | 'cli';
interface Measurement { ms: number | undefined; returnedMs: number; failed: number; before: string }

async function measure(server: TestServer, method: Method, previous: string, limitMs: number): Promise<Measurement> {
  const probe = prober(server.routerPort);
  await new Promise((r) => setTimeout(r, BEFORE_MS));
  const t0 = performance.now();
  const call = method === 'api'
    ? post(server, 'rollback').then(() => performance.now())
    : server.cli('rollback', 'hello', 'staging').then((r) => {
      if (r.code !== 0) throw new Error(`slipway rollback exited ${r.code}: ${r.stderr.trim()}`);
      return performance.now();
    });
  const [index, returned] = await Promise.all([probe.streak(t0, previous, limitMs), call]);
  await probe.stop();
  const before = probe.samples.filter((s) => s.at < t0 && s.at >= t0 - BEFORE_MS);
  const share = new Map<string, number>();
  for (const s of before) share.set(s.release, (share.get(s.release) ?? 0) + 1);
  return {
    ms: index === undefined ? undefined : Math.max(0, probe.samples[index].at - t0),
    returnedMs: returned - t0,
    failed: probe.samples.filter((s) => s.status !== 200).length,
    before: [...share].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true })).map(([r, n]) => `${r} ${Math.round((100 * n) / before.length)}%`).join(' ') + ` of ${before.length}`,
  };
}

// ---------------------------------------------------------------------------------------------

const rows: { scenario: string; method: Method; m: Measurement[]; info: boolean }[] = [];

function header(): void {
  const rel = (p: string) => (path.isAbsolute(p) ? path.relative(process.cwd(), p) || '.' : p);
  const knobs = ['REPS', 'STREAK'].filter((k) => process.env[k] !== undefined).map((k) => `${k}=${process.env[k]} `).join('');
  console.log('bench/rollback: time from `slipway rollback` to 100 % of traffic on the previous release');
  console.log(`command : ${knobs}${[process.argv0, ...process.argv.slice(1).map(rel)].join(' ')}`);
  console.log(`date    : ${new Date().toISOString()}`);
  console.log(`machine : nproc ${os.availableParallelism()} · ${os.cpus()[0]?.model ?? 'unknown CPU'} · ${Math.round(os.totalmem() / 2 ** 30)} GiB · ${os.type()} ${os.release()}`);
  console.log(`load    : load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} at start (other work on the machine competes with the CLI's start-up)`);
  console.log(`node    : ${process.version} · git ${execFileSync('git', ['--version'], { encoding: 'utf8' }).trim().replace('git version ', '')}`);
  console.log(`method  : t0 = just before the API call (fetch POST .../rollback) or the CLI spawn (${rel(process.execPath)} src/cli/main.ts rollback hello staging);`);
  console.log(`          one keep-alive client probes the router back to back (no cookies); done = send time of the first of ${STREAK}`);
  console.log(`          consecutive 200s from the previous release. ${REPS} runs per scenario and method, interleaved. staging: ${INSTANCES} instances.`);
  for (const [name, text] of Object.entries(STRATEGY)) console.log(`          ${name.padEnd(10)} ${text}`);
}

const fmt = (ms: number | undefined) => (ms === undefined ? 'never' : ms < 10 ? ms.toFixed(1) : ms.toFixed(0));

function table(): void {
  console.log('');
  console.log(`${'scenario'.padEnd(34)} ${'from'.padEnd(4)} ${'n'.padStart(2)} ${'median ms'.padStart(10)} ${'max ms'.padStart(8)} ${'call ms'.padStart(8)} ${'failed'.padStart(6)}  verdict      runs (ms)`);
  let pass = true;
  for (const r of rows) {
    const times = r.m.map((m) => m.ms);
    const known = times.filter((t): t is number => t !== undefined);
    const max = known.length === times.length ? Math.max(...known) : undefined;
    const failed = r.m.reduce((a, m) => a + m.failed, 0);
    const ok = max !== undefined && max <= GOAL_MS && failed === 0;
    if (!r.info && !ok) pass = false;
    const verdict = r.info ? 'info' : failed ? 'FAILED' : ok ? `ok ≤ ${GOAL_MS}` : `SLOW > ${GOAL_MS}`;
    console.log(`${r.scenario.padEnd(34)} ${r.method.toUpperCase().padEnd(4)} ${String(r.m.length).padStart(2)} ${fmt(known.length ? median(known) : undefined).padStart(10)} ${fmt(max).padStart(8)} ${fmt(median(r.m.map((m) => m.returnedMs))).padStart(8)} ${String(failed).padStart(6)}  ${verdict.padEnd(11)}  ${times.map(fmt).join(', ')}`);
  }
  console.log('');
  console.log('call ms: median time until the API answered / the CLI exited. failed: non-200 answers the prober saw.');
  console.log(pass ? `result: every rollback with the old instances running reached 100 % within ${GOAL_MS} ms` : `result: goal missed (rows marked SLOW or FAILED); compare the CLI rows with the CLI's bare start-up above`);
  process.exitCode = pass ? 0 : 1;
}

const watchdog = setTimeout(() => {
  console.error(`bench/rollback: gave up after ${MAX_BENCH_MS / 60_000} min`);
  void cleanup().finally(() => process.exit(3));
}, MAX_BENCH_MS);
process.once('SIGINT', () => { void cleanup().finally(() => process.exit(130)); });

try {
  header();
  const base = readFileSync(new URL('../../examples/hello/slipway.yaml', import.meta.url), 'utf8');
  const { server, repo } = await slipwayWithApp(() => specWith(base, STRATEGY.rolling), '1h');
  await untilStaging(server, 'staging on v1', (env) => env.deployment?.state === 'committed' && onlyOn(env, 'v1'));
  // Context for the CLI rows: what Node start-up plus loading the CLI costs here, with and without the prober.
  const startup = async (n: number) => {
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      const r = await runCli(['--version'], {});
      if (r.code !== 0) throw new Error(`slipway --version exited ${r.code}`);
      times.push(performance.now() - t);
    }
    return median(times);
  };
  const idle = await startup(3);
  const probing = prober(server.routerPort);
  const busy = await startup(3);
  await probing.stop();
  console.log(`cli     : \`src/cli/main.ts --version\` takes ${idle.toFixed(0)} ms (median of 3) without the prober, ${busy.toFixed(0)} ms while the prober runs`);
  const methods: Method[] = Array.from({ length: 2 * REPS }, (_, n) => (n % 2 === 0 ? 'api' : 'cli'));
  let round = 0;
  const log = (text: string) => console.log(`  ${text}`);

  /** Runs `prepare` (which leaves a deployment whose rollback is to be timed), measures, waits for the end. */
  async function scenario(name: string, info: boolean, prepare: () => Promise<{ previous: string; version: string }>, after?: () => Promise<void>) {
    const byMethod: Record<Method, Measurement[]> = { api: [], cli: [] };
    for (const method of methods) {
      round++;
      const { previous, version } = await prepare();
      const env = await staging(server);
      const old = env.instances.filter((i: any) => i.release === previous && i.routed).length;
      const m = await measure(server, method, previous, info ? PROBE_LIMIT_MS.rolling : PROBE_LIMIT_MS.instant);
      byMethod[method].push(m);
      log(`${name} · ${method} · ${version} → back to ${previous} · old instances routed at t0: ${old} · traffic before: ${m.before} · 100 % after ${fmt(m.ms)} ms · call ${fmt(m.returnedMs)} ms${m.failed ? ` · ${m.failed} FAILED` : ''}`);
      // The rollback finishes in the background: wait until only the previous release runs.
      await untilStaging(server, `staging back on ${previous} only`, (e) => TERMINAL.includes(e.deployment?.state) && e.release?.version === previous && onlyOn(e, previous));
      await after?.();
      await new Promise((r) => setTimeout(r, 300));
    }
    rows.push({ scenario: name, method: 'api', m: byMethod.api, info }, { scenario: name, method: 'cli', m: byMethod.cli, info });
  }

  let current = 'v1';
  await scenario('(a) blue/green probation', false, async () => {
    const version = await push(server, repo, { 'message.txt': `round ${round}\n`, 'slipway.yaml': specWith(base, STRATEGY.blueGreen) }, `a${round}`);
    await reach(server, version, 'in probation', (d) => d.state === 'probation' && d.weight === 100);
    return { previous: current, version };
  });
  await scenario('(b) canary step at 50 %', false, async () => {
    const version = await push(server, repo, { 'message.txt': `round ${round}\n`, 'slipway.yaml': specWith(base, STRATEGY.canary) }, `b${round}`);
    await reach(server, version, 'at 50 %', (d) => d.state === 'progressing' && d.weight === 50 && d.stepStartedAt !== null);
    return { previous: current, version };
  });
  await scenario('(c) canary probation', false, async () => {
    const version = await push(server, repo, { 'message.txt': `round ${round}\n`, 'slipway.yaml': specWith(base, STRATEGY.canary) }, `c${round}`);
    await reach(server, version, 'at 50 %', (d) => d.state === 'progressing' && d.weight === 50 && d.stepStartedAt !== null);
    await post(server, 'promote');
    await reach(server, version, 'in probation', (d) => d.state === 'probation' && d.weight === 100);
    return { previous: current, version };
  });
  await scenario('(d) after commit (rolling redeploy)', true, async () => {
    const version = await push(server, repo, { 'message.txt': `round ${round}\n`, 'slipway.yaml': specWith(base, STRATEGY.rolling) }, `d${round}`);
    await reach(server, version, 'committed', (d, env) => d.state === 'committed' && onlyOn(env, version));
    const previous = current;
    current = version;
    return { previous, version };
  }, async () => {
    current = (await staging(server)).release.version;
    await post(server, 'resume'); // a rollback after commit pauses automatic deployments
  });

  table();
} catch (err) {
  console.error(`bench/rollback: stopped: ${(err as Error).message ?? err}`);
  if (process.env.BENCH_DEBUG) console.error((err as Error).stack);
  process.exitCode = 2;
} finally {
  clearTimeout(watchdog);
  await cleanup();
}
