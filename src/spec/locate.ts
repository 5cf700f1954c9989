// Turning a YAML node into "file:line:col" and throwing the one error type the CLI and API know.
// Every problem in slipway.yaml must point at the exact place to edit, so nothing here ever
// throws without a position.
import { isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import { SlipwayError } from '../core/errors.ts';

export interface Ctx {
  file: string;
  lines: LineCounter;
  doc: Document.Parsed;
}

// Something we can point at: a node (its start), or a raw offset (for yaml's own errors).
export type Where = Node | number | null | undefined;

export type SpecErrorCode = 'spec.syntax' | 'spec.unknown_key' | 'spec.type' | 'spec.missing' | 'spec.value';

export function linePos(ctx: Ctx, at: Where): { line: number; col: number } {
  const offset = typeof at === 'number' ? at : (at?.range?.[0] ?? 0);
  const pos = ctx.lines.linePos(offset);
  // linePos reports line 0 when the text has no newline at all; a one-line file is line 1.
  return { line: Math.max(pos.line, 1), col: Math.max(pos.col, 1) };
}

export function fail(ctx: Ctx, code: SpecErrorCode, at: Where, message: string, hint?: string): never {
  const { line, col } = linePos(ctx, at);
  // details carry the position separately so an editor/UI can highlight it without re-parsing.
  throw new SlipwayError(code, `${ctx.file}:${line}:${col}: ${message}`, {
    ...(hint === undefined ? {} : { hint }),
    details: { file: ctx.file, line, column: col },
  });
}

// Quotes a user's string for a message, cut short so one long line cannot flood the terminal.
export function quote(text: string, max = 60): string {
  const shown = text.length > max ? `${text.slice(0, max - 1)}…` : text;
  return JSON.stringify(shown);
}

// How a value reads in "expected X, got <describe>". Says both the type and the value, because
// "got a string" alone does not tell someone that `"2"` was quoted by accident.
export function describe(node: Node | null | undefined): string {
  if (!node) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (!isScalar(node)) return 'an alias';
  const value = node.value;
  if (value === null || value === undefined) return node.source ? 'null' : 'nothing';
  if (typeof value === 'string') return `a string ${quote(value)}`;
  if (typeof value === 'number') return `${Number.isInteger(value) ? 'an integer' : 'a number'} ${node.source ?? value}`;
  if (typeof value === 'boolean') return `a boolean ${value}`;
  return `a ${typeof value}`;
}

// Where a key lives, for messages: 'under "service.health"', or 'at the top level'.
export function under(path: string): string {
  return path === '' ? 'at the top level' : `under "${path}"`;
}

export function joinPath(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

// "did you mean" for unknown keys: the closest allowed key within two edits, if any.
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
