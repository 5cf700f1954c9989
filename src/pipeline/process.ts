import { spawn } from 'node:child_process';

export interface StepOutcome {
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  cancelled: boolean;
}

export interface StepProcess {
  done: Promise<StepOutcome>;
  cancel(): void;
}

const KILL_AFTER_MS = 5_000;

/**
 * Runs one pipeline step as `sh -c` in its own process group, so a timeout or a cancel takes
 * the whole tree down (npm scripts love to fork). Output arrives line by line.
 */
export function runStep(command: string, opts: {
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  onLine: (stream: 'stdout' | 'stderr', line: string) => void;
}): StepProcess {
  const child = spawn('/bin/sh', ['-c', command], { cwd: opts.cwd, env: opts.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let timedOut = false;
  let cancelled = false;
  const kill = () => {
    signalGroup(child.pid, 'SIGTERM');
    setTimeout(() => signalGroup(child.pid, 'SIGKILL'), KILL_AFTER_MS).unref();
  };
  const timer = setTimeout(() => { timedOut = true; kill(); }, opts.timeoutMs);
  for (const stream of ['stdout', 'stderr'] as const) {
    let partial = '';
    child[stream].setEncoding('utf8');
    child[stream].on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) opts.onLine(stream, line.replace(/\r$/, ''));
    });
    child[stream].on('end', () => { if (partial) opts.onLine(stream, partial); partial = ''; });
  }
  const done = new Promise<StepOutcome>((resolve) => {
    child.once('error', (err) => {
      clearTimeout(timer);
      opts.onLine('stderr', `could not start the step: ${err.message}`);
      resolve({ code: 127, signal: null, timedOut, cancelled });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, cancelled });
    });
  });
  return { done, cancel: () => { cancelled = true; kill(); } };
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try { process.kill(-pid, signal); } catch { /* gone */ }
}
