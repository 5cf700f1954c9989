import path from 'node:path';
import { pathToFileURL } from 'node:url';

// Runs Slipway's Router in its own process for benchmarks.
// Usage: node bench/router/router-process.ts <app> <env> <backendPort>[,<backendPort>...] [listenPort=0]
// Env: SLIPWAY_ROUTER_MODULE=<path to router.ts> (default: src/router/router.ts) to benchmark a modified copy.
// Prints `READY <port>` on stdout once listening with the route set.

const [app = 'bench', env = 'prod', portsArg = '', listenArg = '0'] = process.argv.slice(2);
const ports = portsArg.split(',').filter(Boolean).map(Number);
if (ports.length === 0 || ports.some((p) => !Number.isInteger(p) || p <= 0)) {
  console.error('usage: router-process.ts <app> <env> <port>[,<port>...] [listenPort]');
  process.exit(2);
}

const modulePath = process.env.SLIPWAY_ROUTER_MODULE
  ? path.resolve(process.env.SLIPWAY_ROUTER_MODULE)
  : new URL('../../src/router/router.ts', import.meta.url).pathname;
const { Router } = (await import(pathToFileURL(modulePath).href)) as typeof import('../../src/router/router.ts');

const router = new Router();
const port = await router.listen(Number(listenArg), '127.0.0.1');
router.setRoute(app, env, ports.map((p, i) => ({ id: `b${i + 1}`, host: '127.0.0.1', port: p, release: 'r1' })));
process.stdout.write(`READY ${port}\n`);

const stop = async () => { await router.close(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
