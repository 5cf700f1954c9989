// Value readers the alert rules need beyond src/spec/read.ts: spans longer than a day, plain
// non-negative numbers, and thresholds written in the unit of their metric. They delegate to
// the spec's readers wherever those apply, so wording and positions match slipway.yaml errors.
import { isScalar } from 'yaml';
import { tryParseDuration } from '../../core/duration.ts';
import { fail, quote, type Ctx } from '../../spec/locate.ts';
import { readDuration, typeError, type Slot } from '../../spec/read.ts';
import { MAX_DURATION_MS } from '../../spec/schema.ts';
import type { Unit } from './types.ts';
import { formatMs, parseBytes, parsePercent } from './units.ts';

/** A duration between minMs and maxMs. maxMs may exceed the spec's 24h cap (absence "no run in 2d"). */
export function readSpan(ctx: Ctx, slot: Slot, minMs: number, maxMs: number): number {
  const node = slot.node;
  const text = isScalar(node) && typeof node.value === 'string' ? node.value : undefined;
  const parsed = text === undefined ? undefined : tryParseDuration(text);
  // Everything except the upper bound is the spec's own check, so messages read the same.
  // readDuration knows "may be 0" and "must be positive"; larger minimums are checked here.
  const ms = parsed !== undefined && parsed > MAX_DURATION_MS ? parsed : readDuration(ctx, slot, Math.min(minMs, 1));
  if (ms < minMs) fail(ctx, 'spec.value', slot.at, `${slot.path}: must be at least ${formatMs(minMs)}`, `use ${formatMs(minMs)} or more`);
  if (ms > maxMs) {
    fail(ctx, 'spec.value', slot.at, `${slot.path}: ${quote(text ?? String(ms))} is longer than the maximum of ${formatMs(maxMs)}`,
      `use at most ${formatMs(maxMs)}`);
  }
  return ms;
}

/** A finite number ≥ 0. Quoted numbers are refused with a hint, as readInt does. */
export function readNonNegative(ctx: Ctx, slot: Slot, hint: string): number {
  const node = slot.node;
  if (isScalar(node) && typeof node.value === 'number' && Number.isFinite(node.value)) {
    if (node.value < 0) fail(ctx, 'spec.value', slot.at, `${slot.path}: ${node.source ?? node.value} is negative`, hint);
    return node.value;
  }
  const quoted = isScalar(node) && typeof node.value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(node.value);
  typeError(ctx, slot, 'a number', quoted ? `remove the quotes; ${hint}` : hint);
}

/** A threshold in the unit of its metric: 0.02 or "2%" for ratios, "500ms" for latencies, "512MiB" for sizes. */
export function readThresholdValue(ctx: Ctx, slot: Slot, unit: Unit, metric: string): number {
  const node = slot.node;
  const text = isScalar(node) && typeof node.value === 'string' ? node.value : undefined;
  switch (unit) {
    case 'ratio': {
      const hint = `${metric} is a ratio: write 0.02 or "2%" for two percent`;
      const percent = text === undefined ? undefined : parsePercent(text);
      if (percent !== undefined) {
        if (percent > 1) fail(ctx, 'spec.value', slot.at, `${slot.path}: ${quote(text!)} is more than 100%`, hint);
        return percent;
      }
      if (text !== undefined) fail(ctx, 'spec.value', slot.at, `${slot.path}: ${quote(text)} is not a ratio`, hint);
      const value = readNonNegative(ctx, slot, hint);
      if (value > 1) fail(ctx, 'spec.value', slot.at, `${slot.path}: ${value} is not a ratio between 0 and 1`, hint);
      return value;
    }
    case 'ms':
      // A bare number is refused by readDuration: "500" could be ms or s.
      return readDuration(ctx, slot, 0);
    case 'bytes': {
      const bytes = text === undefined ? undefined : parseBytes(text);
      if (bytes !== undefined) return bytes;
      const hint = `${metric} is a size: write a number of bytes or a size such as 512MiB or 1GB`;
      if (text !== undefined) fail(ctx, 'spec.value', slot.at, `${slot.path}: ${quote(text)} is not a size`, hint);
      return readNonNegative(ctx, slot, hint);
    }
    case 'per_second':
      return readNonNegative(ctx, slot, `${metric} is a rate per second, e.g. 0.5`);
    case 'count':
      return readNonNegative(ctx, slot, `${metric} is a count, e.g. 3`);
  }
}
