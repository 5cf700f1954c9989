import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import net from 'node:net';

// Process bookkeeping for benchmarks: every child is tracked by PID, and stopAll() ends exactly
// those PIDs. If BENCH_PIDFILE is set, each PID is also appended there so a shell `trap` can
// clean up even if this process dies abruptly.

const children = new Map<number, { name: string; child: ChildProcess }>();

export function track(name: string, child: ChildProcess): ChildProcess {
  if (child.pid === undefined) throw new Error(`${name}: failed to start`);
  children.set(child.pid, { name, child });
  if (process.env.BENCH_PIDFILE) appendFileSync(process.env.BENCH_PIDFILE, `${child.pid}\n`);
  child.once('exit', () => children.delete(child.pid!));
  return child;
}

/** Spawns a child that prints `READY <port>` on stdout; resolves with that port. */
export function spawnReady(name: string, cmd: string, args: string[], opts: SpawnOptions = {}, timeoutMs = 10_000): Promise<{ child: ChildProcess; port: number }> {
  const child = track(name, spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], ...opts }));
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => fail(new Error(`${name}: not ready after ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error) => { clearTimeout(timer); reject(err); };
    child.once('exit', (code, signal) => fail(new Error(`${name}: exited early (code ${code}, signal ${signal})`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      const m = /^READY (\d+)$/m.exec(buf);
      if (m) {
        clearTimeout(timer);
        child.stdout!.resume();
        resolve({ child, port: Number(m[1]) });
      }
    });
  });
}

/** Stops every tracked child by PID: SIGTERM, then SIGKILL after graceMs. */
export async function stopAll(graceMs = 2_000): Promise<void> {
  const alive = [...children.entries()];
  await Promise.all(alive.map(([pid, { child }]) => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }, graceMs);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    try { process.kill(pid, 'SIGTERM'); } catch { clearTimeout(timer); resolve(); }
  })));
}

export { freePort } from '../../src/core/net.ts';

export async function waitForPort(port: number, host = '127.0.0.1', timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ port, host });
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => { s.destroy(); resolve(false); });
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const CLK_TCK = 100; // USER_HZ: 100 on every Linux architecture Node supports

/** CPU time (user + system) the process has used so far, in ms; from /proc/<pid>/stat (Linux only). */
export function cpuTimeMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}
