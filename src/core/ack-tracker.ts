import type { Position } from './position.js';

/**
 * Tracks, for one shard, which received records are delivered (written to the lake or the DLQ)
 * and finds the highest position below which everything is delivered: the only position that is
 * safe to checkpoint. Records are numbered in arrival order, which is stream order.
 */
export class ShardAckState {
  /** Index of the first record not yet known to be contiguously delivered. */
  private base = 0;
  /** positions[i - offset] and done[i - offset] hold record i, for i >= offset. */
  private offset = 0;
  private positions: Position[] = [];
  private done: boolean[] = [];
  private lastContiguous: Position | undefined;

  get received(): number {
    return this.offset + this.positions.length;
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

  receive(position: Position): number {
    this.positions.push(position);
    this.done.push(false);
    return this.offset + this.positions.length - 1;
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
    this.lastContiguous = this.positions[this.base - 1 - this.offset];
    this.compact();
    return true;
  }

  private compact(): void {
    const drop = this.base - this.offset;
    if (drop < 4096 || drop < this.positions.length / 2) return;
    this.positions = this.positions.slice(drop);
    this.done = this.done.slice(drop);
    this.offset = this.base;
  }
}
