import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';

const EXAMPLES = path.resolve(import.meta.dirname, '../../examples');

export interface TestRepo {
  path: string;
  /** Writes files, commits them, returns the full commit sha. */
  commit(files: Record<string, string>, message?: string): string;
  head(): string;
}

/** A real git repository made from examples/<name>, on branch main, removed after the test. */
export function exampleRepo(t: TestContext, name = 'hello', edit: Record<string, string> = {}): TestRepo {
  const dir = mkdtempSync(path.join(os.tmpdir(), `slipway-repo-${name}-`));
  cpSync(path.join(EXAMPLES, name), dir, { recursive: true });
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=Test Author', '-c', 'user.email=author@example.test', ...args], { cwd: dir, encoding: 'utf8' }).trim();
  git('init', '--quiet', '--initial-branch=main');
  const repo: TestRepo = {
    path: dir,
    commit(files, message = 'change') {
      for (const [file, content] of Object.entries(files)) writeFileSync(path.join(dir, file), content);
      git('add', '-A');
      git('commit', '--quiet', '--allow-empty', '-m', message);
      return repo.head();
    },
    head: () => git('rev-parse', 'HEAD'),
  };
  repo.commit(edit, 'first version');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return repo;
}
