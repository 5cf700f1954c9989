import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import type { Clock } from '../../../src/core/clock.ts';
import { LogStore, type LogStoreOptions } from '../../../src/telemetry/logs/store.ts';
import type { LogLabels } from '../../../src/telemetry/logs/types.ts';

export function tempDir(t: TestContext, name = 'logs'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `slipway-${name}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A clock that moves only when told to. */
export function manualClock(start = Date.UTC(2026, 10, 21, 10, 0, 0)): Clock & { advance(ms: number): void; set(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    sleep: (ms) => { now += ms; return Promise.resolve(); },
    advance: (ms) => { now += ms; },
    set: (ms) => { now = ms; },
  };
}

export function openStore(t: TestContext, opts: Partial<LogStoreOptions> = {}): LogStore {
  const dir = tempDir(t);
  const store = new LogStore({ file: path.join(dir, 'logs.db'), pruneIntervalMs: 0, ...opts });
  t.after(() => store.close());
  return store;
}

export const instanceLabels = (instance: string, extra: Partial<LogLabels> = {}): LogLabels => ({
  app: 'shop', env: 'prod', release: 'v1', instance, source: 'instance', stream: 'stdout', ...extra,
});

/** Polls until `check` is truthy (real time). */
export async function until<T>(check: () => T, what: string, timeoutMs = 5_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
