import type { Position } from './position.js';

/**
 * Tracks, for one shard, which received records are delivered (written to the lake or the DLQ)
 * and finds the highest position below which everything is delivered: the only position that is
 * safe to checkpoint. Records are numbered in arrival order, which is stream order.
 */
export class ShardAckState {
  /** Index of the first record not yet known to be contiguously delivered. */
  private base = 0;
  /**
   * seqs[i - offset] and done[i - offset] hold record i, for i >= offset. Only the sequence is
   * kept, not the Position: one open batch can hold the contiguous mark back while hundreds of
   * thousands of later records arrive, and a Position object per record was most of the heap.
   */
  private offset = 0;
  private seqs: string[] = [];
  private done: boolean[] = [];
  /** Sub-sequences (KPL-aggregated records), by record index; empty for most streams. */
  private subs = new Map<number, number>();
  private shard: Pick<Position, 'source' | 'stream' | 'shard'> | undefined;
  private lastContiguous: Position | undefined;

  get received(): number {
    return this.offset + this.seqs.length;
  }

  /** Records received and not yet contiguously delivered (the checkpoint lag, in records). */
  get pending(): number {
    return this.received - this.base;
  }

  /** The position a checkpoint may cover now, if any record was delivered. */
  get contiguous(): Position | undefined {
    return this.lastContiguous;
  }

  /** Index of the last contiguously delivered record, -1 before any. */
  get contiguousIndex(): number {
    return this.base - 1;
  }

  /** Numbers the next record of this shard (all positions given must be of one shard). */
  receive(position: Position): number {
    this.shard ??= { source: position.source, stream: position.stream, shard: position.shard };
    const index = this.offset + this.seqs.length;
    this.seqs.push(position.seq);
    this.done.push(false);
    if (position.sub !== undefined) this.subs.set(index, position.sub);
    return index;
  }

  /** Marks records delivered; returns true when the contiguous position moved. */
  deliver(indices: Iterable<number>): boolean {
    for (const i of indices) {
      const j = i - this.offset;
      if (j >= 0 && j < this.done.length) this.done[j] = true;
    }
    const start = this.base;
    while (this.base - this.offset < this.done.length && this.done[this.base - this.offset]) this.base++;
    if (this.base === start) return false;
    this.lastContiguous = this.positionOf(this.base - 1);
    this.compact();
    return true;
  }

  private positionOf(index: number): Position {
    const seq = this.seqs[index - this.offset]!;
    const sub = this.subs.get(index);
    return sub === undefined ? { ...this.shard!, seq } : { ...this.shard!, seq, sub };
  }

  private compact(): void {
    const drop = this.base - this.offset;
    if (drop < 4096 || drop < this.seqs.length / 2) return;
    this.seqs = this.seqs.slice(drop);
    this.done = this.done.slice(drop);
    if (this.subs.size > 0) for (const i of this.subs.keys()) if (i < this.base) this.subs.delete(i);
    this.offset = this.base;
  }
}
