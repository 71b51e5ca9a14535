/** Entries per chunk: a chunk is dropped whole once everything in it is behind the reader. */
const CHUNK = 4096;
/**
 * `seq` as a number when it is a decimal that survives a round trip through a double (up to 15
 * digits, no leading zero: line numbers, Kafka offsets), else NaN. Per record, so no regex.
 */
export function packSeq(seq: string): number {
  const n = seq.length;
  if (n === 0 || n > 15 || (n > 1 && seq.charCodeAt(0) === 48)) return Number.NaN;
  let v = 0;
  for (let k = 0; k < n; k++) {
    const d = seq.charCodeAt(k) - 48;
    if (d < 0 || d > 9) return Number.NaN;
    v = v * 10 + d;
  }
  return v;
}

class Chunk {
  /** Sequences as numbers while every one of them packs (NaN marks none written yet). */
  nums: Float64Array | undefined = new Float64Array(CHUNK);
  /** Sequences as strings once one of them did not pack (Kinesis and DynamoDB sequence numbers). */
  strs: string[] | undefined;
  readonly flags = new Uint8Array(CHUNK);
  length = 0;

  push(seq: string): void {
    const i = this.length++;
    if (this.nums) {
      const n = packSeq(seq);
      if (!Number.isNaN(n)) {
        this.nums[i] = n;
        return;
      }
      this.strs = Array.from(this.nums.subarray(0, i), String);
      this.nums = undefined;
    }
    this.strs!.push(seq);
  }

  seq(i: number): string {
    return this.nums ? String(this.nums[i]) : this.strs![i]!;
  }
}

/**
 * An append-only log of one shard's sequence numbers with a byte of flags each, dropped from the
 * front as a reader moves on. Small decimal sequences (file lines, Kafka offsets) are kept as
 * doubles: a shard's log can hold every record since its oldest open batch, and as one string
 * per record that was the largest thing on the heap.
 */
export class SeqLog {
  private chunks: Chunk[] = [];
  /** Index of the first entry of chunks[0]. */
  private base = 0;
  private count = 0;

  /** Index the next push gets. */
  get end(): number {
    return this.count;
  }

  /** Lowest index still held. */
  get start(): number {
    return this.base;
  }

  push(seq: string): number {
    let last = this.chunks[this.chunks.length - 1];
    if (!last || last.length === CHUNK) this.chunks.push((last = new Chunk()));
    last.push(seq);
    return this.count++;
  }

  has(index: number): boolean {
    return index >= this.base && index < this.count;
  }

  seq(index: number): string {
    const j = index - this.base;
    return this.chunks[j >>> 12]!.seq(j & (CHUNK - 1));
  }

  flag(index: number): number {
    const j = index - this.base;
    return this.chunks[j >>> 12]!.flags[j & (CHUNK - 1)]!;
  }

  setFlag(index: number, value: number): void {
    const j = index - this.base;
    this.chunks[j >>> 12]!.flags[j & (CHUNK - 1)] = value;
  }

  /** Forgets the whole chunks that lie entirely below `index`. */
  dropBelow(index: number): void {
    const whole = Math.floor((Math.min(index, this.count) - this.base) / CHUNK);
    if (whole <= 0) return;
    this.chunks = this.chunks.slice(whole);
    this.base += whole * CHUNK;
  }
}
