import type { Position } from './position.js';
import { SeqLog } from './seq-log.js';

/**
 * Tracks, for one shard, which received records are delivered (written to the lake or the DLQ)
 * and finds the highest position below which everything is delivered: the only position that is
 * safe to checkpoint. Records are numbered in arrival order, which is stream order.
 */
export class ShardAckState {
  /** Index of the first record not yet known to be contiguously delivered. */
  private base = 0;
  /**
   * Record i's sequence and delivered flag. Only the sequence is kept, not the Position: one open
   * batch can hold the contiguous mark back while hundreds of thousands of later records arrive.
   */
  private readonly log = new SeqLog();
  /** Sub-sequences (KPL-aggregated records), by record index; empty for most streams. */
  private subs = new Map<number, number>();
  private shard: Pick<Position, 'source' | 'stream' | 'shard'> | undefined;
  private lastContiguous: Position | undefined;

  get received(): number {
    return this.log.end;
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
    const index = this.log.push(position.seq);
    if (position.sub !== undefined) this.subs.set(index, position.sub);
    return index;
  }

  /** Marks records delivered; returns true when the contiguous position moved. */
  deliver(indices: Iterable<number>): boolean {
    for (const i of indices) if (this.log.has(i)) this.log.setFlag(i, 1);
    const start = this.base;
    while (this.base < this.log.end && this.log.flag(this.base) === 1) this.base++;
    if (this.base === start) return false;
    this.lastContiguous = this.positionOf(this.base - 1);
    this.compact();
    return true;
  }

  private positionOf(index: number): Position {
    const seq = this.log.seq(index);
    const sub = this.subs.get(index);
    return sub === undefined ? { ...this.shard!, seq } : { ...this.shard!, seq, sub };
  }

  private compact(): void {
    const before = this.log.start;
    this.log.dropBelow(this.base);
    if (this.log.start !== before && this.subs.size > 0) for (const i of this.subs.keys()) if (i < this.log.start) this.subs.delete(i);
  }
}
