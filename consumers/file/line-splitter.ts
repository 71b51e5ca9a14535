const LF = 0x0a;
const CR = 0x0d;

/**
 * Splits a byte stream into lines without decoding it, so a line holding invalid UTF-8 reaches
 * the DLQ exactly as it was written. Lines end at '\n'; a '\r' just before it is dropped, so
 * CRLF files give the same lines as LF files. Line numbers count every line, empty ones too, so
 * they stay the same as what an editor shows and what a checkpoint names.
 *
 * Memory stays bounded whatever the input: of a line longer than `maxLineBytes`, only the first
 * `maxLineBytes + 1` bytes are kept (the one extra byte lets a trailing '\r' be told apart from
 * content); the rest is counted and dropped. Such a line comes out as its first `maxLineBytes`
 * bytes with `size` set to its real length, so `size > data.length` marks it as truncated.
 *
 * Usage: `feed(chunk)`, then `next()` until it returns undefined (the chunk is used up), reading
 * `lineNo` and `size` after each line; at end of input, `end()` returns the last unterminated line.
 */
export class LineSplitter {
  /** 1-based number of the line `next()`/`end()` returned last. */
  lineNo = 0;
  /** Byte length of that line without its terminator; larger than the data when truncated. */
  size = 0;

  private chunk: Buffer | undefined;
  private pos = 0;
  /** Copies of the start of a line that crosses chunk boundaries (never views of whole chunks). */
  private parts: Buffer[] = [];
  private kept = 0;
  /** Real length so far of the line being carried, including a possible trailing '\r'. */
  private carried = 0;
  private lastByte = -1;

  constructor(private readonly maxLineBytes: number) {
    if (!Number.isInteger(maxLineBytes) || maxLineBytes < 1) throw new RangeError(`maxLineBytes must be a positive integer, got ${maxLineBytes}`);
  }

  /** Bytes held for an unfinished line: at most maxLineBytes + 1. */
  get bufferedBytes(): number {
    return this.kept;
  }

  feed(chunk: Buffer): void {
    if (this.chunk !== undefined && this.pos < this.chunk.length) throw new Error('LineSplitter.feed before the previous chunk was used up');
    this.chunk = chunk;
    this.pos = 0;
  }

  /**
   * The next complete line of the current chunk, or undefined once the chunk is used up. A line
   * that lies wholly inside one chunk is a view of it (no copy): the hot path.
   */
  next(): Buffer | undefined {
    const chunk = this.chunk;
    if (chunk === undefined) return undefined;
    const start = this.pos;
    const nl = chunk.indexOf(LF, start);
    if (nl === -1) {
      this.carry(chunk, start, chunk.length);
      this.chunk = undefined;
      return undefined;
    }
    this.pos = nl + 1;
    this.lineNo++;
    if (this.carried === 0) {
      const end = nl > start && chunk[nl - 1] === CR ? nl - 1 : nl;
      const size = end - start;
      this.size = size;
      // A long line inside one big chunk is copied so the envelope does not pin the chunk.
      return size <= this.maxLineBytes ? chunk.subarray(start, end) : Buffer.from(chunk.subarray(start, start + this.maxLineBytes));
    }
    this.carry(chunk, start, nl);
    return this.finishCarried();
  }

  /** The last line when the input does not end with '\n', else undefined. */
  end(): Buffer | undefined {
    if (this.chunk !== undefined && this.pos < this.chunk.length) throw new Error('LineSplitter.end before the last chunk was used up');
    this.chunk = undefined;
    if (this.carried === 0) return undefined;
    this.lineNo++;
    return this.finishCarried();
  }

  private carry(chunk: Buffer, from: number, to: number): void {
    const n = to - from;
    if (n === 0) return;
    this.carried += n;
    this.lastByte = chunk[to - 1] ?? -1;
    const room = this.maxLineBytes + 1 - this.kept;
    if (room <= 0) return;
    const take = Math.min(room, n);
    this.parts.push(Buffer.from(chunk.subarray(from, from + take)));
    this.kept += take;
  }

  private finishCarried(): Buffer {
    const size = this.lastByte === CR ? this.carried - 1 : this.carried;
    const joined = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.kept);
    this.parts = [];
    this.kept = 0;
    this.carried = 0;
    this.lastByte = -1;
    this.size = size;
    return joined.subarray(0, Math.min(size, this.maxLineBytes));
  }
}
