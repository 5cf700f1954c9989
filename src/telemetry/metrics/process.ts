// CPU and memory of one process, from /proc (Linux). The parsing is pure; sampleProcess is the
// thin I/O around it. Names and meaning match the Prometheus client libraries, so an app that
// exports its own process_* metrics and one sampled from outside look the same.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Labels, Sample } from './types.ts';

/** utime + stime (fields 14 and 15 of /proc/<pid>/stat) in seconds; children are not included. */
export function parseProcStat(text: string, clockTicks: number): number {
  // The command name (field 2) is in parentheses and may itself contain spaces and ')'.
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error('unexpected /proc/<pid>/stat format: no ")"');
  const fields = text.slice(close + 2).trim().split(/\s+/); // fields[0] is field 3 (state)
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('unexpected /proc/<pid>/stat format: utime/stime');
  return (utime + stime) / clockTicks;
}

/** VmRSS from /proc/<pid>/status in bytes; undefined for a zombie (which has no memory). */
export function parseProcStatusRss(text: string): number | undefined {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(text);
  return m ? Number(m[1]) * 1024 : undefined;
}

let ticks: number | undefined;

/** USER_HZ from `getconf CLK_TCK`, once; 100 (the value on every common Linux) if that fails. */
export function clockTicks(): number {
  if (ticks === undefined) {
    try {
      const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2_000 }).trim());
      ticks = Number.isInteger(n) && n > 0 ? n : 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/**
 * process_cpu_seconds_total and process_resident_memory_bytes of `pid`, with `labels`, at `now`.
 * An empty list when the process is gone (it exited between listing and sampling).
 */
export function sampleProcess(pid: number, labels: Labels, now: number): Sample[] {
  let stat: string;
  let status: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH') return [];
    throw err;
  }
  const samples: Sample[] = [{ name: 'process_cpu_seconds_total', labels: { ...labels }, value: parseProcStat(stat, clockTicks()), ts: now }];
  const rss = parseProcStatusRss(status);
  if (rss !== undefined) samples.push({ name: 'process_resident_memory_bytes', labels: { ...labels }, value: rss, ts: now });
  return samples;
}
