import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { cpuTimeMs, spawnReady, stopAll } from '../lib/proc.ts';
import { runWrk } from '../lib/wrk.ts';

// Paired A/B of two router.ts files, for judging a hot-path change on a noisy machine.
//
//   node_modules/.bin/node bench/router/ab.ts <baseline router.ts> <candidate router.ts>[@<node flags>] …
//
// Each round starts one router per file, pins BOTH to CPU 0 (backends and the two wrk clients
// stay on CPU 1), and loads them at the same time. Sharing one core, each router's throughput and
// CPU time per request move with the machine's speed together, so their ratio stays put even when
// absolute numbers swing 2× from one minute to the next (as they do on a shared VM). Reported:
// candidate/baseline throughput and CPU-per-request ratios, medians over ROUNDS (default 5), each
// round DURATION (default 4s) after a 2s warm-up. The absolute figures are for one half of a core
// and only meaningful relative to each other. A router copy needs its sibling modules (traffic.ts)
// next to it. Linux only (taskset, /proc).

const HERE = path.dirname(new URL(import.meta.url).pathname);
const ROOT = path.resolve(HERE, '../..');
const NODE = process.execPath;
const rounds = Number(process.env.ROUNDS ?? 5);
const duration = process.env.DURATION ?? '4s';
const connections = Number(process.env.CONNECTIONS ?? 32);

const [baseline, ...candidates] = process.argv.slice(2);
if (!baseline || candidates.length === 0) {
  console.error('usage: bench/router/ab.ts <baseline router.ts> <candidate router.ts>[@<node flags>] …');
  process.exit(2);
}

const pin = (cpus: string, pid: number) => execFileSync('taskset', ['-a', '-cp', cpus, String(pid)], { stdio: 'ignore' });
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const label = (v: string) => { const [file, flags] = v.split('@'); return `${path.relative(process.cwd(), file) || file}${flags ? ` (${flags})` : ''}`; };

async function main(): Promise<void> {
  pin('1', process.pid); // children (backends, wrk) inherit CPU 1
  const backendScript = path.join(ROOT, 'bench/lib/backend.ts');
  const [b1, b2] = await Promise.all([spawnReady('backend-1', NODE, [backendScript]), spawnReady('backend-2', NODE, [backendScript])]);
  const startRouter = async (v: string) => {
    const [file, flags = ''] = v.split('@');
    const r = await spawnReady('router', NODE, [...flags.split(/\s+/).filter(Boolean), path.join(HERE, 'router-process.ts'), 'bench', 'prod', `${b1.port},${b2.port}`], {
      env: { ...process.env, SLIPWAY_ROUTER_MODULE: path.resolve(file) },
    });
    pin('0', r.child.pid!);
    return r;
  };
  const load = (port: number, d: string) => runWrk({ url: `http://127.0.0.1:${port}/`, threads: 1, connections, duration: d, headers: ['Host: bench.prod.localhost'] });

  console.log(`baseline: ${label(baseline)}; ${rounds} rounds of ${duration}, ${connections} connections per router, both routers pinned to CPU 0`);
  for (const cand of candidates) {
    const rps: number[] = []; const cpu: number[] = []; const abs: [number[], number[]] = [[], []];
    for (let r = 1; r <= rounds; r++) {
      const routers = [await startRouter(baseline), await startRouter(cand)];
      await Promise.all(routers.map((x) => load(x.port, '2s')));
      const c0 = routers.map((x) => cpuTimeMs(x.child.pid!));
      const w = await Promise.all(routers.map((x) => load(x.port, duration)));
      const us = routers.map((x, i) => ((cpuTimeMs(x.child.pid!) - c0[i]) * 1000) / Math.max(1, w[i].requests));
      for (const x of w) if (x.non2xx || x.socketErrors) console.log(`  round ${r}: ${x.non2xx} non-2xx, ${x.socketErrors} socket errors`);
      rps.push(w[1].rps / w[0].rps); cpu.push(us[1] / us[0]); abs[0].push(us[0]); abs[1].push(us[1]);
      console.log(`  round ${r}: baseline ${w[0].rps.toFixed(0)}/s ${us[0].toFixed(1)} µs/req, candidate ${w[1].rps.toFixed(0)}/s ${us[1].toFixed(1)} µs/req`);
      for (const x of routers) { x.child.kill('SIGTERM'); await new Promise((res) => x.child.once('exit', res)); }
    }
    const range = (xs: number[]) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;
    console.log(`${label(cand)}: throughput ×${median(rps).toFixed(3)} (rounds ${range(rps)}), CPU per request ×${median(cpu).toFixed(3)} (rounds ${range(cpu)}); median µs/req ${median(abs[0]).toFixed(1)} → ${median(abs[1]).toFixed(1)}`);
  }
}

const onSignal = (sig: NodeJS.Signals) => { void stopAll(500).then(() => process.exit(sig === 'SIGINT' ? 130 : 143)); };
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);
main().then(() => stopAll(), async (err) => { console.error(`ab failed: ${(err as Error).stack ?? err}`); await stopAll(500); process.exit(1); });
