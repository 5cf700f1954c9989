import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { cpuTimeMs, freePort, spawnReady, stopAll, track, waitForPort } from '../lib/proc.ts';
import { runWrk, wrkArgs, type WrkResult } from '../lib/wrk.ts';

// Router benchmark, one run, three targets side by side:
//   direct:  wrk → 1 node:http backend
//   slipway: wrk → Slipway Router (own process) → 2 backends
//   haproxy: wrk → HAProxy (round-robin, keep-alive, http-reuse always) → the same 2 backends
// Targets are measured in interleaved rounds (direct, slipway, haproxy, direct, …) and the
// table reports medians, so a slow patch of a noisy (virtual) machine does not land on one
// target only. Two loads, each in its own interleaved rounds:
//   saturated: wrk's closed loop, CONNECTIONS connections sending back to back. This gives the
//     throughput; its latency is mostly queueing (connections ÷ throughput, Little's law).
//   fixed:     the same offered load for every target, about FIXED_RATE req/s from
//     FIXED_CONNECTIONS connections with random think times (think.lua), below every target's
//     saturation. This gives the latency a proxy adds to a request at a load it carries.
// Run through bench/router/run.sh. Knobs (env): ROUNDS=5 DURATION=4s WARMUP=2s CONNECTIONS=32
// THREADS=1 HAPROXY_THREADS=1 FIXED_RATE=8000 FIXED_CONNECTIONS=64 SLIPWAY_ROUTER_MODULE=<path to
// a router.ts copy> ROUTER_NODE_FLAGS='<node flags for the router process>' (default: the server's).

const HERE = path.dirname(new URL(import.meta.url).pathname);
const ROOT = path.resolve(HERE, '../..');
const NODE = process.execPath;
const HOST_HEADER = 'bench.prod.localhost';

const cfg = {
  rounds: Number(process.env.ROUNDS ?? 5),
  duration: process.env.DURATION ?? '4s',
  warmup: process.env.WARMUP ?? '2s',
  connections: Number(process.env.CONNECTIONS ?? 32),
  threads: Number(process.env.THREADS ?? 1),
  haproxyThreads: Number(process.env.HAPROXY_THREADS ?? 1),
  fixedRate: Number(process.env.FIXED_RATE ?? 8000),
  fixedConnections: Number(process.env.FIXED_CONNECTIONS ?? 64),
  routerModule: path.resolve(process.env.SLIPWAY_ROUTER_MODULE ?? path.join(ROOT, 'src/router/router.ts')),
  // By default the flags the server runs with (bin/slipway.js), so the router is measured as deployed.
  routerNodeFlags: (process.env.ROUTER_NODE_FLAGS ?? '--max-semi-space-size=2 --no-parallel-scavenge').split(/\s+/).filter(Boolean),
};

const sh = (cmd: string, args: string[]) => {
  try { return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim(); } catch (err) { return `(unavailable: ${(err as Error).message.split('\n')[0]})`; }
};
const cpuModel = () => /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
/** CPU time the hypervisor gave to other guests (steal), and all CPU time, from /proc/stat. */
const cpuTicks = () => {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { steal: f[7] ?? 0, total: f.reduce((a, b) => a + b, 0) };
};
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

/** Sends `n` GETs and checks every answer is 200 "ok"; returns the distinct backends that answered. */
async function probe(port: number, n: number, expectRelease: boolean): Promise<Set<string>> {
  const seen = new Set<string>();
  const agent = new http.Agent({ keepAlive: false });
  for (let i = 0; i < n; i++) {
    const { status, body, headers } = await new Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/', headers: { host: HOST_HEADER }, agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => { body += c; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      }).once('error', reject);
    });
    if (status !== 200 || body !== 'ok') throw new Error(`probe of :${port} got ${status} ${JSON.stringify(body)}`);
    if (expectRelease && headers['x-slipway-release'] !== 'r1') throw new Error(`probe of :${port}: missing x-slipway-release`);
    seen.add(String(headers['x-backend']));
  }
  agent.destroy();
  return seen;
}

function haproxyConfig(port: number, backends: number[]): string {
  return [
    'global',
    `  nbthread ${cfg.haproxyThreads}`,
    '  maxconn 4096',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 65s',
    '  timeout server 65s',
    '  timeout http-keep-alive 65s',
    '  option http-keep-alive',
    '  http-reuse always',
    'frontend fe',
    `  bind 127.0.0.1:${port}`,
    // The same per-request work as the router: forwarding headers in, a release header out.
    '  option forwardfor',
    '  http-request set-header X-Forwarded-Host %[req.hdr(host)]',
    '  http-request set-header X-Forwarded-Proto http',
    '  http-response set-header X-Slipway-Release r1',
    '  default_backend be',
    'backend be',
    '  balance roundrobin',
    ...backends.map((p, i) => `  server b${i + 1} 127.0.0.1:${p}`),
    '',
  ].join('\n');
}

