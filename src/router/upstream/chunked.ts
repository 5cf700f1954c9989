import { MalformedResponse } from './head.ts';

// Decoding a chunked body (RFC 9112 §7.1) as bytes arrive, in pieces of any size. The client
// side gets the data re-chunked by node:http, so sizes, extensions and trailers end here.

// Decoder states (numbers: Node's type stripping has no enums).
const SIZE = 0, DATA = 1, DATA_END = 2, TRAILER = 3, DONE = 4;

/** A size line, an extension or a trailer field longer than this is not a real backend's. */
const MAX_LINE = 8 * 1024;

export class ChunkedDecoder {
  private state: number = SIZE;
  private remaining = 0;
  private line = '';

  get done(): boolean {
    return this.state === DONE;
  }

  /**
   * Consumes `buf` from `start`, handing each run of body bytes to `onData`. Returns where the
   * body ended in `buf` once the last chunk and the trailer section are through, else -1.
   */
  push(buf: Buffer, start: number, onData: (data: Buffer) => void): number {
    let pos = start;
    while (pos < buf.length) {
      switch (this.state) {
        case DATA: {
          const end = Math.min(buf.length, pos + this.remaining);
          onData(buf.subarray(pos, end));
          this.remaining -= end - pos;
          pos = end;
          if (this.remaining === 0) this.state = DATA_END;
          break;
        }
        case SIZE:
        case DATA_END:
        case TRAILER: {
          const lf = buf.indexOf(10, pos);
          const piece = buf.toString('latin1', pos, lf === -1 ? buf.length : lf);
          if (this.line.length + piece.length > MAX_LINE) throw new MalformedResponse('chunked body: line too long');
          if (lf === -1) {
            this.line += piece;
            return -1;
          }
          const line = this.line + piece;
          this.line = '';
          pos = lf + 1;
          if (!line.endsWith('\r')) throw new MalformedResponse('chunked body: line not ended by CRLF');
          if (this.endLine(line.slice(0, -1))) return pos;
          break;
        }
        case DONE:
          return pos;
      }
    }
    return -1;
  }

  /** Acts on one complete line; true once the body is over. */
  private endLine(line: string): boolean {
    if (this.state === DATA_END) {
      if (line !== '') throw new MalformedResponse('chunked body: data longer than its chunk size');
      this.state = SIZE;
    } else if (this.state === SIZE) {
      const size = /^([0-9a-fA-F]{1,12})[ \t]*(?:;.*)?$/.exec(line);
      if (!size) throw new MalformedResponse(`chunked body: bad chunk size ${JSON.stringify(line.slice(0, 40))}`);
      this.remaining = parseInt(size[1], 16);
      this.state = this.remaining === 0 ? TRAILER : DATA;
    } else if (line === '') {
      this.state = DONE; // trailer fields, if any, are dropped
    }
    return this.state === DONE;
  }
}
