#!/usr/bin/env node
// The `slipway` command. Slipway is TypeScript run by Node's type stripping (Node >= 22.18 / 23.6);
// on an older `node` this runs it with the Node 24 the package pins. The long-running server gets
// a small V8 young generation, which keeps its resident memory down, and scavenges it on the main
// thread alone: on a machine with few cores, waiting for helper threads the other processes have
// preempted made the router's pauses several times longer (see README, Benchmarks).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SERVER_FLAGS = ['--max-semi-space-size=2', '--no-parallel-scavenge'];
const [major, minor] = process.versions.node.split('.').map(Number);
const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const args = process.argv.slice(2);
const modern = major > 23 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18);
const server = args[0] === 'server' || args[0] === 'quickstart';

if (modern && !server) {
  const { run } = await import(main);
  await run(args);
} else {
  const pinned = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  const node = modern ? process.execPath : pinned;
  if (!existsSync(node)) {
    console.error(`error: slipway needs Node >= 22.18 (this is ${process.version})`);
    console.error('hint: run `npm ci` in the slipway package, or put Node 24 on PATH');
    process.exit(2);
  }
  const child = spawn(node, [...(server ? SERVER_FLAGS : []), main, ...args], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
