import { describe, expect, it } from 'vitest';
import { makeChange as makeTestChange } from '../../test/fixtures/changes.js';
import { encodePartitionValue, HIVE_DEFAULT_PARTITION, Partitioner } from './partition.js';

describe('partitioning by event time', () => {
  it('uses the event time, not the arrival time, in UTC', () => {
    const p = new Partitioner();
    const ref = p.partitionOf(makeTestChange({ eventTime: Date.UTC(2026, 10, 20, 23, 59, 59), ingestTime: Date.UTC(2026, 10, 21, 1) }));
    expect(ref.path).toBe('dt=2026-11-20/hour=23');
    expect(ref.values).toEqual({ dt: '2026-11-20', hour: '23' });
  });

  it('adds configured keys with values that cannot escape the prefix', () => {
    const p = new Partitioner(['warehouseId']);
    for (const hostile of ['../../etc', 'a/b', '..', '.', 'x=y', 'wh 1', 'ünï', '%2F']) {
      const ref = p.partitionOf(makeTestChange({ warehouseId: hostile, eventTime: Date.UTC(2026, 0, 1) }));
      const segments = ref.path.split('/');
      expect(segments).toHaveLength(3);
      expect(segments[2]).toMatch(/^warehouse_id=[A-Za-z0-9_%-]+$/);
      expect(ref.values.warehouse_id).toBe(hostile);
    }
  });

  it('encodes values Hive-style and marks empty ones as the default partition', () => {
    expect(encodePartitionValue('WH-01')).toBe('WH-01');
    expect(encodePartitionValue('a/b')).toBe('a%2Fb');
    expect(encodePartitionValue('..')).toBe('%2E%2E');
    expect(encodePartitionValue('')).toBe(HIVE_DEFAULT_PARTITION);
  });
});
