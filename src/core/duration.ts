import { SlipwayError } from './errors.ts';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** Parses "500ms", "2s", "1.5m", "30m", "1h". Returns undefined when the text is not a duration. */
export function tryParseDuration(text: string): number | undefined {
  const match = PATTERN.exec(text.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * UNITS[match[2]]);
}

export function parseDuration(text: string, what = 'duration'): number {
  const ms = tryParseDuration(text);
  if (ms === undefined) {
    throw new SlipwayError('usage.bad_duration', `${what} "${text}" is not a duration`, {
      hint: 'write a number followed by ms, s, m, h or d, e.g. 500ms, 5s, 2m',
    });
  }
  return ms;
}

