import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { localBranchHead } from '../../src/pipeline/local-ref.ts';

// Every answer is checked against git's own (`git ls-remote`), on real repositories.

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-refs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.test', ...args], { cwd, encoding: 'utf8' }).trim();
const lsRemote = (repo: string, branch: string) => git(os.tmpdir(), 'ls-remote', repo, `refs/heads/${branch}`).split(/\s+/)[0];

function repoWithBranches(dir: string): void {
  git(dir, 'init', '--quiet', '--initial-branch=main');
  writeFileSync(path.join(dir, 'a.txt'), 'one\n');
  git(dir, 'add', '-A');
  git(dir, 'commit', '--quiet', '-m', 'one');
  git(dir, 'branch', 'feature/x');
  writeFileSync(path.join(dir, 'a.txt'), 'two\n');
  git(dir, 'commit', '--quiet', '-am', 'two');
}

test('local refs: loose and packed heads of a working repository, as git reports them', async (t) => {
  const dir = scratch(t);
  repoWithBranches(dir);
  for (const branch of ['main', 'feature/x']) assert.equal(await localBranchHead(dir, branch), lsRemote(dir, branch));
  assert.equal(await localBranchHead(pathToFileURL(dir).href, 'main'), lsRemote(dir, 'main'));

  git(dir, 'pack-refs', '--all'); // loose refs gone: only packed-refs knows the heads now
  for (const branch of ['main', 'feature/x']) assert.equal(await localBranchHead(dir, branch), lsRemote(dir, branch));

  // A new commit writes a loose ref again, which wins over the stale packed line.
  writeFileSync(path.join(dir, 'a.txt'), 'three\n');
  git(dir, 'commit', '--quiet', '-am', 'three');
  assert.equal(await localBranchHead(dir, 'main'), lsRemote(dir, 'main'));
  assert.equal(await localBranchHead(dir, 'main'), git(dir, 'rev-parse', 'HEAD'));
});

test('local refs: a bare repository pushed to', async (t) => {
  const work = scratch(t);
  const bare = scratch(t);
  repoWithBranches(work);
  git(bare, 'init', '--quiet', '--bare');
  git(work, 'push', '--quiet', bare, 'main', 'feature/x');
  assert.equal(await localBranchHead(bare, 'main'), git(work, 'rev-parse', 'main'));
  assert.equal(await localBranchHead(bare, 'feature/x'), git(work, 'rev-parse', 'feature/x'));
});

test('local refs: everything else is left to git (undefined)', async (t) => {
  const dir = scratch(t);
  repoWithBranches(dir);
  assert.equal(await localBranchHead(dir, 'missing'), undefined, 'an unknown branch: git says what is wrong');
  assert.equal(await localBranchHead(dir, '../../HEAD'), undefined, 'no reading outside refs/heads');
  assert.equal(await localBranchHead('https://example.test/repo.git', 'main'), undefined);
  assert.equal(await localBranchHead('git@example.test:team/repo.git', 'main'), undefined);
  assert.equal(await localBranchHead('relative/path', 'main'), undefined);
  // file:// URLs git reads differently from Node (a host is ignored, `#` and `?` belong to the
  // path, an encoded slash is a character): git answers those.
  assert.equal(await localBranchHead(`file://otherhost${dir}`, 'main'), undefined);
  assert.equal(await localBranchHead(`${pathToFileURL(dir).href}#main`, 'main'), undefined);
  assert.equal(await localBranchHead(`${pathToFileURL(dir).href}?x=1`, 'main'), undefined);
  assert.equal(await localBranchHead(`${pathToFileURL(dir).href}%2Fsub`, 'main'), undefined);
  assert.equal(await localBranchHead(path.join(dir, 'nowhere'), 'main'), undefined);

  assert.equal(await localBranchHead(dir, 'feature'), undefined, 'refs/heads/feature is a directory (of feature/x)');
  // A loose ref that exists but cannot be read is no answer; only a missing one means packed-refs.
  git(dir, 'pack-refs', '--all');
  symlinkSync('main', path.join(dir, '.git', 'refs', 'heads', 'main')); // a link to itself: ELOOP
  assert.equal(await localBranchHead(dir, 'main'), undefined, 'not the packed value behind an unreadable loose ref');
  rmSync(path.join(dir, '.git', 'refs', 'heads', 'main'));

  const tree = scratch(t);
  git(dir, 'worktree', 'add', '--quiet', path.join(tree, 'wt'), 'feature/x');
  assert.equal(await localBranchHead(path.join(tree, 'wt'), 'main'), undefined, 'a worktree has a .git file, not a directory');
});
