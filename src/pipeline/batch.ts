import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import { ChangeColumns } from '../core/change-columns.js';
import type { InventoryChange } from '../core/model.js';
import type { OutputBatch, PartitionRef } from '../core/ports.js';
import type { Position } from '../core/position.js';

export interface BatchItem {
  readonly change: InventoryChange;
  readonly position: Position;
  readonly shardKey: string;
  /** Arrival index within the shard, for ack tracking. */
  readonly index: number;
  /** Estimated bytes this record holds in memory. */
  readonly size: number;
  readonly partition: PartitionRef;
}

export type FlushReason = 'records' | 'bytes' | 'age' | 'budget' | 'flush' | 'complete';

export interface PendingBatch {
  readonly batch: OutputBatch & { readonly records: ChangeColumns };
  readonly shardKey: string;
  readonly indices: readonly number[];
  readonly reason: FlushReason;
  /** Scheduler time at which the batch's first record arrived. */
  readonly openedAt: number;
}

export interface BatcherOptions {
  readonly maxRecords: number;
  readonly maxBytes: number;
  readonly maxAgeMs: number;
  /** All open batches together; above it the largest is flushed early. */
  readonly memoryBudgetBytes: number;
  /**
   * Records in all open batches together; above it the largest is flushed early. Must stay
   * below the sources' in-flight limit: were every in-flight record in an open batch, sources
   * would wait for deliveries that only max age would ever start.
   */
  readonly maxBufferedRecords?: number;
}

/** Flush the open batches of these shards (all when omitted); `done` runs once they are emitted. */
export interface FlushRequest {
  readonly shardKeys?: readonly string[];
  readonly done: () => void;
}

interface OpenBatch {
  readonly key: string;
  readonly shardKey: string;
  readonly partition: PartitionRef;
  readonly records: ChangeColumns;
  readonly indices: number[];
  readonly first: Position;
  last: Position;
  bytes: number;
  readonly openedAt: number;
  timer?: Subscription;
  flushed?: boolean;
}

/**
 * Micro-batches per (partition, shard): one shard per batch so the object key can name the
 * position range it holds, the way the Kafka Connect S3 sink names its files. Flushes on
 * max records, max bytes, max age, and the global memory budget (largest batch first).
 */
export function batchByPartition(
  opts: BatcherOptions,
  control$?: Observable<FlushRequest>,
  scheduler: SchedulerLike = asyncScheduler,
): OperatorFunction<readonly BatchItem[], PendingBatch> {
  return (source) =>
    new Observable<PendingBatch>((subscriber) => {
      const open = new Map<string, OpenBatch>();
      let buffered = 0;
      let bufferedRecords = 0;
      const maxBufferedRecords = opts.maxBufferedRecords ?? Number.POSITIVE_INFINITY;

      const flush = (b: OpenBatch, reason: FlushReason) => {
        if (open.get(b.key) !== b) return;
        open.delete(b.key);
        b.flushed = true;
        b.timer?.unsubscribe();
        buffered -= b.bytes;
        bufferedRecords -= b.records.length;
        subscriber.next({
          batch: { partition: b.partition, records: b.records, first: b.first, last: b.last, bytes: b.bytes },
          shardKey: b.shardKey,
          indices: b.indices,
          reason,
          openedAt: b.openedAt,
        });
      };

      const flushWhere = (pred: (b: OpenBatch) => boolean, reason: FlushReason) => {
        for (const b of [...open.values()]) if (pred(b)) flush(b, reason);
      };

      // Consecutive records mostly go to the same batch: skip building its key for them.
      let lastItem: BatchItem | undefined;
      let lastBatch: OpenBatch | undefined;
      const add = (item: BatchItem) => {
        let b = lastItem && lastBatch && item.partition === lastItem.partition && item.shardKey === lastItem.shardKey && !lastBatch.flushed ? lastBatch : undefined;
        const key = b ? b.key : `${item.partition.path}\u0000${item.shardKey}`;
        b ??= open.get(key);
        if (!b) {
          b = {
            key,
            shardKey: item.shardKey,
            partition: item.partition,
            records: new ChangeColumns(),
            indices: [],
            first: item.position,
            last: item.position,
            bytes: 0,
            openedAt: scheduler.now(),
          };
          const batch = b;
          open.set(key, b);
          b.timer = scheduler.schedule(() => flush(batch, 'age'), opts.maxAgeMs);
        }
        lastItem = item;
        lastBatch = b;
        b.records.push(item.change);
        b.indices.push(item.index);
        b.last = item.position;
        b.bytes += item.size;
        buffered += item.size;
        bufferedRecords++;
        if (b.records.length >= opts.maxRecords) flush(b, 'records');
        else if (b.bytes >= opts.maxBytes) flush(b, 'bytes');
      };

      const enforceBudget = () => {
        while ((buffered > opts.memoryBudgetBytes || bufferedRecords > maxBufferedRecords) && open.size > 0) {
          let largest: OpenBatch | undefined;
          for (const b of open.values()) if (!largest || b.bytes > largest.bytes) largest = b;
          flush(largest!, 'budget');
        }
      };

      const controlSub = control$?.subscribe((req) => {
        const keys = req.shardKeys ? new Set(req.shardKeys) : undefined;
        flushWhere((b) => !keys || keys.has(b.shardKey), 'flush');
        req.done();
      });

      const sub = source.subscribe({
        next: (items) => {
          for (const item of items) add(item);
          enforceBudget();
        },
        error: (err) => {
          flushWhere(() => true, 'complete');
          subscriber.error(err);
        },
        complete: () => {
          flushWhere(() => true, 'complete');
          subscriber.complete();
        },
      });

      return () => {
        sub.unsubscribe();
        controlSub?.unsubscribe();
        for (const b of open.values()) b.timer?.unsubscribe();
      };
    });
}
