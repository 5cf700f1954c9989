// Typed readers over the YAML AST (not over plain JS values), so every value still knows where
// it came from and every error can point at it. Each reader either returns a clean JS value or
// throws a positioned SlipwayError; none of them ever ignores or guesses.
import { isAlias, isMap, isScalar, isSeq, type Node, type ParsedNode, type YAMLMap, type YAMLSeq } from 'yaml';
import { tryParseDuration } from '../core/duration.ts';
import { closest, describe, fail, joinPath, quote, under, type Ctx, type Where } from './locate.ts';
import { DURATION_HINT, ENV_VAR_PATTERN, MAX_DURATION_MS } from './schema.ts';

// A value together with its key path ("service.health.interval") and where to point for problems.
export interface Slot {
  path: string;
  node: ParsedNode | null; // aliases already resolved; null when YAML has no value node at all
  at: Where;
}

export type Fields = Map<string, Slot>;

export function resolve(ctx: Ctx, node: ParsedNode | null | undefined): ParsedNode | null {
  if (!node) return null;
  if (!isAlias(node)) return node;
  // Aliases are resolved so `env: *common` works; yaml already rejected unknown anchors.
  const target = node.resolve(ctx.doc);
  if (!target) fail(ctx, 'spec.syntax', node, `unknown alias *${node.source}`);
  return target as ParsedNode;
}

export function valueSlot(ctx: Ctx, path: string, key: Where, value: ParsedNode | null): Slot {
  // An empty value (`key:` with nothing after it) sits at a zero-width spot at the end of the
  // line; pointing at the key is what a person expects to see.
  const empty = !value || (isScalar(value) && value.value == null && !value.source);
  return { path, node: resolve(ctx, value), at: empty ? key : value };
}

// `key:`, `key: ~` and `key: null` all mean "no value".
export function isEmpty(slot: Slot): boolean {
  return !slot.node || (isScalar(slot.node) && slot.node.value == null);
}

export function typeError(ctx: Ctx, slot: Slot, expected: string, hint?: string): never {
  fail(ctx, 'spec.type', slot.at, `${slot.path}: expected ${expected}, got ${describe(slot.node)}`, hint);
}

export function mapOf(ctx: Ctx, slot: Slot, hint?: string): YAMLMap.Parsed {
  if (!isMap(slot.node)) typeError(ctx, slot, 'a mapping', hint);
  return slot.node as YAMLMap.Parsed;
}

// Reads a mapping's keys. Unknown keys are always errors: a silently ignored typo
// (`helth:`) is the kind of mistake that surfaces only during an outage. An empty value
// reads as an empty mapping, so `staging:` and `staging: {}` mean the same.
export function fieldsOf(ctx: Ctx, slot: Slot, allowed: readonly string[], extraHint = ''): Fields {
  const fields: Fields = new Map();
  if (isEmpty(slot)) return fields;
  const map = mapOf(ctx, slot);
  for (const pair of map.items) {
    const key = pair.key as ParsedNode | null;
    const name = keyName(ctx, key, map, slot.path);
    if (!allowed.includes(name)) {
      const guess = closest(name, allowed);
      const merge = name === '<<' ? 'YAML merge keys (<<) are not supported; write the keys out. ' : '';
      const mean = guess ? `did you mean "${guess}"? ` : '';
      fail(ctx, 'spec.unknown_key', key ?? map, `unknown key ${quote(name)} ${under(slot.path)}`,
        `${merge}${mean}allowed keys ${under(slot.path)}: ${allowed.join(', ')}${extraHint}`);
    }
    fields.set(name, valueSlot(ctx, joinPath(slot.path, name), key ?? map, pair.value as ParsedNode | null));
  }
  return fields;
}

export function keyName(ctx: Ctx, key: ParsedNode | null, parent: Node, path: string): string {
  const node = resolve(ctx, key);
  if (isScalar(node) && node.value != null && typeof node.value !== 'object') {
    // Plain `0800:` or `true:` keys: keep what was written, not what YAML turned it into.
    return typeof node.value === 'string' ? node.value : (node.source ?? String(node.value));
  }
  fail(ctx, 'spec.type', key ?? parent, `expected a plain key ${under(path)}, got ${describe(node)}`);
}

export function required(ctx: Ctx, parent: Slot, fields: Fields, name: string, hint?: string): Slot {
  const slot = fields.get(name);
  if (!slot) {
    // Point at the mapping that should contain the key (or the key of an empty mapping).
    fail(ctx, 'spec.missing', isEmpty(parent) ? parent.at : parent.node, `missing required key "${name}" ${under(parent.path)}`, hint);
  }
  return slot;
}

export function itemsOf(ctx: Ctx, slot: Slot, hint?: string): Slot[] {
  if (isEmpty(slot)) return [];
  if (!isSeq(slot.node)) typeError(ctx, slot, 'a list', hint);
  return (slot.node as YAMLSeq.Parsed).items.map((item, i) => {
    const node = item as ParsedNode;
    return { path: `${slot.path}[${i}]`, node: resolve(ctx, node), at: node ?? slot.node };
  });
}

