// What `--grep` and `--field` mean, in one place, shared by the SQL path (FTS5 narrows the
// candidates) and the in-memory path (live tail, and the final check of every candidate), so a
// query and a tail with the same filter always agree. Pure.
//
// Two index modes, chosen when a database is created:
//  - 'word' (default): FTS5 unicode61 words. TEXT matches as whole words, ignoring case, like
//    `grep -iwF`: `econnreset` finds "Error: ECONNRESET", `req-7f3a9c01` finds that request id,
//    `payment declined` finds the phrase; `conn` finds "conn refused" but not "connection".
//    End TEXT with `*` to let its last word be the start of a longer one: `timeout*` finds
//    "timeouts" and "TimeoutError", `req-7f3a*` finds "req-7f3a9c01". Whole words are fast
//    whatever their frequency; a prefix costs time in proportion to how often its words occur
//    (a common one, ~100 ms per million lines: FTS5 gathers every match before the newest).
//    Ingest costs about half of trigrams (bench/logs).
//  - 'substring': FTS5 trigrams. TEXT matches anywhere, like `grep -iF`; needles shorter than
//    3 characters fall back to a scan.
// Either way the index only proposes candidates; each one is checked against the literal text
// (ignoring case), so punctuation and spacing in TEXT are exact: `eu-west` does not find "eu west".

export type SearchMode = 'word' | 'substring';

/** The text a record is searched in: its message, then each field as `key=value` (nested keys dotted). */
export function searchText(message: string, fields: Record<string, unknown> | null): string {
  if (!fields) return message;
  const parts: string[] = [message];
  renderFields(fields, '', parts);
  return parts.join(' ');
}

function renderFields(fields: Record<string, unknown>, prefix: string, out: string[]): void {
  for (const key in fields) {
    const value = fields[key];
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      renderFields(value as Record<string, unknown>, `${prefix}${key}.`, out);
    } else {
      out.push(`${prefix}${key}=${renderValue(value)}`);
    }
  }
}

export function renderValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

// unicode61 splits on everything that is not a letter or a number (it also keeps private-use
// characters, which no log line we care about contains).
const TOKEN_CHAR = /[\p{L}\p{N}]/u;
const TOKENS = /[\p{L}\p{N}]+/gu;

const isTokenChar = (c: string | undefined) => c !== undefined && TOKEN_CHAR.test(c);

/** A trailing `*` (word mode): the last word may continue. */
function splitPrefix(needle: string): { want: string; prefix: boolean } {
  return needle.endsWith('*') ? { want: needle.slice(0, -1), prefix: true } : { want: needle, prefix: false };
}

/**
 * Does `text` contain `needle` (ignoring case)? In word mode the match must not start or end
 * inside a word (unless the needle itself starts or ends with punctuation, or ends with `*`).
 */
export function textMatches(text: string, needle: string, mode: SearchMode): boolean {
  const hay = text.toLowerCase();
  if (mode === 'substring') return hay.includes(needle.toLowerCase());
  const { want: raw, prefix } = splitPrefix(needle);
  const want = raw.toLowerCase();
  if (want === '') return true;
  const checkStart = isTokenChar(want[0]);
  const checkEnd = !prefix && isTokenChar(want[want.length - 1]);
  for (let at = hay.indexOf(want); at !== -1; at = hay.indexOf(want, at + 1)) {
    if (checkStart && at > 0 && isTokenChar(hay[at - 1])) continue;
    if (checkEnd && isTokenChar(hay[at + want.length])) continue;
    return true;
  }
  return false;
}

/**
 * The FTS5 MATCH expression that finds every candidate for `needle`, or undefined when the index
 * cannot help (no word characters, or under 3 characters for trigrams): then the caller scans.
 * Word mode: all of the needle's words (the index keeps no positions), each exact, so FTS5
 * streams matches newest first and stops at the limit. With `*`, the last word is a prefix,
 * except a single character after other words: "1*" expands to thousands of index terms
 * (600 ms over a million lines), so that one is left to the literal check.
 */
export function ftsTerm(needle: string, mode: SearchMode): string | undefined {
  if (mode === 'substring') {
    if ([...needle].length < 3) return undefined;
    return `"${needle.replaceAll('"', '""')}"`;
  }
  const { want, prefix: asked } = splitPrefix(needle);
  const tokens = want.match(TOKENS);
  if (!tokens) return undefined;
  let prefix = asked && isTokenChar(want.at(-1));
  if (prefix && tokens.length > 1 && tokens[tokens.length - 1].length < 2) {
    tokens.pop();
    prefix = false;
  }
  const terms = [...new Set(tokens.map((t) => t.toLowerCase()))].map((t) => `"${t}"`);
  if (prefix) terms[terms.length - 1] += '*';
  return terms.join(' AND ');
}

/** The value at `key` in `fields`: a literal key first ("http.method"), then a dotted path. */
export function fieldValue(fields: Record<string, unknown> | null, key: string): unknown {
  if (!fields) return undefined;
  if (key in fields) return fields[key];
  let node: unknown = fields;
  for (const part of key.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** `--field k=v` holds when the field exists and reads as exactly `v` (numbers and booleans as written). */
export function fieldMatches(fields: Record<string, unknown> | null, key: string, want: string): boolean {
  const value = fieldValue(fields, key);
  return value !== undefined && renderValue(value) === want;
}
