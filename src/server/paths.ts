import os from 'node:os';
import path from 'node:path';

/** `$XDG_DATA_HOME/slipway`, else `~/.local/share/slipway`. Kept apart so the CLI can use it cheaply. */
export function defaultDataDir(): string {
  const base = process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'slipway');
}
