// Human output: aligned tables and short relative times. --json bypasses all of this.

export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n');
}

export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '-';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export function ms(value: number | null | undefined): string {
  if (value === null || value === undefined) return '-';
  return value < 1000 ? `${value}ms` : `${(value / 1000).toFixed(1)}s`;
}

export const short = (sha: string | null | undefined, n = 10) => (sha ? sha.replace(/^sha256:/, '').slice(0, n) : '-');
