#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { isUsageError, SlipwayError } from '../core/errors.ts';
import { SLIPWAY_VERSION } from '../core/version.ts';
import { CliError } from './client.ts';
import { appCommands } from './commands/apps.ts';
import { environmentCommands } from './commands/environments.ts';
import { runCommands } from './commands/runs.ts';
import { serverCommands } from './commands/server.ts';
import { telemetryCommands } from './commands/telemetry.ts';
import type { CommandModule } from './context.ts';

const MODULES: CommandModule[] = [serverCommands, appCommands, runCommands, environmentCommands, telemetryCommands];

function program(): Command {
  const cli = new Command('slipway').version(SLIPWAY_VERSION).description('git push to a zero-downtime rollout, on one machine')
    .showHelpAfterError();
  for (const register of MODULES) register(cli);
  // Usage errors anywhere in the tree surface as CommanderError (exit 2), not process.exit.
  const override = (c: Command) => { c.exitOverride(); c.allowExcessArguments(false); c.commands.forEach(override); };
  override(cli);
  return cli;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof CliError || err instanceof SlipwayError) {
      console.error(`error: ${err.message}`);
      if (err.hint) console.error(`hint: ${err.hint}`);
      return err instanceof CliError ? err.exitCode : isUsageError(err.code) ? 2 : 1;
    }
    console.error(`error: ${(err as Error).message}`);
    return 1;
  }
}

/** Entry point for the `slipway` bin and `node src/cli/main.ts`. */
export async function run(argv: string[]): Promise<void> {
  process.exitCode = await main(argv);
}

if (import.meta.main) await run(process.argv.slice(2));
