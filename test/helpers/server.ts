import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { freePort } from '../../src/core/net.ts';
import { GiveUp, waitFor } from './wait.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const MAIN = path.join(ROOT, 'src/cli/main.ts');

export interface CliResult { code: number; stdout: string; stderr: string }

export interface TestServer {
  dataDir: string;
  apiUrl: string;
  routerPort: number;
  token: string;
  process: ChildProcess;
  cli(...args: string[]): Promise<CliResult>;
  /** Runs a CLI command with --json and parses it; fails the test on a non-zero exit. */
  json<T = any>(...args: string[]): Promise<T>;
  /** Kills the control plane (instances keep running) and starts it again on the same ports. */
  restart(signal?: NodeJS.Signals): Promise<void>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Runs the real `slipway` CLI entry point as a child process. */
export function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** Every process (instance or stray) that belongs to a data directory, found by its environment marker. */
export function processesOf(dataDir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(`SLIPWAY_HOME=${dataDir}`)) pids.push(Number(entry));
    } catch { /* gone */ }
  }
  return pids;
}

export function killAll(pids: number[]): void {
  for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
}

/** A real `slipway server` on free loopback ports with its own data dir; everything it started is killed by PID after the test. */
export async function startServer(t: TestContext, opts: { pollInterval?: string; args?: string[] } = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'slipway-test-'));
  let apiPort = 0;
  let routerPort = 0;
  let apiUrl = '';
  const launch = async () => {
    const args = ['server', '--data-dir', dataDir, '--api-port', String(apiPort), '--router-port', String(routerPort), '--poll-interval', opts.pollInterval ?? '300ms', ...(opts.args ?? [])];
    // The same V8 flags as `npm start` and the slipway bin give the server (see bin/slipway.js).
    const child = spawn(process.execPath, ['--max-semi-space-size=2', '--no-parallel-scavenge', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (d) => { output += d; });
    child.stderr!.on('data', (d) => { output += d; });
    await waitFor(async () => {
      if (child.exitCode !== null) throw new GiveUp(`server exited early:\n${output}`);
      return fetch(`${apiUrl}/healthz`).then((r) => r.ok, () => false);
    }, 15_000, 'the server to answer /healthz');
    return child;
  };
  // A free port can be taken between freePort() and the server's listen (tests run side by side,
  // and instances start on free ports too): then the first start tries other ports.
  let first: ChildProcess | undefined;
  for (let attempt = 1; !first; attempt++) {
    [apiPort, routerPort] = [await freePort(), await freePort()];
    apiUrl = `http://127.0.0.1:${apiPort}`;
    try {
      first = await launch();
    } catch (err) {
      if (attempt >= 3 || !/is already in use/.test((err as Error).message)) throw err;
    }
  }
  const server: TestServer = {
    dataDir, apiUrl, routerPort, token: '', process: first,
    cli: (...a) => runCli(a, { SLIPWAY_URL: apiUrl, SLIPWAY_TOKEN: server.token }),
    async json(...a) {
      const r = await server.cli(...a, '--json');
      if (r.code !== 0) throw new Error(`slipway ${a.join(' ')} exited ${r.code}: ${r.stderr}`);
      return JSON.parse(r.stdout);
    },
    async kill(signal) {
      const child = server.process;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill(signal);
      await exited;
    },
    async restart(signal = 'SIGKILL') {
      await server.kill(signal);
      server.process = await launch();
    },
  };
  server.token = readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
  t.after(async () => {
    await server.kill('SIGKILL');
    killAll(processesOf(dataDir));
    rmSync(dataDir, { recursive: true, force: true });
  });
  return server;
}
