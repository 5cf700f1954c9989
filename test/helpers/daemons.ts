// Real Debian daemons for tests (Alertmanager, Prometheus): free loopback ports, temp dirs,
// stopped by PID when the test ends. A missing binary fails with the package to install.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { freePort } from '../../src/core/net.ts';
import { GiveUp, waitFor } from './wait.ts';

function findBinary(binary: string, pkg: string): string {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs) {
    const candidate = path.join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch { /* try the next one */ }
  }
  assert.fail(`${binary} not found on PATH: install the Debian package "${pkg}" (apt-get install ${pkg})`);
}

export interface Daemon {
  url: string;
  get(pathAndQuery: string): Promise<any>;
}

/** Starts `binary` with `args(port, dir)`, waits for `readyPath`, stops it by PID after the test. */
async function daemon(t: TestContext, binary: string, pkg: string, args: (port: number, dir: string) => string[], readyPath: string, setup: (dir: string) => void = () => {}): Promise<Daemon> {
  const exe = findBinary(binary, pkg);
  const dir = mkdtempSync(path.join(os.tmpdir(), `slipway-${binary}-`));
  setup(dir);
  const port = await freePort();
  const logFile = path.join(dir, 'daemon.log');
  const log = openSync(logFile, 'w');
  const child = spawn(exe, args(port, dir), { stdio: ['ignore', log, log] });
  closeSync(log);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve(); }));
  t.after(async () => {
    if (!exited && child.pid !== undefined) {
      process.kill(child.pid, 'SIGTERM');
      const timer = setTimeout(() => { if (!exited && child.pid !== undefined) process.kill(child.pid, 'SIGKILL'); }, 5000);
      await exit;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    if (exited) throw new GiveUp(`${binary} exited early: ${readFileSync(logFile, 'utf8').slice(-500)}`);
    return (await fetch(`${url}${readyPath}`)).ok;
  }, 20_000, `${binary} to be ready`);
  return {
    url,
    async get(pathAndQuery) {
      const res = await fetch(`${url}${pathAndQuery}`);
      assert.equal(res.status, 200);
      return res.json();
    },
  };
}

export function startAlertmanager(t: TestContext): Promise<Daemon> {
  return daemon(t, 'prometheus-alertmanager', 'prometheus-alertmanager', (port, dir) => [
    `--config.file=${path.join(dir, 'alertmanager.yml')}`,
    `--storage.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--cluster.listen-address=', // no gossip: no second port, nothing beyond loopback
  ], '/-/ready', (dir) => {
    // Alerts only need to be stored and listed; the receiver sends nowhere.
    writeFileSync(path.join(dir, 'alertmanager.yml'), 'route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n');
  });
}

/** Prometheus scraping `target` (host:port) every second, with a bearer token from a file. */
export function startPrometheus(t: TestContext, target: string, token: string): Promise<Daemon> {
  return daemon(t, 'prometheus', 'prometheus', (port, dir) => [
    `--config.file=${path.join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ], '/-/ready', (dir) => {
    writeFileSync(path.join(dir, 'token'), token);
    writeFileSync(path.join(dir, 'prometheus.yml'), [
      'global: {scrape_interval: 1s, scrape_timeout: 1s}',
      'scrape_configs:',
      '  - job_name: slipway',
      `    authorization: {credentials_file: ${path.join(dir, 'token')}}`,
      `    static_configs: [{targets: ["${target}"]}]`,
      '',
    ].join('\n'));
  });
}
