import { closeSync, fstatSync, ftruncateSync, openSync, watch, type FSWatcher } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { systemClock, type Clock } from '../../core/clock.ts';
import { LineSplitter } from './lines.ts';
import type { LogLabels } from './types.ts';
import type { OffsetMark } from './writer.ts';

// Follows instance output files (<dataDir>/instances/<id>/stdout.log and stderr.log) into the
// log store. The instance writes straight to its file, so it never waits for us, and the file is
// the buffer: the tailer reads only while the store has room for it, and falls behind instead
// of dropping. Only when it is more than `maxLagBytes` behind does it give up on the backlog:
// the file is emptied and its lines counted (estimated) as dropped, so the disk is not filled.
//
// Offsets are committed in the same transaction as the lines before them, so a restarted
// control plane resumes exactly where the stored lines end: no duplicates, no gaps.
//
// Truncation: a file over `truncateAtBytes` that has been read to its end is cut to zero
// length. The instance opened it with O_APPEND, so its next write lands at the new end (0).
// The race: bytes appended between our size check and the truncate (two back-to-back system
// calls, microseconds, once every 64 MiB) are lost. A writer that does not use O_APPEND would
// keep writing at its old position and leave a hole of zero bytes: the driver must open with 'a'.

/** What the tailer needs from the store (LogStore has it). */
export interface TailSink {
  ingestLine(raw: string, labels: LogLabels, ts: number, truncated: boolean): boolean;
  room(): number;
  readonly capacity: number;
  markOffset(mark: OffsetMark): void;
  offset(file: string): { ino: number; offset: number } | undefined;
  countDropped(labels: LogLabels, lines: number, estimated?: boolean): void;
}

export interface TailerOptions {
  sink: TailSink;
  clock?: Clock;
  /** Polling, for when fs.watch misses a change (network filesystems, replaced files). Default 200 ms. */
  pollMs?: number;
  /** Longer lines are cut and marked truncated. Default 16 KiB. */
  maxLineBytes?: number;
  /** A fully read file bigger than this is truncated. Default 64 MiB. */
  truncateAtBytes?: number;
  /** Further behind than this, the tailer skips to the end. Default 64 MiB. */
  maxLagBytes?: number;
  /** Bytes per read. Default 256 KiB. */
  readBytes?: number;
}

interface Followed {
  file: string;
  labels: LogLabels;
  splitter: LineSplitter;
  ino: number;
  /** Next byte to read. */
  position: number;
  started: boolean;
  watcher?: FSWatcher;
  running?: Promise<void>;
  again: boolean;
  /** Bytes and lines read so far: the average line length, to estimate what a skip drops. */
  bytes: number;
  lines: number;
  stopped: boolean;
}

export class LogTailer {
  private readonly sink: TailSink;
  private readonly clock: Clock;
  private readonly maxLineBytes: number;
  private readonly truncateAt: number;
  private readonly maxLag: number;
  private readonly readBytes: number;
  private readonly files = new Map<string, Followed>();
  private readonly timer: NodeJS.Timeout;

  constructor(opts: TailerOptions) {
    this.sink = opts.sink;
    this.clock = opts.clock ?? systemClock;
    this.maxLineBytes = opts.maxLineBytes ?? 16 * 1024;
    this.truncateAt = opts.truncateAtBytes ?? 64 * 1024 * 1024;
    this.maxLag = opts.maxLagBytes ?? 64 * 1024 * 1024;
    this.readBytes = opts.readBytes ?? 256 * 1024;
    this.timer = setInterval(() => { for (const f of this.files.values()) this.kick(f); }, opts.pollMs ?? 200).unref();
  }

  /** Starts (or keeps) following `file`; it need not exist yet. */
  follow(file: string, labels: LogLabels): void {
    if (this.files.has(file)) return;
    const f: Followed = { file, labels, splitter: new LineSplitter(this.maxLineBytes), ino: 0, position: 0, started: false, again: false, stopped: false, bytes: 0, lines: 0 };
    this.files.set(file, f);
    this.kick(f);
  }

  /**
   * Reads what is left (as far as the store has room), stores the unfinished last line (its
   * writer is gone) and stops. `forget`: also drop the stored offset (the file is about to go).
   */
  async unfollow(file: string, opts: { forget?: boolean } = {}): Promise<void> {
    const f = this.files.get(file);
    if (!f) return;
    await this.run(f);
    f.stopped = true;
    f.watcher?.close();
    this.files.delete(file);
    const last = f.splitter.end();
    if (last) this.sink.ingestLine(last.text, f.labels, this.clock.now(), last.truncated);
    if (f.started) this.sink.markOffset({ file, ino: f.ino, offset: opts.forget ? -1 : f.position });
  }

  /** Stops following everything; offsets stay, so the next start resumes. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    const all = [...this.files.values()];
    this.files.clear();
    for (const f of all) {
      f.stopped = true;
      f.watcher?.close();
    }
    await Promise.all(all.map((f) => f.running));
  }

  following(): string[] {
    return [...this.files.keys()];
  }

  /** Reads now (the watcher and the poll call this). Safe to call at any time. */
  private kick(f: Followed): void {
    if (f.stopped) return;
    if (f.running) {
      f.again = true;
      return;
    }
    void this.run(f);
  }

