import { describe, expect, it } from 'vitest';
import { DuePartitions, partitionEndMs } from '../../src/catalog/due-partitions.js';
import { HOUR, T0, hourPartition } from './glue-fixtures.js';

describe('partitions released by the event-time watermark', () => {
  it('ends a dt/hour partition at the end of its hour, whatever extra keys follow', () => {
    expect(partitionEndMs(hourPartition(0).partition, 0)).toBe(T0 + HOUR);
    expect(partitionEndMs(hourPartition(23, { warehouse_id: 'WH-1' }).partition, 0)).toBe(T0 + 24 * HOUR);
    // Without dt/hour values, the hour of the latest event decides.
    expect(partitionEndMs({ path: 'x=1', values: { x: '1' } }, T0 + 90 * 60_000)).toBe(T0 + 2 * HOUR);
  });

  it('releases a partition once the watermark passes its end plus the lateness, oldest first, once', () => {
    const due = new DuePartitions(600_000);
    due.add([hourPartition(2), hourPartition(0), hourPartition(1)]);
    expect(due.takeDue(T0 + HOUR + 599_999)).toEqual([]);
    expect(due.takeDue(T0 + 2 * HOUR + 600_000).map((p) => p.partition.path)).toEqual(['dt=2026-11-21/hour=00', 'dt=2026-11-21/hour=01']);
    expect(due.takeDue(T0 + 2 * HOUR + 600_000)).toEqual([]);
    expect(due.size).toBe(1);
    // Late data for a released hour makes it due again at once.
    due.add([hourPartition(0)]);
    expect(due.takeDue(T0 + 2 * HOUR + 600_000).map((p) => p.partition.path)).toEqual(['dt=2026-11-21/hour=00']);
    expect(due.takeAll().map((p) => p.partition.path)).toEqual(['dt=2026-11-21/hour=02']);
  });

  it('merges repeated commits of one partition into one entry with the widest event-time range', () => {
    const due = new DuePartitions(0);
    const a = hourPartition(0);
    due.add([a, { ...a, minEventTime: a.minEventTime - 500, maxEventTime: a.maxEventTime + 500 }]);
    const [p] = due.takeAll();
    expect(due.size).toBe(0);
    expect([p!.minEventTime, p!.maxEventTime]).toEqual([a.minEventTime - 500, a.maxEventTime + 500]);
  });
});
