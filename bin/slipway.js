#!/usr/bin/env node
// The `slipway` command. Slipway is TypeScript run by Node's type stripping (Node >= 22.18 / 23.6);
// on an older `node` this re-runs itself with the Node 24 the package pins.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [major, minor] = process.versions.node.split('.').map(Number);
const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
if (major > 23 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18)) {
  const { run } = await import(main);
  await run(process.argv.slice(2));
} else {
  const pinned = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(pinned)) {
    console.error(`error: slipway needs Node >= 22.18 (this is ${process.version})`);
    console.error('hint: run `npm ci` in the slipway package, or put Node 24 on PATH');
    process.exit(2);
  }
  const result = spawnSync(pinned, [main, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