interface Target {
  name: string;
  path: string;
  port: number;
  proxyPid?: number; // the process between wrk and the backends, if any
  backendPids: number[];
  runs: Run[]; // saturated
  fixed: Run[]; // at the fixed offered load
}
interface Run { wrk: WrkResult; proxyUs?: number; backendUs: number }

const THINK_SCRIPT = path.join(HERE, 'think.lua');
const thinkMs = () => Math.max(1, Math.round((cfg.fixedConnections * 1000) / cfg.fixedRate));

async function measure(t: Target, duration: string, fixed = false): Promise<void> {
  const cpu = () => ({ proxy: t.proxyPid ? cpuTimeMs(t.proxyPid) : 0, backends: t.backendPids.reduce((a, pid) => a + cpuTimeMs(pid), 0) });
  const before = cpu();
  const wrk = await runWrk({
    url: `http://127.0.0.1:${t.port}/`, threads: cfg.threads, duration, headers: [`Host: ${HOST_HEADER}`],
    ...(fixed ? { connections: cfg.fixedConnections, script: THINK_SCRIPT, env: { THINK_MS: String(thinkMs()) } } : { connections: cfg.connections }),
  });
  const after = cpu();
  if (wrk.non2xx || wrk.socketErrors) process.stderr.write(`  ${t.name}: ${wrk.non2xx} non-2xx, ${wrk.socketErrors} socket errors\n`);
  const perReq = (ms: number) => (ms * 1000) / Math.max(1, wrk.requests);
  (fixed ? t.fixed : t.runs).push({ wrk, proxyUs: t.proxyPid ? perReq(after.proxy - before.proxy) : undefined, backendUs: perReq(after.backends - before.backends) });
}

