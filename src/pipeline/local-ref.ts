import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// A branch head of a repository on this machine, read from its ref files instead of by starting
// git. Polling is the server's most frequent reason to start a process, and each start stalls
// the event loop the router shares for a few milliseconds (fork copies the server's page
// tables). Only the plain, long-stable layouts are read here: loose refs and packed-refs, in a
// repository's .git directory or a bare repository. Anything else (a URL, a worktree's .git file,
// the reftable format, a symbolic ref, a branch not found) returns undefined and git answers.

const SHA = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/; // SHA-1, or SHA-256 repositories

export async function localBranchHead(repo: string, branch: string): Promise<string | undefined> {
  const root = repo.startsWith('file://') ? fileURLToPath(repo) : repo;
  if (!path.isAbsolute(root) || branch.split('/').some((part) => part === '' || part === '.' || part === '..')) return undefined;
  const gitDir = await gitDirOf(root);
  if (!gitDir || (await isDir(path.join(gitDir, 'reftable')))) return undefined;
  const loose = await readFile(path.join(gitDir, 'refs', 'heads', branch), 'utf8').catch(() => undefined);
  if (loose !== undefined) return sha(loose.trim());
  const packed = await readFile(path.join(gitDir, 'packed-refs'), 'utf8').catch(() => '');
  const suffix = ` refs/heads/${branch}`;
  const line = packed.split('\n').find((l) => l.endsWith(suffix) && !l.startsWith('#') && !l.startsWith('^'));
  return line === undefined ? undefined : sha(line.slice(0, -suffix.length));
}

/** `<root>/.git` when it is a directory, `<root>` when it is a bare repository, else undefined. */
async function gitDirOf(root: string): Promise<string | undefined> {
  const dotGit = path.join(root, '.git');
  if (await isDir(dotGit)) return dotGit;
  const bare = await Promise.all([isFile(path.join(root, 'HEAD')), isDir(path.join(root, 'refs')), isDir(path.join(root, 'objects'))]);
  return bare.every(Boolean) ? root : undefined;
}

const sha = (text: string) => (SHA.test(text) ? text : undefined);
const isDir = (p: string) => stat(p).then((s) => s.isDirectory(), () => false);
const isFile = (p: string) => stat(p).then((s) => s.isFile(), () => false);
