import os from 'node:os';
import { execFileSync } from 'node:child_process';
import type { TestContext } from 'node:test';
import { exampleRepo, type TestRepo } from '../../test/helpers/repo.ts';
import { startServer, type TestServer } from '../../test/helpers/server.ts';
import { waitFor } from '../../test/helpers/wait.ts';

// Benchmarks reuse the end-to-end test harness: a real server on free loopback ports, a real
// git repository, everything killed by PID at the end.

const cleanups: (() => unknown)[] = [];
const context = { after: (fn: () => unknown) => { cleanups.push(fn); } } as unknown as TestContext;

export async function cleanup(): Promise<void> {
  for (const fn of cleanups.reverse()) await fn();
}

export async function slipwayWithApp(edit: (spec: string) => string = (s) => s, pollInterval = '1s'): Promise<{ server: TestServer; repo: TestRepo }> {
  const server = await startServer(context, { pollInterval });
  const repo = exampleRepo(context, 'hello');
  const { readFileSync } = await import('node:fs');
  repo.commit({ 'slipway.yaml': edit(readFileSync(`${repo.path}/slipway.yaml`, 'utf8')) }, 'bench settings');
  const created = await server.cli('app', 'create', repo.path);
  if (created.code !== 0) throw new Error(created.stderr);
  return { server, repo };
}

/** Reads the API directly (not the CLI), so polling costs the machine as little as possible. */
export async function api(server: TestServer, path: string, method = 'GET'): Promise<any> {
  const res = await fetch(`${server.apiUrl}/api/v1${path}`, { method, headers: { authorization: `Bearer ${server.token}` } });
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

export async function waitStaging(server: TestServer, version: string, instances: number, intervalMs = 50): Promise<any> {
  return waitFor(async () => {
    await new Promise((r) => setTimeout(r, intervalMs));
    const env = (await api(server, '/apps/hello/status')).environments.find((e: any) => e.name === 'staging');
    const ok = env?.release?.version === version && env.deployment?.state === 'committed'
      && env.instances.length === instances && env.instances.every((i: any) => i.release === version && i.healthy);
    return ok ? env : undefined;
  }, 60_000, `staging on ${version}`);
}

export function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${new Date().toISOString()} · ${os.cpus().length} cores ${cpu} · ${Math.round(os.totalmem() / 2 ** 30)} GiB · Node ${process.version} · git ${execFileSync('git', ['--version'], { encoding: 'utf8' }).trim().replace('git version ', '')}`;
}

export const pct = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);
export const median = (values: number[]) => pct([...values].sort((a, b) => a - b), 50);