export function readString(ctx: Ctx, slot: Slot, hint?: string): string {
  const node = slot.node;
  if (!isScalar(node) || typeof node.value !== 'string') typeError(ctx, slot, 'a string', hint);
  const value = node.value as string;
  if (value.trim() === '') fail(ctx, 'spec.value', slot.at, `${slot.path}: must not be empty`, hint);
  return value;
}

export function readInt(ctx: Ctx, slot: Slot, min: number, max: number): number {
  const node = slot.node;
  const range = `use an integer from ${min} to ${max}`;
  if (isScalar(node) && typeof node.value === 'number' && Number.isInteger(node.value)) {
    if (node.value < min || node.value > max) {
      fail(ctx, 'spec.value', slot.at, `${slot.path}: ${node.source ?? node.value} is out of range`, range);
    }
    return node.value;
  }
  // `instances: "2"`: the quotes are the mistake, so say so.
  const quoted = isScalar(node) && typeof node.value === 'string' && /^\s*-?\d+\s*$/.test(node.value);
  typeError(ctx, slot, 'an integer', quoted ? `remove the quotes; ${range}` : range);
}

export function readNumber(ctx: Ctx, slot: Slot, min: number, max: number, hint: string): number {
  const node = slot.node;
  if (isScalar(node) && typeof node.value === 'number' && Number.isFinite(node.value)) {
    if (node.value < min || node.value > max) fail(ctx, 'spec.value', slot.at, `${slot.path}: ${node.source ?? node.value} is out of range`, hint);
    return node.value;
  }
  typeError(ctx, slot, 'a number', hint);
}

export function readBool(ctx: Ctx, slot: Slot): boolean {
  const node = slot.node;
  if (isScalar(node) && typeof node.value === 'boolean') return node.value;
  // YAML 1.2 (what we parse) reads yes/no/on/off as strings, unlike YAML 1.1 tools.
  typeError(ctx, slot, 'a boolean', 'write true or false');
}

export function readDuration(ctx: Ctx, slot: Slot, minMs: number): number {
  const node = slot.node;
  if (isScalar(node) && typeof node.value === 'number') {
    // A bare number is ambiguous (seconds? milliseconds?), so it is refused rather than guessed.
    const written = node.source ?? String(node.value);
    fail(ctx, 'spec.value', slot.at, `${slot.path}: ${written} has no unit`, unitHint(written));
  }
  if (!isScalar(node) || typeof node.value !== 'string') typeError(ctx, slot, 'a duration such as "30s"', DURATION_HINT);
  const text = node.value as string;
  const ms = tryParseDuration(text);
  if (ms === undefined) {
    if (/^\s*\d+(\.\d+)?\s*$/.test(text)) fail(ctx, 'spec.value', slot.at, `${slot.path}: ${quote(text)} has no unit`, unitHint(text.trim()));
    fail(ctx, 'spec.value', slot.at, `${slot.path}: ${quote(text)} is not a duration`, DURATION_HINT);
  }
  // minMs is 0 or 1 in practice: "may be zero" or "must be positive".
  if (ms < minMs) fail(ctx, 'spec.value', slot.at, `${slot.path}: must be greater than 0`, 'e.g. 500ms or 1s');
  if (ms > MAX_DURATION_MS) fail(ctx, 'spec.value', slot.at, `${slot.path}: ${quote(text)} is longer than the maximum of 24h`, 'use at most 24h');
  return ms;
}

function unitHint(number: string): string {
  return `durations need a unit, e.g. ${number}s or ${number}ms (units: ms, s, m, h)`;
}

// Environment variables. Numbers and booleans are accepted and kept exactly as written
// (`VERSION: 1.10` stays "1.10", not "1.1"; `ZIP: 0800` stays "0800"), since a process only
// ever sees text.
export function readEnvVars(ctx: Ctx, slot: Slot): Record<string, string> {
  const entries: [string, string][] = [];
  if (isEmpty(slot)) return {};
  const map = mapOf(ctx, slot, 'write variables as a mapping, e.g. env: {LOG_LEVEL: info}');
  for (const pair of map.items) {
    const key = pair.key as ParsedNode | null;
    const name = keyName(ctx, key, map, slot.path);
    if (!ENV_VAR_PATTERN.test(name)) {
      fail(ctx, 'spec.value', key ?? map, `${slot.path}: ${quote(name)} is not a valid variable name`,
        'use letters, digits and "_", not starting with a digit (e.g. LOG_LEVEL)');
    }
    const value = valueSlot(ctx, joinPath(slot.path, name), key ?? map, pair.value as ParsedNode | null);
    const node = value.node;
    if (isScalar(node) && ['string', 'number', 'boolean'].includes(typeof node.value)) {
      entries.push([name, typeof node.value === 'string' ? node.value : (node.source ?? String(node.value))]);
    } else {
      typeError(ctx, value, 'a string', isEmpty(value) ? `write ${name}: "" for an empty value` : undefined);
    }
  }
  // fromEntries defines own properties, so a `__proto__` key cannot touch the prototype.
  return Object.fromEntries(entries);
}
