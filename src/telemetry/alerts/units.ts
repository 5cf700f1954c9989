// Values in the unit a person thinks in: "2.5%", "512ms", "3.2/s", "1.5 GiB". Used both to read
// thresholds written as text and to show numbers in notifications, so both directions agree.
import type { Unit } from './types.ts';

const BYTES: Record<string, number> = {
  b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3,
};

/** "2%" → 0.02, "2.5 %" → 0.025; undefined when the text is not a percentage. */
export function parsePercent(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(text);
  return match ? Number(match[1]) / 100 : undefined;
}

/** "512MiB", "1.5 GB", "100b" → bytes; undefined when the text is not a size. */
export function parseBytes(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b|b)\s*$/i.exec(text);
  if (!match) return undefined;
  const factor = BYTES[match[2]!.toLowerCase()];
  return factor === undefined ? undefined : Math.round(Number(match[1]) * factor);
}

// Three significant digits are plenty to act on and keep messages short.
function short(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return String(n);
  return String(Number(n.toPrecision(3)));
}

export function formatValue(value: number, unit: Unit): string {
  switch (unit) {
    case 'ratio': return `${short(value * 100)}%`;
    case 'ms': return formatMs(value);
    case 'per_second': return `${short(value)}/s`;
    case 'count': return short(value);
    case 'bytes': {
      const steps: [number, string][] = [[1024 ** 3, 'GiB'], [1024 ** 2, 'MiB'], [1024, 'KiB']];
      for (const [size, name] of steps) if (Math.abs(value) >= size) return `${short(value / size)} ${name}`;
      return `${short(value)} B`;
    }
  }
}

/** A span of time as written in slipway.yaml: "500ms", "90s", "2m", "1h30m", "2d". */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${short(ms)}ms`;
  if (ms < 60_000) return `${short(ms / 1000)}s`;
  const total = Math.round(ms / 1000);
  const d = Math.floor(total / 86_400);
  const h = Math.floor((total % 86_400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const parts = [d && `${d}d`, h && `${h}h`, m && `${m}m`, s && `${s}s`].filter(Boolean);
  return parts.join('');
}

/** A `--since` argument: whole minutes (or hours), rounded up, so the view always covers the span. */
export function sinceArg(ms: number): string {
  const minutes = Math.max(1, Math.ceil(ms / 60_000));
  return minutes % 60 === 0 ? `${minutes / 60}h` : `${minutes}m`;
}
