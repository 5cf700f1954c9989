// Loading a standalone YAML document (a server's alerting file, a rules file) into the same
// Ctx/Slot shape parseSpec uses, so the readers work unchanged and errors point at file:line:col.
import { LineCounter, parseDocument, type ParsedNode } from 'yaml';
import { fail, type Ctx } from '../../spec/locate.ts';
import type { Slot } from '../../spec/read.ts';

export function loadDocument(text: string, file: string): { ctx: Ctx; root: Slot } {
  const lines = new LineCounter();
  // The same settings as parseSpec: positions formatted by us, repeated keys are errors.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const ctx: Ctx = { file, lines, doc };
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) {
    fail(ctx, 'spec.syntax', problem.pos[0], `invalid YAML: ${problem.message.split('\n')[0]}`,
      'check the indentation (spaces, not tabs) and the quoting around this position');
  }
  const contents = doc.contents as ParsedNode | null;
  return { ctx, root: { path: '', node: contents, at: contents ?? 0 } };
}
