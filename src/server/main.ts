import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { SlipwayError } from '../core/errors.ts';
import { SLIPWAY_VERSION } from '../core/version.ts';
import { createApi } from '../api/app.ts';
import { Slipway } from './slipway.ts';
import { parseAlertingConfig, type AlertingConfig } from '../telemetry/alerts/index.ts';
import { SLIPWAY_METRICS } from '../telemetry/catalog.ts';

export interface ServerOptions {
  dataDir: string;
  host: string;
  apiPort: number;
  routerPort: number;
  pollIntervalMs: number;
  /** A YAML file with global alert rules and notifiers (interval, repeat_interval, rules, notifiers). */
  configFile?: string;
}

export interface RunningServer {
  slipway: Slipway;
  apiUrl: string;
  routerUrl: string;
  stop(): Promise<void>;
}

/** Fails before anything is written if a port is taken: starting must change nothing when it cannot finish. */
async function ensurePortFree(host: string, port: number, flag: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      reject(new SlipwayError('server.port_in_use', `port ${port} on ${host} is ${err.code === 'EADDRINUSE' ? 'already in use' : `not available (${err.code})`}`, {
        hint: `stop whatever listens there (another slipway server?) or pick another port with ${flag}`,
      }));
    });
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

function loadToken(dataDir: string): string {
  const file = path.join(dataDir, 'admin-token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = randomBytes(32).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
}

/** Reads the server's alerting configuration; a mistake in it stops the start before anything changes. */
function loadAlerting(file: string | undefined): AlertingConfig | undefined {
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SlipwayError('server.config_unreadable', `cannot read --config ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { hint: 'give the path of a YAML file with interval, rules and notifiers' });
  }
  return parseAlertingConfig(text, path.basename(file), { metrics: SLIPWAY_METRICS });
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const alerting = loadAlerting(opts.configFile);
  if (opts.apiPort !== 0) await ensurePortFree(opts.host, opts.apiPort, '--api-port');
  if (opts.routerPort !== 0) await ensurePortFree(opts.host, opts.routerPort, '--router-port');
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const token = loadToken(opts.dataDir);
  const slipway = new Slipway({ dataDir: opts.dataDir, pollIntervalMs: opts.pollIntervalMs, alerting });
  const routerPort = await slipway.router.listen(opts.routerPort, opts.host);
  const apiServer = http.createServer(getRequestListener(createApi(slipway, token).fetch));
  const apiPort = await new Promise<number>((resolve, reject) => {
    apiServer.once('error', reject);
    apiServer.listen(opts.apiPort, opts.host, () => resolve((apiServer.address() as net.AddressInfo).port));
  });
  await slipway.start();
  const hostForUrl = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    slipway,
    apiUrl: `http://${hostForUrl}:${apiPort}`,
    routerUrl: `http://${hostForUrl}:${routerPort}`,
    async stop() {
      apiServer.closeAllConnections();
      await new Promise<void>((resolve) => apiServer.close(() => resolve()));
      await slipway.stop();
    },
  };
}

/** `slipway server`: runs until SIGINT/SIGTERM; instances keep running after it stops. */
export async function serveForever(opts: ServerOptions, afterStart?: (s: RunningServer) => Promise<void>): Promise<void> {
  const server = await startServer(opts);
  console.log(`slipway ${SLIPWAY_VERSION} serving`);
  console.log(`  API     ${server.apiUrl}   (admin token in ${path.join(opts.dataDir, 'admin-token')})`);
  console.log(`  router  ${server.routerUrl}   (Host: <app>.<env>.localhost)`);
  console.log(`  data    ${opts.dataDir}`);
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`slipway: ${signal}, stopping the control plane (instances keep running)`);
    await server.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  if (afterStart) await afterStart(server);
}
