// slipway.yaml → AppSpec. The only entry point is parseSpec; it is pure (text in, value or
// SlipwayError out) so the CLI, the API and the pipeline all validate identically.
//
// Parsing works on yaml's AST rather than on plain JS values so that every error can say
// `file:line:col:` and name the key path. Checks run top-down; within a mapping, unknown keys
// are reported before missing ones, so a typo (`comand:`) is reported as the typo it is.
import { isMap, isPair, isScalar, LineCounter, parseDocument, visit, type YAMLError } from 'yaml';
import type { AppSpec } from './types.ts';
import { describe, fail, type Ctx } from './locate.ts';
import { readEnvironments } from './environments.ts';
import { readAlertRules } from '../telemetry/alerts/rules-read.ts';
import { SLIPWAY_METRICS } from '../telemetry/catalog.ts';
import { fieldsOf, readString, required, type Slot } from './read.ts';
import { APP_NAME_MAX, KEYS, NAME_HINT, NAME_PATTERN } from './schema.ts';
import { readArtifact, readService } from './service.ts';
import { readSteps } from './steps.ts';

const ENVIRONMENTS_HINT = 'add environments: in promotion order, e.g.\n  environments:\n    staging: {}\n    production: {approval: true}';
const MINIMAL = 'a minimal slipway.yaml:\n  app: hello\n  service:\n    command: node server.js\n  environments:\n    production: {}';

export function parseSpec(text: string, file = 'slipway.yaml'): AppSpec {
  const lines = new LineCounter();
  // prettyErrors off: we format positions ourselves, in the same style as every other error.
  // uniqueKeys (the default) turns a repeated key into an error instead of last-one-wins.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const ctx: Ctx = { file, lines, doc };

  // Warnings count too (e.g. an unknown `!tag`): a value YAML could not interpret is not
  // something to deploy with.
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) syntaxError(ctx, problem);

  // A lone "---" or "~" parses to a null scalar rather than to no contents; both are empty.
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value == null)) {
    fail(ctx, 'spec.missing', 0, 'the file is empty', MINIMAL);
  }
  if (!isMap(doc.contents)) {
    fail(ctx, 'spec.type', doc.contents, `expected a mapping at the top level, got ${describe(doc.contents)}`, MINIMAL);
  }
  const root: Slot = { path: '', node: doc.contents, at: doc.contents };
  const fields = fieldsOf(ctx, root, KEYS.top);

  const app = readAppName(ctx, required(ctx, root, fields, 'app', 'add app: <name>, e.g. app: hello'));
  const steps = readSteps(ctx, fields.get('build'), fields.get('test'));
  const artifact = readArtifact(ctx, fields.get('artifact'));
  const service = readService(ctx, required(ctx, root, fields, 'service', MINIMAL));
  const environments = readEnvironments(
    ctx,
    required(ctx, root, fields, 'environments', ENVIRONMENTS_HINT),
    service.instances,
  );
  const alerts = readAlertRules(ctx, fields.get('alerts'), { metrics: SLIPWAY_METRICS, environments: environments.map((e) => e.name) });
  return { app, build: steps.build, test: steps.test, artifact, service, environments, alerts };
}

function readAppName(ctx: Ctx, slot: Slot): string {
  const name = readString(ctx, slot, NAME_HINT(APP_NAME_MAX, 'hello-api'));
  if (!NAME_PATTERN.test(name) || name.length > APP_NAME_MAX) {
    fail(ctx, 'spec.value', slot.at, `app: ${JSON.stringify(name)} is not a valid app name`, NAME_HINT(APP_NAME_MAX, 'hello-api'));
  }
  return name;
}

function syntaxError(ctx: Ctx, error: YAMLError): never {
  const at = error.pos[0];
  // yaml's own wording is kept (it is precise), but some cases get a message or hint a person
  // can act on without knowing the YAML spec.
  if (error.code === 'MULTIPLE_DOCS') {
    fail(ctx, 'spec.syntax', at, 'the file contains more than one YAML document',
      'slipway.yaml holds a single document; remove the second "---" and everything meant for another file');
  }
  const message = error.message.split('\n')[0];
  if (error.code === 'DUPLICATE_KEY') {
    fail(ctx, 'spec.syntax', at, `duplicate key ${JSON.stringify(keyAt(ctx, at))}: ${message}`,
      'a key may appear only once per mapping; merge the two entries or remove one');
  }
  const hint = error.code === 'TAG_RESOLVE_FAILED'
    ? 'remove the "!" tag; slipway.yaml uses plain YAML values'
    : 'check the indentation (spaces, not tabs) and the quoting around this position';
  fail(ctx, 'spec.syntax', at, `invalid YAML: ${message}`, hint);
}

// The text of the key starting at `offset` (yaml reports a duplicate key by position only).
function keyAt(ctx: Ctx, offset: number): string {
  let found = '?';
  visit(ctx.doc, {
    Pair(_, pair) {
      if (isPair(pair) && isScalar(pair.key) && pair.key.range?.[0] === offset) {
        found = String(pair.key.source ?? pair.key.value);
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}
