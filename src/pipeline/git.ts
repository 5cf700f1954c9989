import { spawn } from 'node:child_process';
import { SlipwayError } from '../core/errors.ts';

export interface GitResult { code: number; stdout: string; stderr: string }

/**
 * Runs git with no prompts (a missing credential must fail, not hang the server). git runs in a
 * process group of its own, and a timeout ends the whole group: a remote helper
 * (git-remote-http, ssh) that hangs on a silent server holds git's output open after git itself
 * is gone, and the caller, a poll, would wait for it forever.
 */
export function git(args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd: opts.cwd,
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true', LC_ALL: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
    }, opts.timeoutMs ?? 120_000);
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.once('error', (err) => { clearTimeout(timer); reject(err); });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (timedOut) stderr += `\nfatal: no answer within ${(opts.timeoutMs ?? 120_000) / 1000}s`;
      resolve({ code: timedOut ? 1 : code ?? 1, stdout, stderr });
    });
  });
}

async function mustGit(args: string[], what: string, opts: { cwd?: string } = {}): Promise<string> {
  const r = await git(args, opts);
  if (r.code !== 0) throw new SlipwayError('git.failed', `${what} failed: ${gitReason(r.stderr)}`, { status: 502 });
  return r.stdout;
}

/** git's reason: its first fatal or error line (advice such as "Please make sure…" follows it), else its last line. */
const gitReason = (text: string) => {
  const lines = text.trim().split('\n').filter(Boolean);
  const reason = lines.find((l) => /^(fatal|error): /.test(l))?.replace(/^(fatal|error): /, '') ?? lines.at(-1);
  return reason ?? 'git exited with an error';
};

/** Checks, before anything is stored, that the repository answers and has the branch. */
export async function checkRemote(repo: string, branch: string): Promise<string> {
  const r = await git(['ls-remote', '--heads', repo, `refs/heads/${branch}`], { timeoutMs: 30_000 });
  if (r.code !== 0) {
    throw new SlipwayError('app.repo_unreachable', `cannot read git repository "${repo}": ${gitReason(r.stderr)}`, {
      hint: 'give a path or URL that `git ls-remote` can read from the server machine',
    });
  }
  const line = r.stdout.trim().split('\n').find(Boolean);
  if (!line) {
    const heads = await git(['ls-remote', '--heads', repo], { timeoutMs: 30_000 });
    const names = heads.stdout.trim().split('\n').filter(Boolean).map((l) => l.split('refs/heads/')[1]);
    throw new SlipwayError('app.branch_missing', `repository "${repo}" has no branch "${branch}"`, {
      hint: names.length ? `branches: ${names.slice(0, 10).join(', ')}; pick one with --branch` : 'the repository has no branches yet: push a commit first',
    });
  }
  return line.split(/\s+/)[0];
}

/** A bare mirror per app, so checkouts never touch the team's own working copy. */
export async function ensureMirror(repo: string, mirror: string): Promise<void> {
  const r = await git(['--git-dir', mirror, 'rev-parse', '--git-dir']);
  if (r.code === 0) return;
  await mustGit(['init', '--bare', '--quiet', mirror], 'git init');
  await mustGit(['--git-dir', mirror, 'remote', 'add', 'origin', repo], 'git remote add');
}

/** What a ref named by a user resolved to: the commit, and the branch when it named one. */
export interface Resolved { commit: string; branch: string | undefined }

/**
 * Fetches `ref` into the mirror: a branch (`main`, `refs/heads/main`), a tag (`v1.2`,
 * `refs/tags/v1.2`) or a commit (7–40 hex digits), tried in that order.
 */
export async function fetchRef(mirror: string, ref: string): Promise<Resolved> {
  const unknown = () => new SlipwayError('git.unknown_ref', `"${ref}" is not a branch, tag or commit of the repository`, {
    status: 404, hint: 'give a branch name, a tag or a commit sha that the repository has',
  });
  if (!/^[0-9a-f]{7,40}$/.test(ref)) {
    for (const prefix of ['refs/heads/', 'refs/tags/']) {
      const name = ref.startsWith(prefix) ? ref.slice(prefix.length) : ref;
      if (ref.startsWith('refs/') && !ref.startsWith(prefix)) continue;
      const fetched = await git(['--git-dir', mirror, 'fetch', '--quiet', '--no-tags', 'origin', `+${prefix}${name}:${prefix}${name}`]);
      if (fetched.code !== 0) {
        if (/couldn't find remote ref/.test(fetched.stderr)) continue;
        throw new SlipwayError('git.failed', `git fetch ${ref} failed: ${gitReason(fetched.stderr)}`, { status: 502 });
      }
      const commit = (await mustGit(['--git-dir', mirror, 'rev-parse', `${prefix}${name}^{commit}`], 'git rev-parse')).trim();
      return { commit, branch: prefix === 'refs/heads/' ? name : undefined };
    }
    throw unknown();
  }
  const local = await git(['--git-dir', mirror, 'rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  if (local.code === 0) return { commit: local.stdout.trim(), branch: undefined };
  await mustGit(['--git-dir', mirror, 'fetch', '--quiet', '--no-tags', 'origin', '+refs/heads/*:refs/heads/*'], 'git fetch');
  const again = await git(['--git-dir', mirror, 'rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  if (again.code !== 0) throw unknown();
  return { commit: again.stdout.trim(), branch: undefined };
}

export async function commitInfo(mirror: string, commit: string): Promise<{ author: string; message: string }> {
  const out = await mustGit(['--git-dir', mirror, 'log', '-1', '--format=%an <%ae>%x00%s', commit], 'git log');
  const [author, message] = out.trim().split('\0');
  return { author, message };
}

/** Exports exactly `commit` into `dir` (no .git), via git archive piped into tar. */
export function checkout(mirror: string, commit: string, dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const archive = spawn('git', ['--git-dir', mirror, 'archive', '--format=tar', commit], { stdio: ['ignore', 'pipe', 'pipe'] });
    const untar = spawn('tar', ['-x', '-C', dir], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    archive.stderr.on('data', (d) => { stderr += d; });
    untar.stderr.on('data', (d) => { stderr += d; });
    archive.stdout.pipe(untar.stdin);
    archive.once('error', reject);
    untar.once('error', reject);
    untar.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`checkout of ${commit} failed: ${stderr.trim()}`))));
  });
}
