import path from 'node:path';
import { Command } from 'commander';
import { parseDuration } from '../../core/duration.ts';
import { defaultDataDir } from '../../server/paths.ts';
import type { ServerOptions } from '../../server/main.ts';
import { CliError } from '../client.ts';
import type { CommandModule } from '../context.ts';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CliError(`"${value}" is not a port number`, { exitCode: 2, hint: 'use 0-65535 (0 picks a free port)' });
  return n;
}

function serverCommand(name: string, description: string, quickstart: boolean): Command {
  return new Command(name).description(description)
    .option('--data-dir <dir>', 'where Slipway keeps its state', defaultDataDir())
    .option('--host <host>', 'address to bind the API and router to', '127.0.0.1')
    .option('--api-port <port>', 'API port', port, 7070)
    .option('--router-port <port>', 'router port', port, 8080)
    .option('--poll-interval <duration>', 'how often to poll git branches', '5s')
    .option('--config <file>', 'YAML with global alert rules and notifiers')
    .action(async (o) => {
      const opts: ServerOptions = {
        dataDir: path.resolve(o.dataDir), host: o.host, apiPort: o.apiPort, routerPort: o.routerPort,
        pollIntervalMs: parseDuration(o.pollInterval, '--poll-interval'), configFile: o.config ? path.resolve(o.config) : undefined,
      };
      // Loaded here, not at the top: every other command stays a small, fast API client.
      const { serveForever } = await import('../../server/main.ts');
      const afterStart = quickstart ? (await import('../../server/quickstart.ts')).deployExample : undefined;
      await serveForever(opts, afterStart);
    });
}

export const serverCommands: CommandModule = (cli) => {
  cli.addCommand(serverCommand('server', 'start the control plane, API and router', false));
  cli.addCommand(serverCommand('quickstart', 'start the server and deploy examples/hello', true));
};
