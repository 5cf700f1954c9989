import { spawn } from 'node:child_process';
import { track } from './proc.ts';

export interface WrkResult {
  rps: number;
  p50: number; // ms
  p75: number;
  p90: number;
  p99: number;
  requests: number;
  non2xx: number;
  socketErrors: number;
  raw: string;
}

export interface WrkOptions {
  url: string;
  threads: number;
  connections: number;
  duration: string; // e.g. "10s"
  headers?: string[];
  /** A wrk Lua script (`-s`), and environment variables it reads. */
  script?: string;
  env?: Record<string, string>;
}

export function wrkArgs(o: WrkOptions): string[] {
  const args = [`-t${o.threads}`, `-c${o.connections}`, `-d${o.duration}`, '--latency'];
  for (const h of o.headers ?? []) args.push('-H', h);
  if (o.script) args.push('-s', o.script);
  args.push(o.url);
  return args;
}

export function runWrk(o: WrkOptions): Promise<WrkResult> {
  const child = track('wrk', spawn('wrk', wrkArgs(o), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...o.env } }));
  let out = '';
  child.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => { out += c.toString(); });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`wrk exited ${code}:\n${out}`));
      try { resolve(parseWrk(out)); } catch (err) { reject(err); }
    });
  });
}

function toMs(value: string, unit: string): number {
  const v = Number(value);
  switch (unit) {
    case 'us': return v / 1000;
    case 'ms': return v;
    case 's': return v * 1000;
    case 'm': return v * 60_000;
    default: throw new Error(`unknown wrk unit ${unit}`);
  }
}

export function parseWrk(raw: string): WrkResult {
  const pct = (p: number) => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(raw);
    if (!m) throw new Error(`wrk output has no ${p}% line:\n${raw}`);
    return toMs(m[1], m[2]);
  };
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(raw);
  const reqs = /(\d+) requests in/.exec(raw);
  if (!rps || !reqs) throw new Error(`cannot parse wrk output:\n${raw}`);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(raw);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(raw);
  return {
    rps: Number(rps[1]),
    p50: pct(50), p75: pct(75), p90: pct(90), p99: pct(99),
    requests: Number(reqs[1]),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    raw,
  };
}
