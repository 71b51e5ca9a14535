/**
 * What the Kafka source knows about its partitions across rebalances, kept apart from kafkajs so
 * the rules can be read (and tested) in one place:
 *
 * - A commit is sent only for a partition assigned to this member now, and only forwards.
 * - kafkajs restarts every partition from its committed offset after each rebalance, so records
 *   handed on before it (still in the pipeline, or delivered but not yet committed) come again;
 *   they are skipped, because the pipeline delivers what it holds either way.
 * - A partition lost and later regained may have been moved on by another member meanwhile: a
 *   commit for a record handed on in the earlier ownership is stale and is not sent (it could
 *   move the group's offset backwards). Those records are in the lake or the DLQ already; at
 *   worst they are read once more (raw layer at least once, curated layer deduplicated).
 *
 * Offsets are "next offset to read" (record offset + 1), the way Kafka commits them.
 */
export type CommitDecision =
  /** Send it. */
  | 'send'
  /** Not assigned to this member: another member owns the partition now. */
  | 'unassigned'
  /** Covers only records handed on during an earlier ownership of a regained partition. */
  | 'stale'
  /** Already committed this far. */
  | 'behind'
  /** A rebalance is under way: keep it and send it once the new assignment is known. */
  | 'defer';

export interface AssignmentChange {
  readonly gained: readonly number[];
  readonly lost: readonly number[];
  readonly retained: readonly number[];
}

export class PartitionBook {
  private readonly assigned = new Set<number>();
  /** Highest offset handed on, per partition, over every ownership. */
  private readonly emitted = new Map<number, bigint>();
  /** Commits of a next offset at or below this are from an earlier ownership. */
  private readonly floor = new Map<number, bigint>();
  /** Next offset committed during the current ownership. */
  private readonly committed = new Map<number, bigint>();
  /** Commits that met a rebalance, to send if the partition stays ours. */
  private readonly pending = new Map<number, bigint>();
  private rebalancing = false;

  get partitions(): readonly number[] {
    return [...this.assigned].sort((a, b) => a - b);
  }

  get isRebalancing(): boolean {
    return this.rebalancing;
  }

  isAssigned(partition: number): boolean {
    return this.assigned.has(partition);
  }

  /** The group is rejoining: commits wait for the new assignment. */
  beginRebalance(): void {
    this.rebalancing = true;
  }

  /** The member's assignment after a join; ends a rebalance. */
  assign(partitions: readonly number[]): AssignmentChange {
    const next = new Set(partitions);
    const gained = partitions.filter((p) => !this.assigned.has(p));
    const lost = [...this.assigned].filter((p) => !next.has(p));
    const retained = partitions.filter((p) => this.assigned.has(p));
    for (const p of lost) {
      this.assigned.delete(p);
      this.committed.delete(p);
      this.pending.delete(p);
    }
    for (const p of gained) {
      this.assigned.add(p);
      this.floor.set(p, (this.emitted.get(p) ?? -1n) + 1n);
      this.committed.delete(p);
      this.pending.delete(p);
    }
    this.rebalancing = false;
    return { gained, lost, retained };
  }

  /** Whether a record was handed on already (it comes again after a rebalance). */
  wasEmitted(partition: number, offset: bigint): boolean {
    const h = this.emitted.get(partition);
    return h !== undefined && offset <= h;
  }

  markEmitted(partition: number, offset: bigint): void {
    const h = this.emitted.get(partition);
    if (h === undefined || offset > h) this.emitted.set(partition, offset);
  }

  decide(partition: number, nextOffset: bigint): CommitDecision {
    if (!this.assigned.has(partition)) return 'unassigned';
    if (nextOffset <= (this.floor.get(partition) ?? 0n)) return 'stale';
    const c = this.committed.get(partition);
    if (c !== undefined && nextOffset <= c) return 'behind';
    if (this.rebalancing) return 'defer';
    return 'send';
  }

  committedTo(partition: number, nextOffset: bigint): void {
    if (!this.assigned.has(partition)) return;
    const c = this.committed.get(partition);
    if (c === undefined || nextOffset > c) this.committed.set(partition, nextOffset);
    const p = this.pending.get(partition);
    if (p !== undefined && p <= nextOffset) this.pending.delete(partition);
  }

  committedOffset(partition: number): bigint | undefined {
    return this.committed.get(partition);
  }

  defer(partition: number, nextOffset: bigint): void {
    if (!this.assigned.has(partition)) return;
    const p = this.pending.get(partition);
    if (p === undefined || nextOffset > p) this.pending.set(partition, nextOffset);
  }

  get hasPending(): boolean {
    return this.pending.size > 0;
  }

  /**
   * Deferred commits that can go out now (the partition stayed ours); they leave the book.
   * Those still waiting for a rebalance stay; those no longer worth sending are dropped.
   */
  takePending(): Array<[partition: number, nextOffset: bigint]> {
    const out: Array<[number, bigint]> = [];
    for (const [p, n] of [...this.pending]) {
      const d = this.decide(p, n);
      if (d === 'defer') continue;
      this.pending.delete(p);
      if (d === 'send') out.push([p, n]);
    }
    return out;
  }
}