  private run(f: Followed): Promise<void> {
    if (f.running) {
      f.again = true;
      return f.running;
    }
    f.running = (async () => {
      try {
        do {
          f.again = false;
          await this.read(f);
        } while (f.again && !f.stopped);
      } catch {
        // The file vanished or cannot be read for now: the next poll tries again.
      } finally {
        f.running = undefined;
      }
    })();
    return f.running;
  }

  private async read(f: Followed): Promise<void> {
    let handle;
    try {
      // The poll's common case, nothing new, costs one stat.
      const quick = await stat(f.file);
      if (f.started && quick.ino === f.ino && quick.size === f.position) return;
      handle = await open(f.file, 'r');
    } catch {
      return; // not there (yet)
    }
    try {
      // Everything below is about this one inode, even if the path is replaced meanwhile.
      const info = await handle.stat();
      if (!f.started) this.start(f, info.ino, info.size);
      if (!f.watcher) this.watch(f);
      if (info.ino !== f.ino || info.size < f.position) {
        // Replaced or cut by someone else: what is there now is new.
        f.ino = info.ino;
        f.position = 0;
        f.splitter.reset();
      }
      let buffer: Buffer | undefined;
      for (;;) {
        if (f.stopped) return;
        const { size } = await handle.stat();
        if (size - f.position > this.maxLag) {
          this.skip(f);
          continue;
        }
        if (size <= f.position) break;
        // Leave half the buffer to pipelines, events and the API: an instance flood waits in its file.
        if (this.sink.room() <= this.sink.capacity / 2) return;
        buffer ??= Buffer.allocUnsafe(this.readBytes);
        const { bytesRead } = await handle.read(buffer, 0, Math.min(this.readBytes, size - f.position), f.position);
        if (bytesRead === 0) break;
        f.position += bytesRead;
        const now = this.clock.now();
        const lines = f.splitter.push(buffer.subarray(0, bytesRead));
        for (const line of lines) this.sink.ingestLine(line.text, f.labels, now, line.truncated);
        f.bytes += bytesRead;
        f.lines += lines.length;
        this.sink.markOffset({ file: f.file, ino: f.ino, offset: f.position - f.splitter.pendingBytes });
      }
    } finally {
      await handle.close();
    }
    if (f.position >= this.truncateAt && f.splitter.pendingBytes === 0) this.truncate(f);
  }

  private start(f: Followed, ino: number, size: number): void {
    f.started = true;
    f.ino = ino;
    const stored = this.sink.offset(f.file);
    // Resume after the last stored line, unless the file was replaced or cut since.
    f.position = stored && stored.ino === ino && stored.offset <= size ? stored.offset : 0;
  }

  private watch(f: Followed): void {
    try {
      f.watcher = watch(f.file, { persistent: false }, () => this.kick(f));
      f.watcher.on('error', () => { f.watcher?.close(); f.watcher = undefined; });
    } catch {
      // Polling covers it.
    }
  }

  /**
   * Too far behind: empty the file and count what it held as dropped. Under a flood the file is
   * never read to its end, so the usual truncation would never come; and reading 64 MiB just
   * to count lines would let the flood run further ahead, so the count is an estimate from
   * this file's average line length.
   */
  private skip(f: Followed): void {
    let fd: number | undefined;
    try {
      fd = openSync(f.file, 'r+');
      const info = fstatSync(fd);
      if (info.ino !== f.ino) return;
      let lost = info.size - f.position + f.splitter.pendingBytes;
      try {
        ftruncateSync(fd, 0);
        f.position = 0;
      } catch {
        // Not ours to cut: at least stop reading what we will not store.
        f.position = info.size;
        lost = info.size - f.position;
      }
      f.splitter.reset();
      const lineBytes = f.lines > 0 ? f.bytes / f.lines : 100;
      const lines = Math.round(lost / lineBytes);
      if (lines > 0) this.sink.countDropped(f.labels, lines, true);
      this.sink.markOffset({ file: f.file, ino: f.ino, offset: f.position });
    } catch {
      // Gone: the next read starts over.
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  /** See the header: the size check and the truncate are adjacent synchronous calls. */
  private truncate(f: Followed): void {
    let fd: number | undefined;
    try {
      fd = openSync(f.file, 'r+');
      const info = fstatSync(fd);
      if (info.ino !== f.ino || info.size !== f.position) return; // more arrived: next time
      ftruncateSync(fd, 0);
      f.position = 0;
      this.sink.markOffset({ file: f.file, ino: f.ino, offset: 0 });
    } catch {
      // Not ours to cut (permissions) or gone: leave it.
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
}

/**
 * The files an instance writes once the driver splits its output: `<dataDir>/instances/<id>/`
 * stdout.log and stderr.log, each with its labels. `tailer.follow(file, labels)` for each when
 * the instance starts or is adopted; `unfollow(file, { forget: true })` before its directory goes.
 */
export function instanceOutputs(dataDir: string, instance: { id: string; app: string; env: string; release: string }): { file: string; labels: LogLabels }[] {
  const dir = path.join(dataDir, 'instances', instance.id);
  return (['stdout', 'stderr'] as const).map((stream) => ({
    file: path.join(dir, `${stream}.log`),
    labels: { app: instance.app, env: instance.env, release: instance.release, instance: instance.id, source: 'instance', stream },
  }));
}
