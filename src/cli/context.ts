import type { Command } from 'commander';
import { Client } from './client.ts';

// What every command module needs: an API client, --json printing, path escaping.

export const enc = encodeURIComponent;
export const client = () => new Client();
export const print = (json: boolean, value: unknown, human: () => string) => console.log(json ? JSON.stringify(value, null, 2) : human());

/** A command module adds the commands of one domain to the program. */
export type CommandModule = (cli: Command) => void;
