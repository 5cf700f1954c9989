import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { freePort, spawnReady, stopAll, track, waitForPort } from '../lib/proc.ts';
import { runWrk, wrkArgs, type WrkResult } from '../lib/wrk.ts';
import { spawn } from 'node:child_process';

// Router benchmark: wrk → backend (direct), wrk → Slipway Router → 2 backends, wrk → HAProxy → the
// same 2 backends. Run through bench/router/run.sh. Knobs (env): DURATION=10s WARMUP=2s
// CONNECTIONS=32 THREADS=1 HAPROXY_THREADS=1 SLIPWAY_ROUTER_MODULE=<router.ts copy>.

const HERE = path.dirname(new URL(import.meta.url).pathname);
const ROOT = path.resolve(HERE, '../..');
const NODE = process.execPath;
const HOST_HEADER = 'bench.prod.localhost';

const cfg = {
  duration: process.env.DURATION ?? '10s',
  warmup: process.env.WARMUP ?? '2s',
  connections: Number(process.env.CONNECTIONS ?? 32),
  threads: Number(process.env.THREADS ?? 1),
  haproxyThreads: Number(process.env.HAPROXY_THREADS ?? 1),
  routerModule: process.env.SLIPWAY_ROUTER_MODULE ?? path.join(ROOT, 'src/router/router.ts'),
};

const sh = (cmd: string, args: string[]) => {
  try { return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim(); } catch (err) { return `(unavailable: ${(err as Error).message.split('\n')[0]})`; }
};
const cpuModel = () => /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? 'unknown';

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
    // Same per-request work as the router: forwarding headers in, a release header out.
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

interface Row { name: string; path: string; result: WrkResult; }

