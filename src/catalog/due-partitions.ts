import type { CommittedPartition, PartitionRef } from '../core/ports.js';

const HOUR_MS = 3_600_000;

/**
 * End of a partition's event-time range (exclusive): the end of its dt/hour, or, for a partition
 * without parseable dt/hour values, the end of the hour of the latest event it received.
 */
export function partitionEndMs(part: PartitionRef, maxEventTime: number): number {
  const dt = part.values.dt;
  const hour = part.values.hour;
  if (dt !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(dt) && hour !== undefined && /^\d{1,2}$/.test(hour)) {
    const start = Date.parse(`${dt}T00:00:00Z`);
    if (!Number.isNaN(start)) return start + (Number(hour) + 1) * HOUR_MS;
  }
  return Math.floor(maxEventTime / HOUR_MS) * HOUR_MS + HOUR_MS;
}

interface Waiting {
  readonly part: CommittedPartition;
  readonly endMs: number;
}

/**
 * Partitions waiting for the event-time watermark: one is due once the watermark has passed its
 * end plus the allowed lateness, i.e. no more on-time events can arrive for it. An event later
 * than that commits the partition again, which makes it due again at once, so the curated layer
 * catches up with late data instead of missing it.
 */
export class DuePartitions {
  private readonly waiting = new Map<string, Waiting>();

  constructor(private readonly allowedLatenessMs: number) {}

  get size(): number {
    return this.waiting.size;
  }

  add(parts: readonly CommittedPartition[]): void {
    for (const p of parts) {
      const key = `${p.table}/${p.partition.path}`;
      const prev = this.waiting.get(key);
      const maxEventTime = Math.max(p.maxEventTime, prev?.part.maxEventTime ?? -Infinity);
      const minEventTime = Math.min(p.minEventTime, prev?.part.minEventTime ?? Infinity);
      // Objects are not needed to decide or run anything; dropping them keeps a long wait small.
      const merged: CommittedPartition = { ...p, minEventTime, maxEventTime, objects: [] };
      this.waiting.set(key, { part: merged, endMs: partitionEndMs(p.partition, maxEventTime) });
    }
  }

  /** Removes and returns the partitions the watermark has released, oldest first. */
  takeDue(watermarkMs: number): CommittedPartition[] {
    const due: Waiting[] = [];
    for (const [key, w] of this.waiting) {
      if (w.endMs + this.allowedLatenessMs <= watermarkMs) {
        due.push(w);
        this.waiting.delete(key);
      }
    }
    return due.sort((a, b) => a.endMs - b.endMs).map((w) => w.part);
  }

  /** Removes and returns everything (shutdown). */
  takeAll(): CommittedPartition[] {
    return this.takeDue(Infinity);
  }
}
