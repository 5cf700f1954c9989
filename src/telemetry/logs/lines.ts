// Splits a byte stream into lines. Pure. Works on bytes, not text, so a UTF-8 character split
// across two reads is decoded whole, and so "how far have we consumed" is a file offset.

export interface Line {
  text: string;
  truncated: boolean;
}

const NL = 0x0a;

export class LineSplitter {
  private readonly maxBytes: number;
  private pending: Buffer[] = [];
  private pendingLength = 0;
  /** Inside a line already emitted (cut at maxBytes): drop bytes until its end. */
  private skipping = false;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /**
   * Bytes of an unfinished line held back. A reader that persists its position stores
   * `offset - pendingBytes`, so after a restart the unfinished line is read again, whole.
   */
  get pendingBytes(): number {
    return this.pendingLength;
  }

  push(chunk: Buffer): Line[] {
    const out: Line[] = [];
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NL, start);
      const end = nl === -1 ? chunk.length : nl;
      if (this.skipping) {
        if (nl !== -1) this.skipping = false;
      } else if (this.pendingLength + (end - start) > this.maxBytes) {
        // Too long: keep the head, mark it, and skip the rest of the line.
        const head = Buffer.concat([...this.pending, chunk.subarray(start, end)], this.pendingLength + (end - start)).subarray(0, this.maxBytes);
        this.emit(out, head, true);
        this.clear();
        this.skipping = nl === -1;
      } else if (nl === -1) {
        this.pending.push(chunk.subarray(start));
        this.pendingLength += chunk.length - start;
      } else if (this.pendingLength > 0) {
        this.pending.push(chunk.subarray(start, end));
        this.emit(out, Buffer.concat(this.pending, this.pendingLength + (end - start)), false);
        this.clear();
      } else {
        this.emit(out, chunk.subarray(start, end), false);
      }
      if (nl === -1) break;
      start = nl + 1;
    }
    // Held bytes must not pin the (large) read buffer they were sliced from.
    if (this.pending.length > 0 && this.pending.some((b) => b.buffer === chunk.buffer)) {
      const copy = Buffer.concat(this.pending, this.pendingLength);
      this.pending = [copy];
    }
    return out;
  }

  /** The unfinished last line, if any (the writer is gone: nothing will complete it). */
  end(): Line | undefined {
    const out: Line[] = [];
    if (this.pendingLength > 0) this.emit(out, Buffer.concat(this.pending, this.pendingLength), false);
    this.reset();
    return out[0];
  }

  reset(): void {
    this.clear();
    this.skipping = false;
  }

  private clear(): void {
    this.pending = [];
    this.pendingLength = 0;
  }

  private emit(out: Line[], bytes: Buffer, truncated: boolean): void {
    let text = bytes.toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    // A cut through a multi-byte character decodes as U+FFFD: drop it.
    if (truncated && text.endsWith('\uFFFD')) text = text.slice(0, -1);
    if (!/\S/.test(text)) return;
    out.push({ text, truncated });
  }
}