async function measure(name: string, desc: string, port: number): Promise<Row> {
  const opts = { url: `http://127.0.0.1:${port}/`, threads: cfg.threads, connections: cfg.connections, headers: [`Host: ${HOST_HEADER}`] };
  if (cfg.warmup !== '0' && cfg.warmup !== '0s') await runWrk({ ...opts, duration: cfg.warmup });
  const result = await runWrk({ ...opts, duration: cfg.duration });
  process.stderr.write(`  ${name}: ${result.rps.toFixed(0)} req/s\n`);
  return { name, path: desc, result };
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'slipway-bench-'));
  const rows: Row[] = [];
  const backendScript = path.join(ROOT, 'bench/lib/backend.ts');
  const sample = wrkArgs({ url: 'http://127.0.0.1:<port>/', threads: cfg.threads, connections: cfg.connections, duration: cfg.duration, headers: [`Host: ${HOST_HEADER}`] })
    .map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ');

  const header = [
    `command:   ${process.env.BENCH_COMMAND ?? 'bench/router/run.sh'}`,
    `settings:  DURATION=${cfg.duration} WARMUP=${cfg.warmup} CONNECTIONS=${cfg.connections} THREADS=${cfg.threads} HAPROXY_THREADS=${cfg.haproxyThreads}`,
    `router:    ${path.relative(ROOT, cfg.routerModule).startsWith('..') ? cfg.routerModule : path.relative(ROOT, cfg.routerModule)}`,
    `wrk:       wrk ${sample}   (after a ${cfg.warmup} warm-up run of the same)`,
    `date:      ${sh('date', ['-u'])}`,
    `nproc:     ${sh('nproc', [])}`,
    `cpu:       ${cpuModel()}`,
    `kernel:    ${os.release()}`,
    `node:      ${process.version}`,
    `haproxy:   ${sh('haproxy', ['-v']).split('\n')[0]}`,
    `wrk ver:   ${sh('sh', ['-c', 'wrk -v 2>&1 | head -1'])}`,
  ];

  try {
    process.stderr.write('starting backends…\n');
    const [b1, b2] = await Promise.all([
      spawnReady('backend-1', NODE, [backendScript]),
      spawnReady('backend-2', NODE, [backendScript]),
    ]);
    const ports = [b1.port, b2.port];

    // 1. direct
    await probe(b1.port, 1, false);
    rows.push(await measure('direct', 'wrk → 1 node backend', b1.port));

    // 2. slipway
    const router = await spawnReady('router', NODE, [path.join(HERE, 'router-process.ts'), 'bench', 'prod', ports.join(',')], {
      env: { ...process.env, SLIPWAY_ROUTER_MODULE: cfg.routerModule },
    });
    const viaRouter = await probe(router.port, 4, true);
    if (viaRouter.size !== 2) throw new Error(`router did not spread load over both backends: ${[...viaRouter]}`);
    rows.push(await measure('slipway', 'wrk → Router → 2 backends', router.port));
    router.child.kill('SIGTERM');

    // 3. haproxy
    const hport = await freePort();
    const cfgPath = path.join(tmp, 'haproxy.cfg');
    writeFileSync(cfgPath, haproxyConfig(hport, ports));
    const hap = track('haproxy', spawn('haproxy', ['-db', '-f', cfgPath], { stdio: ['ignore', 'inherit', 'inherit'] }));
    const exited = new Promise<never>((_, reject) => hap.once('exit', (code) => reject(new Error(`haproxy exited (code ${code})`))));
    await Promise.race([waitForPort(hport), exited]);
    const viaHaproxy = await probe(hport, 4, true);
    if (viaHaproxy.size !== 2) throw new Error(`haproxy did not spread load over both backends: ${[...viaHaproxy]}`);
    rows.push(await measure('haproxy', 'wrk → HAProxy → 2 backends', hport));
    hap.kill('SIGTERM');
  } finally {
    await stopAll();
    rmSync(tmp, { recursive: true, force: true });
  }

  const [direct, slipway, haproxy] = rows.map((r) => r.result);
  const f = (n: number, d = 2) => n.toFixed(d);
  const pad = (s: string, n: number) => s.padEnd(n);
  const lpad = (s: string, n: number) => s.padStart(n);
  const lines = [
    `| ${pad('target', 8)} | ${pad('path', 28)} | ${lpad('req/s', 9)} | ${lpad('p50 ms', 7)} | ${lpad('p99 ms', 7)} | ${lpad('errors', 6)} |`,
    `| ${'-'.repeat(8)} | ${'-'.repeat(28)} | ${'-'.repeat(8)}: | ${'-'.repeat(6)}: | ${'-'.repeat(6)}: | ${'-'.repeat(5)}: |`,
    ...rows.map(({ name, path: p, result: r }) =>
      `| ${pad(name, 8)} | ${pad(p, 28)} | ${lpad(f(r.rps, 0), 9)} | ${lpad(f(r.p50), 7)} | ${lpad(f(r.p99), 7)} | ${lpad(String(r.non2xx + r.socketErrors), 6)} |`),
  ];
  const ratio = slipway.rps / haproxy.rps;
  const addedS = slipway.p99 - direct.p99;
  const addedH = haproxy.p99 - direct.p99;
  const summary = [
    `slipway/haproxy throughput: ${f(ratio)}×   (target ≥ 0.50×: ${ratio >= 0.5 ? 'met' : 'NOT met'})`,
    `p99 added vs direct:        slipway +${f(addedS)} ms, haproxy +${f(addedH)} ms   (target slipway ≤ 2.00 ms: ${addedS <= 2 ? 'met' : 'NOT met'})`,
    `p50 added vs direct:        slipway +${f(slipway.p50 - direct.p50)} ms, haproxy +${f(haproxy.p50 - direct.p50)} ms`,
  ];
  process.stdout.write(`${header.join('\n')}\n\n${lines.join('\n')}\n\n${summary.join('\n')}\n`);
}

const onSignal = (sig: NodeJS.Signals) => { void stopAll(500).then(() => process.exit(sig === 'SIGINT' ? 130 : 143)); };
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

main().catch(async (err) => {
  process.stderr.write(`benchmark failed: ${(err as Error).stack ?? err}\n`);
  await stopAll(500);
  process.exit(1);
});
