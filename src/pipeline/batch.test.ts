import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { makeChange as makeTestChange } from '../../test/fixtures/changes.js';
import { type BatchItem, batchByPartition, type FlushRequest, type PendingBatch } from './batch.js';

const P1 = 'dt=2026-11-21/hour=10';
const P2 = 'dt=2026-11-21/hour=11';

const item = (i: number, partition = P1, shardKey = 'file|s|0', size = 100): BatchItem => ({
  change: makeTestChange({ eventId: `e${i}`, sequence: String(i) }),
  position: { source: 'file', stream: 's', shard: '0', seq: String(i) },
  shardKey,
  index: i,
  size,
  partition: { path: partition, values: {} },
});

const summary = map((b: PendingBatch) => `${b.reason}:${b.indices.join(',')}`);
const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
const opts = { maxRecords: 3, maxBytes: 1_000_000, maxAgeMs: 10, memoryBudgetBytes: 1_000_000 };

describe('batchByPartition (marbles)', () => {
  it('flushes at max records, then the remainder at max age', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const src = cold('a b c d 20ms |', { a: [item(1)], b: [item(2)], c: [item(3)], d: [item(4)] });
      expectObservable(src.pipe(batchByPartition(opts, undefined, ts), summary)).toBe('2ms x 10ms y 10ms |', {
        x: 'records:1,2,3',
        y: 'age:4',
      });
    });
  });

  it('flushes at max bytes', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const src = cold('a b |', { a: [item(1, P1, 'k', 600)], b: [item(2, P1, 'k', 600)] });
      expectObservable(src.pipe(batchByPartition({ ...opts, maxBytes: 1000 }, undefined, ts), summary)).toBe('- x |', { x: 'bytes:1,2' });
    });
  });

  it('keeps partitions and shards apart, and flushes everything on completion', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const src = cold('a |', { a: [item(1, P1, 'k1'), item(2, P2, 'k1'), item(3, P1, 'k2'), item(4, P1, 'k1')] });
      expectObservable(src.pipe(batchByPartition(opts, undefined, ts), summary)).toBe('- (xyz|)', {
        x: 'complete:1,4',
        y: 'complete:2',
        z: 'complete:3',
      });
    });
  });

  it('flushes the largest batch when the memory budget is exceeded', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const src = cold('a b c 20ms |', { a: [item(1, P1)], b: [item(2, P2)], c: [item(3, P1)] });
      expectObservable(src.pipe(batchByPartition({ ...opts, memoryBudgetBytes: 250 }, undefined, ts), summary)).toBe('2ms x 8ms y 11ms |', {
        x: 'budget:1,3',
        y: 'age:2',
      });
    });
  });

  it('flushes only the requested shards on a flush request', () => {
    const ts = scheduler();
    const done: number[] = [];
    ts.run(({ cold, expectObservable }) => {
      const src = cold('a 8ms |', { a: [item(1, P1, 'k1'), item(2, P1, 'k2')] });
      const control = cold<FlushRequest>('--f', { f: { shardKeys: ['k2'], done: () => done.push(ts.now()) } });
      expectObservable(src.pipe(batchByPartition(opts, control, ts), summary)).toBe('--x 6ms (y|)', { x: 'flush:2', y: 'complete:1' });
    });
    expect(done).toEqual([2]);
  });
});
