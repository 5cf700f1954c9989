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
/** Characters per stored output line; longer lines continue on the next. */
export const MAX_LINE = 16 * 1024;

/**
 * Runs one pipeline step as `sh -c` in its own process group, so a timeout or a cancel takes
 * the whole tree down (npm scripts love to fork). When the shell exits, whatever it left running
 * in the background is stopped too, as CI runners do: a stray dev server would otherwise outlive
 * its workspace, or hold the output pipes open until the step times out. Output arrives line by
 * line.
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
  // One way to stop the group, whatever asks first (timeout, cancel, the shell's exit): SIGTERM,
  // then SIGKILL to whatever is left after KILL_AFTER_MS.
  let killTimer: NodeJS.Timeout | undefined;
  const stopGroup = () => {
    if (killTimer) return;
    signalGroup(child.pid, 'SIGTERM');
    killTimer = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), KILL_AFTER_MS).unref();
  };
  const timer = setTimeout(() => { timedOut = true; stopGroup(); }, opts.timeoutMs);
  for (const stream of ['stdout', 'stderr'] as const) {
    // Only each new chunk is searched, and a line longer than MAX_LINE is cut: a step printing
    // megabytes without a newline must not cost quadratic time or unbounded memory.
    let partial = '';
    const emit = (line: string) => {
      const text = line.endsWith('\r') ? line.slice(0, -1) : line;
      for (let at = 0; at < text.length || at === 0; at += MAX_LINE) opts.onLine(stream, text.slice(at, at + MAX_LINE));
    };
    child[stream].setEncoding('utf8');
    child[stream].on('data', (chunk: string) => {
      let start = 0;
      for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', start)) {
        emit(partial + chunk.slice(start, nl));
        partial = '';
        start = nl + 1;
      }
      partial += chunk.slice(start);
      if (partial.length > MAX_LINE) {
        const whole = partial.length - (partial.length % MAX_LINE);
        emit(partial.slice(0, whole));
        partial = partial.slice(whole);
      }
    });
    child[stream].on('end', () => { if (partial) emit(partial); partial = ''; });
  }
  child.once('exit', () => {
    clearTimeout(timer);
    stopGroup();
  });
  const done = new Promise<StepOutcome>((resolve) => {
    child.once('error', (err) => {
      clearTimeout(timer);
      opts.onLine('stderr', `could not start the step: ${err.message}`);
      resolve({ code: 127, signal: null, timedOut, cancelled });
    });
    // After the output pipes close too: every line is in.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      // A leftover that ignored SIGTERM and let go of the pipes still gets its SIGKILL.
      if (!groupAlive(child.pid)) clearTimeout(killTimer);
      resolve({ code, signal, timedOut, cancelled });
    });
  });
  return { done, cancel: () => { cancelled = true; stopGroup(); } };
}

function groupAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try { process.kill(-pid, 0); return true; } catch { return false; }
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try { process.kill(-pid, signal); } catch { /* gone */ }
}
