// Label sets: their canonical text (the series identity in the store) and label matchers.
import { SlipwayError } from '../../core/errors.ts';
import type { Labels, MatchOp, Matcher } from './types.ts';

/** JSON with sorted keys: equal label sets give equal text whatever order they came in. */
export function canonicalLabels(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return '{}';
  keys.sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) out += `${i ? ',' : ''}${JSON.stringify(keys[i])}:${JSON.stringify(labels[keys[i]])}`;
  return `${out}}`;
}

const MATCHER = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/;

/**
 * Parses a CLI label filter: `env=staging`, `env!=prod`, `code=~5..`, `path!~/health.*`.
 * A value may be wrapped in double quotes (to keep surrounding spaces).
 */
export function parseMatcher(text: string): Matcher {
  const m = MATCHER.exec(text);
  if (!m) {
    throw new SlipwayError('metrics.bad_matcher', `label filter "${text}" is not label=value, label!=value, label=~regex or label!~regex`, {
      hint: 'for example: env=staging, code=~5.., instance!=web-1',
    });
  }
  let value = m[3];
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
  const matcher = { label: m[1], op: m[2] as MatchOp, value };
  compileOne(matcher); // reject a bad regex here, where the user typed it
  return matcher;
}

/** Equality shortcuts plus explicit matchers (objects or CLI text) → one list. */
export function normalizeMatchers(match: Labels = {}, matchers: (Matcher | string)[] = []): Matcher[] {
  const out: Matcher[] = Object.entries(match).map(([label, value]) => ({ label, op: '=' as MatchOp, value }));
  for (const m of matchers) out.push(typeof m === 'string' ? parseMatcher(m) : m);
  return out;
}

export type LabelTest = (labels: Labels) => boolean;

/** All matchers must hold. A missing label reads as "" (so `x=""` selects series without x), as in Prometheus. */
export function compileMatchers(matchers: Matcher[]): LabelTest {
  const tests = matchers.map(compileOne);
  return (labels) => {
    for (const t of tests) if (!t(labels)) return false;
    return true;
  };
}

function compileOne(m: Matcher): LabelTest {
  const { label, op, value } = m;
  switch (op) {
    case '=': return (l) => (l[label] ?? '') === value;
    case '!=': return (l) => (l[label] ?? '') !== value;
    case '=~':
    case '!~': {
      let re: RegExp;
      try {
        re = new RegExp(`^(?:${value})$`); // anchored like Prometheus: `5..` means the whole value
      } catch (err) {
        throw new SlipwayError('metrics.bad_matcher', `label filter ${label}${op}${value}: invalid regular expression (${(err as Error).message})`, {
          hint: 'regular expressions use JavaScript syntax and must match the whole value, e.g. code=~5.. or env=~prod|staging',
        });
      }
      return op === '=~' ? (l) => re.test(l[label] ?? '') : (l) => !re.test(l[label] ?? '');
    }
    default:
      throw new SlipwayError('metrics.bad_matcher', `unknown matcher operator "${op}" for label "${label}"`, { hint: 'use =, !=, =~ or !~' });
  }
}
