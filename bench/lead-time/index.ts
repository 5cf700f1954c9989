// Commit → new version served in staging, and the platform's own share of it: total minus the
// time the pipeline's build/test steps spend running the team's own commands. The trigger is
// the git hook (a CI system or git server calls it on push), so the poll interval is not counted.
import { api, cleanup, machine, median, slipwayWithApp } from '../lib/slipway.ts';
import { get } from '../../test/helpers/load.ts';

const ROUNDS = Number(process.env.ROUNDS ?? 5);

try {
  console.log(`bench/lead-time · ${machine()} · ${ROUNDS} commits · staging: 2 instances, rolling max_surge 1`);
  const { server, repo } = await slipwayWithApp(undefined, '1h');
  const serving = async (version: string) => {
    for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
      const res = await get(server.routerPort, 'hello.staging.localhost');
      const env = (await api(server, '/apps/hello/status')).environments[0];
      if (res.release === version && env.deployment?.state === 'committed' && env.deployment.to === version) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`staging never served ${version}`);
  };
  await serving('v1');
  console.log(`${'commit'.padEnd(8)} ${'total s'.padStart(8)} ${'steps s'.padStart(8)} ${'overhead s'.padStart(11)} ${'first served s'.padStart(15)}`);
  const overheads: number[] = [];
  const totals: number[] = [];
  for (let n = 0; n < ROUNDS; n++) {
    const version = `v${n + 2}`;
    repo.commit({ 'message.txt': `round ${n}\n` }, `round ${n}`);
    const start = Date.now();
    await api(server, '/apps/hello/hooks/git', 'POST');
    let firstServed = 0;
    while (!firstServed) {
      if ((await get(server.routerPort, 'hello.staging.localhost')).release === version) firstServed = Date.now() - start;
      else await new Promise((r) => setTimeout(r, 10));
    }
    await serving(version);
    const total = Date.now() - start;
    const run = await api(server, `/runs/hello-${n + 2}`);
    const steps = run.steps.filter((s: any) => s.phase === 'build' || s.phase === 'test').reduce((a: number, s: any) => a + s.durationMs, 0);
    overheads.push(total - steps);
    totals.push(total);
    console.log(`${version.padEnd(8)} ${(total / 1000).toFixed(2).padStart(8)} ${(steps / 1000).toFixed(2).padStart(8)} ${((total - steps) / 1000).toFixed(2).padStart(11)} ${(firstServed / 1000).toFixed(2).padStart(15)}`);
  }
  console.log(`median: total ${(median(totals) / 1000).toFixed(2)} s, platform overhead ${(median(overheads) / 1000).toFixed(2)} s (goal ≤ 2 s)`);
  const pid = server.process.pid!;
  await new Promise((r) => setTimeout(r, 5000));
  const rss = /VmRSS:\s+(\d+) kB/.exec((await import('node:fs')).readFileSync(`/proc/${pid}/status`, 'utf8'))![1];
  console.log(`control plane RSS after 5 s idle with one app (2 environments) deployed: ${(Number(rss) / 1024).toFixed(0)} MB (goal ≤ 150 MB)`);
} finally {
  await cleanup();
}
