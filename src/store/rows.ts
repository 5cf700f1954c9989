import type { Row } from './db.ts';

const camel = (key: string) => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Converts a snake_case row into a camelCase record, decoding JSON and boolean columns. */
export function fromRow<T>(row: Row | undefined, opts: { json?: string[]; bool?: string[]; rename?: Record<string, string> } = {}): T | undefined {
  if (!row) return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    const name = opts.rename?.[key] ?? camel(key);
    if (opts.json?.includes(key)) out[name] = value === null ? null : JSON.parse(String(value));
    else if (opts.bool?.includes(key)) out[name] = Boolean(value);
    else out[name] = value;
  }
  return out as T;
}

/** Builds "a = ?, b = ?" and the values for a partial camelCase update. */
export function setClause(patch: Record<string, unknown>, rename: Record<string, string> = {}): { sql: string; values: (string | number | null)[] } {
  const keys = Object.keys(patch).filter((k) => patch[k] !== undefined);
  return {
    sql: keys.map((k) => `${rename[k] ?? snake(k)} = ?`).join(', '),
    values: keys.map((k) => toSql(patch[k])),
  };
}

export function toSql(value: unknown): string | number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' || typeof value === 'string') return value;
  return JSON.stringify(value);
}
