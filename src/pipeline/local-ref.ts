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
  const root = localPath(repo);
  if (root === undefined || branch.split('/').some((part) => part === '' || part === '.' || part === '..')) return undefined;
  const gitDir = await gitDirOf(root);
  if (!gitDir || (await isDir(path.join(gitDir, 'reftable')))) return undefined;
  try {
    return sha((await readFile(path.join(gitDir, 'refs', 'heads', branch), 'utf8')).trim());
  } catch (err) {
    // As git does: only a missing loose ref sends it to packed-refs; any other failure is no answer.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') return undefined;
  }
  const packed = await readFile(path.join(gitDir, 'packed-refs'), 'utf8').catch(() => '');
  const suffix = ` refs/heads/${branch}`;
  const line = packed.split('\n').find((l) => l.endsWith(suffix) && !l.startsWith('#') && !l.startsWith('^'));
  return line === undefined ? undefined : sha(line.slice(0, -suffix.length));
}

/**
 * An absolute path, or a file:// URL without a host, query or fragment (git reads those
 * differently from Node's URL rules: it ignores a host and keeps `#` and `?` in the path).
 */
function localPath(repo: string): string | undefined {
  if (!repo.startsWith('file://')) return path.isAbsolute(repo) ? repo : undefined;
  const url = URL.parse(repo);
  if (!url || url.host || url.search || url.hash) return undefined;
  try {
    return fileURLToPath(url);
  } catch {
    return undefined; // e.g. an encoded slash
  }
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
