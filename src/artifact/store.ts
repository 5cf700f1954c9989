import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import * as tar from 'tar';
import { SlipwayError } from '../core/errors.ts';

export const MANIFEST_FILE = 'slipway-manifest.json';

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Content-addressed bundles: `<dir>/sha256/<hex>.tgz`. A bundle is written once, its name is its
 * digest, and every read re-hashes it, so a corrupted or swapped file is refused, never run.
 */
export class ArtifactStore {
  private readonly root: string;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'artifacts');
    mkdirSync(path.join(this.root, 'sha256'), { recursive: true });
    mkdirSync(path.join(this.root, 'unpacked'), { recursive: true });
    mkdirSync(path.join(this.root, 'tmp'), { recursive: true });
  }

  bundlePath(digest: string): string {
    return path.join(this.root, 'sha256', `${hexOf(digest)}.tgz`);
  }

  /** Packs `entries` (relative to `dir`) into a bundle; returns its digest and size. */
  async pack(dir: string, entries: string[]): Promise<{ digest: string; size: number }> {
    const tmp = path.join(this.root, 'tmp', `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.tgz`);
    // portable + fixed mtime: the same inputs give the same bytes, so the same digest.
    await tar.c({ gzip: true, cwd: dir, file: tmp, portable: true, mtime: new Date(0), noDirRecurse: false }, entries);
    const hex = await sha256File(tmp);
    const target = path.join(this.root, 'sha256', `${hex}.tgz`);
    if (existsSync(target)) rmSync(tmp);
    else renameSync(tmp, target);
    return { digest: `sha256:${hex}`, size: statSync(target).size };
  }

  async verify(digest: string): Promise<void> {
    const file = this.bundlePath(digest);
    if (!existsSync(file)) throw new SlipwayError('artifact.missing', `artifact ${digest} is not in the artifact store`, { status: 404 });
    const actual = await sha256File(file);
    if (actual !== hexOf(digest)) {
      throw new SlipwayError('artifact.corrupt', `artifact ${digest} failed verification: its bytes hash to sha256:${actual}`, {
        status: 500,
        hint: 'the bundle on disk was modified; redeploy from a run that rebuilds it',
      });
    }
  }

  /** The unpacked copy instances run from; unpacked once per digest, after verification. */
  async unpacked(digest: string): Promise<string> {
    const dir = path.join(this.root, 'unpacked', hexOf(digest));
    if (existsSync(dir)) return dir;
    await this.verify(digest);
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    await tar.x({ file: this.bundlePath(digest), cwd: tmp });
    renameSync(tmp, dir);
    return dir;
  }
}

function hexOf(digest: string): string {
  const match = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (!match) throw new SlipwayError('artifact.bad_digest', `"${digest}" is not an artifact digest`, { hint: 'digests look like sha256:<64 hex characters>' });
  return match[1];
}
