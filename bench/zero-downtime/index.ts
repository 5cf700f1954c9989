// Sustained load through the router while staging rolls (3 instances) from one release to the
// next, then rolls back. Prints requests, failures and latency per phase. Goal: 0 failed requests.
import http from 'node:http';
import { cleanup, machine, pct, slipwayWithApp, waitStaging } from '../lib/slipway.ts';

const WORKERS = Number(process.env.WORKERS ?? 16);
const HOST = 'hello.staging.localhost';

function loadGenerator(port: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: WORKERS });
  const latencies: number[] = [];
  const failures = new Map<string, number>();
  let running = true;
  const one = () => new Promise<void>((resolve) => {
    const start = process.hrtime.bigint();
    const req = http.get({ host: '127.0.0.1', port, path: '/', headers: { host: HOST }, agent }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode === 200) latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
        else failures.set(`HTTP ${res.statusCode}`, (failures.get(`HTTP ${res.statusCode}`) ?? 0) + 1);
        resolve();
      });
    });
    req.on('error', (err) => { failures.set(err.message, (failures.get(err.message) ?? 0) + 1); resolve(); });
  });
  const loops = Array.from({ length: WORKERS }, async () => { while (running) await one(); });
  return async () => {
    running = false;
    await Promise.all(loops);
    agent.destroy();
    const sorted = latencies.sort((a, b) => a - b);
    const failed = [...failures.values()].reduce((a, b) => a + b, 0);
    return { requests: sorted.length + failed, failed, failures, p50: pct(sorted, 50), p99: pct(sorted, 99) };
  };
}

async function phase(name: string, port: number, action: () => Promise<void>) {
  const stop = loadGenerator(port);
  const started = Date.now();
  await action();
  const r = await stop();
  const seconds = (Date.now() - started) / 1000;
  console.log(`${name.padEnd(22)} ${String(r.requests).padStart(8)} ${String(r.failed).padStart(7)} ${(r.requests / seconds).toFixed(0).padStart(8)} ${r.p50.toFixed(2).padStart(8)} ${r.p99.toFixed(2).padStart(8)} ${seconds.toFixed(1).padStart(7)}`);
  if (r.failed) console.log(`  failures: ${JSON.stringify(Object.fromEntries(r.failures))}`);
  return r.failed;
}

try {
  console.log(`bench/zero-downtime · ${machine()} · ${WORKERS} keep-alive clients`);
  const { server, repo } = await slipwayWithApp((s) => s.replace('  instances: 2', '  instances: 3'));
  await waitStaging(server, 'v1', 3);
  console.log(`${'phase'.padEnd(22)} ${'requests'.padStart(8)} ${'failed'.padStart(7)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'secs'.padStart(7)}`);
  let failed = 0;
  failed += await phase('steady (3 s)', server.routerPort, () => new Promise((r) => setTimeout(r, 3000)));
  failed += await phase('rolling v1 → v2', server.routerPort, async () => {
    repo.commit({ 'message.txt': 'second\n' }, 'v2');
    await waitStaging(server, 'v2', 3);
  });
  failed += await phase('rollback v2 → v1', server.routerPort, async () => {
    const r = await server.cli('rollback', 'hello', 'staging');
    if (r.code !== 0) throw new Error(r.stderr);
    await waitStaging(server, 'v1', 3);
  });
  console.log(failed === 0 ? 'result: 0 failed requests' : `result: ${failed} FAILED requests`);
  process.exitCode = failed === 0 ? 0 : 1;
} finally {
  await cleanup();
}
