// build: and test: steps. A step is either a command string or {name, run, timeout}; both
// forms come out as a StepSpec with a unique, human-readable name.
import { isMap, isScalar } from 'yaml';
import type { StepSpec } from './types.ts';
import { fail, type Ctx, type Where } from './locate.ts';
import { fieldsOf, itemsOf, readDuration, readString, required, typeError, type Slot } from './read.ts';
import { DEFAULTS, KEYS, STEP_NAME_MAX } from './schema.ts';

interface Draft {
  run: string;
  timeoutMs: number;
  name?: string; // only when the user wrote one
  nameAt?: Where;
}

const LIST_HINT = 'write steps as a list, e.g.\n  build:\n    - npm ci\n    - {name: compile, run: npm run build, timeout: 10m}';

// Names are unique across build and test together, because logs and the UI identify a step by
// name within one pipeline run. Decision: a name the user wrote twice is an error (almost
// always a copy-paste slip), while a derived name that collides (two `npm test` steps) is
// suffixed " (2)", " (3)"… because the user never chose it. Written names are placed first,
// so a written name is never the one that gets renamed.
export function readSteps(ctx: Ctx, build: Slot | undefined, test: Slot | undefined): { build: StepSpec[]; test: StepSpec[] } {
  const buildDrafts = build ? itemsOf(ctx, build, LIST_HINT).map((s) => readStep(ctx, s)) : [];
  const testDrafts = test ? itemsOf(ctx, test, LIST_HINT).map((s) => readStep(ctx, s)) : [];
  const all = [...buildDrafts, ...testDrafts];
  const taken = new Set<string>();
  for (const draft of all) {
    if (draft.name === undefined) continue;
    if (taken.has(draft.name)) {
      fail(ctx, 'spec.value', draft.nameAt, `duplicate step name "${draft.name}"`,
        'step names must be unique across build and test; rename one of them');
    }
    taken.add(draft.name);
  }
  const named = (draft: Draft): StepSpec => {
    let name = draft.name;
    if (name === undefined) {
      const base = deriveStepName(draft.run);
      name = base;
      for (let n = 2; taken.has(name); n++) name = `${base} (${n})`;
      taken.add(name);
    }
    return { name, run: draft.run, timeoutMs: draft.timeoutMs };
  };
  // Derived names are assigned in file order, so the first `npm test` keeps the plain name.
  const steps = all.map(named);
  return { build: steps.slice(0, buildDrafts.length), test: steps.slice(buildDrafts.length) };
}

function readStep(ctx: Ctx, slot: Slot): Draft {
  const node = slot.node;
  if (isScalar(node) && typeof node.value === 'string') {
    return { run: readString(ctx, slot), timeoutMs: DEFAULTS.stepTimeoutMs };
  }
  if (!isMap(node)) typeError(ctx, slot, 'a command string or a mapping with "run"', LIST_HINT);
  // `- echo a: b` parses as a mapping with key "echo a"; the hint makes that YAML trap visible.
  const fields = fieldsOf(ctx, slot, KEYS.step, '. A command containing ": " must be quoted');
  const run = readString(ctx, required(ctx, slot, fields, 'run', 'add run: <command>'));
  const timeout = fields.get('timeout');
  const draft: Draft = { run, timeoutMs: timeout ? readDuration(ctx, timeout, 1) : DEFAULTS.stepTimeoutMs };
  const name = fields.get('name');
  if (name) {
    draft.name = readString(ctx, name).trim();
    draft.nameAt = name.at;
    // A name is a one-line label in logs and the UI.
    if (/[\r\n]/.test(draft.name)) fail(ctx, 'spec.value', name.at, `${name.path}: must be a single line`);
  }
  return draft;
}

// "the first words of the command": first non-blank line, whitespace collapsed, cut at a word
// boundary to fit STEP_NAME_MAX. "…" marks that something was left out.
export function deriveStepName(run: string): string {
  const lines = run.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  // readString guarantees at least one non-blank line.
  const first = (lines[0] ?? '').replace(/\s+/g, ' ');
  const more = lines.length > 1;
  if (first.length <= STEP_NAME_MAX && !more) return first;
  if (first.length + 2 <= STEP_NAME_MAX) return `${first} …`; // a short first line of a script
  const cut = first.slice(0, STEP_NAME_MAX - 1); // room for "…"
  const space = cut.lastIndexOf(' ');
  // Prefer a word boundary, unless that throws away most of the text (one very long word).
  return `${(space >= STEP_NAME_MAX / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}