async function main(): Promise<void> {
  const ownTmp = !process.env.BENCH_TMPDIR;
  const tmp = process.env.BENCH_TMPDIR ?? mkdtempSync(path.join(os.tmpdir(), 'slipway-router-bench.'));
  const backendScript = path.join(ROOT, 'bench/lib/backend.ts');
  const sample = wrkArgs({ url: 'http://127.0.0.1:<port>/', threads: cfg.threads, connections: cfg.connections, duration: cfg.duration, headers: [`Host: ${HOST_HEADER}`] })
    .map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ');
  const routerShown = path.relative(ROOT, cfg.routerModule).startsWith('..') ? cfg.routerModule : path.relative(ROOT, cfg.routerModule);

  const header = [
    `command:  ${process.env.BENCH_COMMAND ?? 'bench/router/run.sh'}`,
    `settings: ROUNDS=${cfg.rounds} DURATION=${cfg.duration} WARMUP=${cfg.warmup} CONNECTIONS=${cfg.connections} THREADS=${cfg.threads} HAPROXY_THREADS=${cfg.haproxyThreads}`,
    `client:   wrk ${sample}`,
    `          fixed load: the same with -c${cfg.fixedConnections} -s bench/router/think.lua (THINK_MS=${thinkMs()})`,
    `          per target: one ${cfg.warmup} warm-up, then ${cfg.rounds} interleaved rounds of each load; medians below`,
    `router:   ${routerShown} (own process, 1 route, 2 backends)${cfg.routerNodeFlags.length ? `, node flags: ${cfg.routerNodeFlags.join(' ')}` : ''}`,
    `date:     ${sh('date', ['-u'])}`,
    `nproc:    ${sh('nproc', [])}`,
    `cpu:      ${cpuModel()}`,
    `kernel:   ${os.release()}`,
    `node:     ${process.version}`,
    `haproxy:  ${sh('haproxy', ['-v']).split('\n')[0]}`,
    `wrk:      ${sh('sh', ['-c', 'wrk -v 2>&1 | head -1'])}`,
    `loadavg:  ${loadavg()} before the run (other work on the machine skews every number below)`,
  ];
  const busyBefore = Number(loadavg().split(' ')[0]);
  const ticksBefore = cpuTicks();

  let targets: Target[];
  try {
    process.stderr.write('starting backends, router and haproxy…\n');
    const [b1, b2] = await Promise.all([
      spawnReady('backend-1', NODE, [backendScript]),
      spawnReady('backend-2', NODE, [backendScript]),
    ]);
    const ports = [b1.port, b2.port];
    const backendPids = [b1.child.pid!, b2.child.pid!];

    const router = await spawnReady('router', NODE, [...cfg.routerNodeFlags, path.join(HERE, 'router-process.ts'), 'bench', 'prod', ports.join(',')], {
      env: { ...process.env, SLIPWAY_ROUTER_MODULE: cfg.routerModule },
    });

    const hport = await freePort();
    const cfgPath = path.join(tmp, 'haproxy.cfg');
    writeFileSync(cfgPath, haproxyConfig(hport, ports));
    const hap = track('haproxy', spawn('haproxy', ['-db', '-f', cfgPath], { stdio: ['ignore', 'inherit', 'inherit'] }));
    const exited = new Promise<never>((_, reject) => hap.once('exit', (code) => reject(new Error(`haproxy exited (code ${code})`))));
    await Promise.race([waitForPort(hport), exited]);

    await probe(b1.port, 1, false);
    for (const [name, port] of [['router', router.port], ['haproxy', hport]] as const) {
      const seen = await probe(port, 4, true);
      if (seen.size !== 2) throw new Error(`${name} did not spread load over both backends: ${[...seen].join(', ')}`);
    }

    targets = [
      { name: 'direct', path: 'wrk → node backend', port: b1.port, backendPids: [b1.child.pid!], runs: [], fixed: [] },
      { name: 'slipway', path: 'wrk → Router → 2 backends', port: router.port, proxyPid: router.child.pid, backendPids, runs: [], fixed: [] },
      { name: 'haproxy', path: 'wrk → HAProxy → 2 backends', port: hport, proxyPid: hap.pid, backendPids, runs: [], fixed: [] },
    ];

    if (!/^0[a-z]*$/.test(cfg.warmup)) {
      process.stderr.write('warming up…\n');
      for (const t of targets) { await measure(t, cfg.warmup); t.runs = []; }
    }
    for (let r = 1; r <= cfg.rounds; r++) {
      for (const t of targets) await measure(t, cfg.duration);
      for (const t of targets) await measure(t, cfg.duration, true);
      process.stderr.write(`round ${r}/${cfg.rounds}: ${targets.map((t) => `${t.name} ${t.runs.at(-1)!.wrk.rps.toFixed(0)}/s, p99 ${t.fixed.at(-1)!.wrk.p99} ms at a fixed load`).join('; ')}\n`);
    }
  } finally {
    await stopAll();
    if (ownTmp) rmSync(tmp, { recursive: true, force: true });
  }

  const summarise = (runs: Run[], proxied: boolean) => ({
    rps: median(runs.map((r) => r.wrk.rps)),
    p50: median(runs.map((r) => r.wrk.p50)),
    p99: median(runs.map((r) => r.wrk.p99)),
    proxyUs: proxied ? median(runs.map((r) => r.proxyUs!)) : undefined,
    backendUs: median(runs.map((r) => r.backendUs)),
    errors: runs.reduce((a, r) => a + r.wrk.non2xx + r.wrk.socketErrors, 0),
  });
  type Summary = ReturnType<typeof summarise> & { name: string; path: string };
  const saturated: Summary[] = targets.map((t) => ({ name: t.name, path: t.path, ...summarise(t.runs, !!t.proxyPid) }));
  const fixed: Summary[] = targets.map((t) => ({ name: t.name, path: t.path, ...summarise(t.fixed, !!t.proxyPid) }));

  const f = (n: number, d = 2) => n.toFixed(d);
  const signed = (n: number) => `${n >= 0 ? '+' : '−'}${f(Math.abs(n))}`;
  const cols = [
    { h: 'target', w: 8, left: true, v: (a: Summary) => a.name },
    { h: 'path', w: 26, left: true, v: (a: Summary) => a.path },
    { h: 'req/s', w: 7, v: (a: Summary) => f(a.rps, 0) },
    { h: 'p50 ms', w: 6, v: (a: Summary) => f(a.p50) },
    { h: 'p99 ms', w: 6, v: (a: Summary) => f(a.p99) },
    { h: 'proxy CPU µs/req', w: 16, v: (a: Summary) => (a.proxyUs === undefined ? '–' : f(a.proxyUs, 1)) },
    { h: 'backends CPU µs/req', w: 19, v: (a: Summary) => f(a.backendUs, 1) },
    { h: 'errors', w: 6, v: (a: Summary) => String(a.errors) },
  ];
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const table = (rows: Summary[]) => [
    row(cols.map((c) => (c.left ? c.h.padEnd(c.w) : c.h.padStart(c.w)))),
    row(cols.map((c) => (c.left ? '-'.repeat(c.w) : `${'-'.repeat(c.w - 1)}:`))),
    ...rows.map((a) => row(cols.map((c) => (c.left ? c.v(a).padEnd(c.w) : c.v(a).padStart(c.w))))),
  ].join('\n');
  const rounds = (pick: (t: Target) => Run[]) => targets.map((t) => `  ${t.name.padEnd(8)} ${pick(t).map((r) => `${f(r.wrk.rps, 0).padStart(6)}/s p99 ${f(r.wrk.p99).padStart(6)} ms`).join('   ')}`).join('\n');

  // Added latency is paired by round: each proxy against the direct target measured seconds
  // before it, so a slow patch of the machine is compared with itself, not with a quiet one.
  const added = (pick: (t: Target) => Run[], key: 'p50' | 'p99') => {
    const vsDirect = (t: Target) => median(pick(t).map((r, i) => r.wrk[key] - pick(targets[0])[i].wrk[key]));
    return { slipway: vsDirect(targets[1]), haproxy: vsDirect(targets[2]) };
  };
  const goal = (ms: number) => `(target slipway ≤ 2.00 ms: ${ms <= 2 ? 'met' : 'NOT met'})`;
  const ratio = saturated[1].rps / saturated[2].rps;
  const sat = (t: Target) => t.runs;
  const fix = (t: Target) => t.fixed;
  const [satP99, satP50, fixP99, fixP50] = [added(sat, 'p99'), added(sat, 'p50'), added(fix, 'p99'), added(fix, 'p50')];
  const cores = os.availableParallelism();
  const summary = [
    ...(busyBefore > cores / 2
      ? [`WARNING: the machine was already busy before the run (1-min loadavg ${busyBefore} on ${cores} CPUs): treat these numbers as noise, not a result.`]
      : []),
    `slipway/haproxy throughput:         ${f(ratio)}×   (target ≥ 0.50×: ${ratio >= 0.5 ? 'met' : 'NOT met'})`,
    `p99 added vs direct, fixed load:    slipway ${signed(fixP99.slipway)} ms, haproxy ${signed(fixP99.haproxy)} ms   ${goal(fixP99.slipway)}`,
    `p50 added vs direct, fixed load:    slipway ${signed(fixP50.slipway)} ms, haproxy ${signed(fixP50.haproxy)} ms`,
    `p99 added vs direct, saturated:     slipway ${signed(satP99.slipway)} ms, haproxy ${signed(satP99.haproxy)} ms   ${goal(satP99.slipway)}`,
    `p50 added vs direct, saturated:     slipway ${signed(satP50.slipway)} ms, haproxy ${signed(satP50.haproxy)} ms`,
    '(added: the median over rounds of the proxy\'s figure minus the direct target\'s in the same round)',
    `proxy CPU per request, saturated:   slipway ${f(saturated[1].proxyUs!, 1)} µs, haproxy ${f(saturated[2].proxyUs!, 1)} µs (${f(saturated[1].proxyUs! / saturated[2].proxyUs!, 1)}×)`,
  ];
  header.push(`          ${loadavg()} after`);
  const ticksAfter = cpuTicks();
  const steal = (100 * (ticksAfter.steal - ticksBefore.steal)) / Math.max(1, ticksAfter.total - ticksBefore.total);
  header.push(`steal:    ${steal.toFixed(1)}% of CPU time went to other guests of the host during the run${steal >= 2 ? ' (a contended host: expect noisy p99s)' : ''}`);
  process.stdout.write([
    header.join('\n'),
    `saturated (${cfg.connections} connections, back to back):\n${table(saturated)}\nper round:\n${rounds(sat)}`,
    `fixed load (about ${cfg.fixedRate} req/s offered to each target: ${cfg.fixedConnections} connections, random think time of mean ${thinkMs()} ms):\n${table(fixed)}\nper round:\n${rounds(fix)}`,
    summary.join('\n'),
  ].join('\n\n') + '\n');
}

const onSignal = (sig: NodeJS.Signals) => { void stopAll(500).then(() => process.exit(sig === 'SIGINT' ? 130 : 143)); };
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

main().catch(async (err) => {
  process.stderr.write(`benchmark failed: ${(err as Error).stack ?? err}\n`);
  await stopAll(500);
  process.exit(1);
});
