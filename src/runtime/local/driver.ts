import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import path from 'node:path';
import type { Clock } from '../../core/clock.ts';
import type { InstanceProcess, InstanceSpec, RuntimeDriver } from '../driver.ts';
import { findProcesses, isRunning, environOf, processGroup } from './proc.ts';

const OWNER_VAR = 'SLIPWAY_HOME';
const INSTANCE_VAR = 'SLIPWAY_INSTANCE';

/**
 * Runs instances as local processes. Each one gets its own session (so it outlives the control
 * plane and can be signalled as a group) and writes straight to a log file (so no pipe ties it to
 * the server: a SIGKILLed control plane leaves its instances serving).
 */
export class LocalDriver implements RuntimeDriver {
  private readonly dataDir: string;
  private readonly clock: Clock;
  private readonly basePath: string;
  private readonly exitListeners: ((id: string, code: number | null, signal: string | null) => void)[] = [];

  constructor(opts: { dataDir: string; clock: Clock; path?: string }) {
    this.dataDir = opts.dataDir;
    this.clock = opts.clock;
    this.basePath = opts.path ?? process.env.PATH ?? '/usr/bin:/bin';
  }

  /** Where an instance's stdout or stderr goes: plain files, so nothing ties the process to the server. */
  logFile(id: string, stream: 'stdout' | 'stderr'): string {
    return path.join(this.dataDir, 'instances', id, `${stream}.log`);
  }

  async start(spec: InstanceSpec): Promise<InstanceProcess> {
    mkdirSync(path.dirname(this.logFile(spec.id, 'stdout')), { recursive: true });
    const out = openSync(this.logFile(spec.id, 'stdout'), 'a');
    const err = openSync(this.logFile(spec.id, 'stderr'), 'a');
    try {
      // A simple command replaces the shell (exec), so the instance is one process with one PID.
      const command = /[;&|()\n]/.test(spec.command) ? spec.command : `exec ${spec.command}`;
      const child = spawn('/bin/sh', ['-c', command], {
        cwd: spec.workdir,
        detached: true,
        stdio: ['ignore', out, err],
        env: {
          PATH: this.basePath,
          HOME: process.env.HOME ?? '/',
          ...spec.vars,
          PORT: String(spec.port),
          SLIPWAY_APP: spec.app,
          SLIPWAY_ENV: spec.env,
          SLIPWAY_RELEASE: spec.version,
          [INSTANCE_VAR]: spec.id,
          [OWNER_VAR]: this.dataDir,
        },
      });
      const pid = await new Promise<number>((resolve, reject) => {
        child.once('spawn', () => resolve(child.pid!));
        child.once('error', reject);
      });
      child.once('exit', (code, signal) => { for (const l of this.exitListeners) l(spec.id, code, signal); });
      child.unref();
      return { id: spec.id, pid };
    } finally {
      closeSync(out);
      closeSync(err);
    }
  }

  isAlive(proc: InstanceProcess): boolean {
    if (!isRunning(proc.pid)) return false;
    return environOf(proc.pid)?.get(INSTANCE_VAR) === proc.id;
  }

  async stop(proc: InstanceProcess, graceMs: number): Promise<void> {
    if (!this.isAlive(proc)) return;
    signalGroup(proc.pid, 'SIGTERM');
    const deadline = this.clock.now() + graceMs;
    while (this.clock.now() < deadline) {
      if (!this.isAlive(proc)) return;
      await this.clock.sleep(50);
    }
    signalGroup(proc.pid, 'SIGKILL');
    while (this.isAlive(proc)) await this.clock.sleep(20);
  }

  discover(): Map<string, number> {
    const leaders = new Map<string, number>();
    for (const { pid, env } of findProcesses(OWNER_VAR, this.dataDir)) {
      const id = env.get(INSTANCE_VAR);
      // The group leader is the process we spawned; its children share the marker.
      if (id && processGroup(pid) === pid) leaders.set(id, pid);
    }
    return leaders;
  }

  /** Kills every process of this data directory whose instance id is not in `keep`. */
  killStrays(keep: Set<string>): string[] {
    const killed: string[] = [];
    for (const { pid, env } of findProcesses(OWNER_VAR, this.dataDir)) {
      const id = env.get(INSTANCE_VAR);
      if (id && keep.has(id)) continue;
      signalGroup(processGroup(pid) ?? pid, 'SIGKILL');
      killed.push(`${id ?? '?'}:${pid}`);
    }
    return killed;
  }

  onExit(listener: (id: string, code: number | null, signal: string | null) => void): void {
    this.exitListeners.push(listener);
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try { process.kill(pid, signal); } catch { /* already gone */ }
  }
}
