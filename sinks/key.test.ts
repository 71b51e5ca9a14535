import { describe, expect, it } from 'vitest';
import type { Position } from '../src/core/position.js';
import { makeBatch, makeChanges } from '../test/fixtures/changes.js';
import { objectKey, rangeName, safeName, safeShard } from './key.js';

const pos = (over: Partial<Position> = {}): Position => ({ source: 'kinesis', stream: 'inventory', shard: 'shardId-000000000001', seq: '100', ...over });

describe('object keys', () => {
  it('names a batch after its table, partition and first/last positions', () => {
    const batch = makeBatch(makeChanges(3, { firstSeq: 41 }));
    expect(objectKey('inventory_changes', batch, 'parquet')).toBe('inventory_changes/dt=2026-11-21/hour=13/kinesis-inventory-shardId-000000000000-41-43.parquet');
  });

  it('is deterministic: the same range always gives the same key', () => {
    const a = makeBatch(makeChanges(5, { firstSeq: 7 }));
    const b = makeBatch(makeChanges(5, { firstSeq: 7 }));
    expect(objectKey('t', a, 'parquet')).toBe(objectKey('t', b, 'parquet'));
  });

  it('includes the sub-sequence of aggregated records when present', () => {
    expect(rangeName(pos({ seq: '100', sub: 0 }), pos({ seq: '100', sub: 9 }))).toBe('kinesis-inventory-shardId-000000000001-100_0-100_9');
  });

  it.each([
    ['../../etc/passwd', '..%2F..%2Fetc%2Fpasswd'],
    ['..', '..'],
    ['a/b', 'a%2Fb'],
    ['back\\slash', 'back%5Cslash'],
    ['ctl\u0000\u0001\n\u007f', 'ctl%00%01%0A%7F'],
    ['spaces and ünï', 'spaces%20and%20%C3%BCn%C3%AF'],
    ['orders-eu', 'orders%2Deu'],
    ['%41', '%2541'],
  ])('escapes the hostile stream name %j readably', (name, escaped) => {
    expect(safeName(name)).toBe(escaped);
    expect(escaped).toMatch(/^[A-Za-z0-9._%~]*$/);
  });

  it('keeps "-" in shard ids but escapes everything unsafe', () => {
    expect(safeShard('shardId-000000000001')).toBe('shardId-000000000001');
    expect(safeShard('../x/y')).toBe('..%2Fx%2Fy');
  });

  it('never lets a hostile position climb out of its partition folder', () => {
    const hostile = ['..', '../..', '/abs', 'a/../../b', '\u0000', '.', ' / '];
    for (const stream of hostile) {
      for (const shard of hostile) {
        const key = objectKey('t', makeBatch(makeChanges(2, { stream, shard })), 'parquet');
        const segments = key.split('/');
        expect(segments).toHaveLength(4);
        expect(segments.slice(0, 3)).toEqual(['t', 'dt=2026-11-21', 'hour=13']);
        expect(segments.every((s) => s !== '..' && s !== '.' && s !== '')).toBe(true);
        expect(key).not.toMatch(/[\u0000-\u001f\\]/);
      }
    }
  });

  it('keeps different (stream, shard) pairs apart even when "-" could blur them', () => {
    const a = rangeName(pos({ stream: 'a-b', shard: 'c' }), pos({ stream: 'a-b', shard: 'c' }));
    const b = rangeName(pos({ stream: 'a', shard: 'b-c' }), pos({ stream: 'a', shard: 'b-c' }));
    expect(a).not.toBe(b);
  });

  it('shortens very long names with a hash that keeps them distinct', () => {
    const a = safeName('s'.repeat(500));
    const b = safeName(`${'s'.repeat(499)}t`);
    expect(a.length).toBeLessThanOrEqual(120);
    expect(a).not.toBe(b);
  });

  it('refuses a batch that spans shards', () => {
    expect(() => rangeName(pos({ shard: 'a' }), pos({ shard: 'b' }))).toThrow(/one shard/);
  });

  it('refuses unsafe tables and partition paths', () => {
    const batch = makeBatch(makeChanges(1));
    expect(() => objectKey('../t', batch, 'parquet')).toThrow(/unsafe table/);
    expect(() => objectKey('t', { ...batch, partition: { path: 'dt=x/../..', values: {} } }, 'parquet')).toThrow(/unsafe partition path/);
    expect(() => objectKey('t', { ...batch, partition: { path: '..', values: {} } }, 'parquet')).toThrow(/unsafe partition path/);
    expect(() => objectKey('t', { ...batch, partition: { path: 'dt=a\u0000', values: {} } }, 'parquet')).toThrow(/unsafe partition path/);
    expect(objectKey('t', { ...batch, partition: { path: 'dt=2026-11-21/hour=13/warehouse_id=WH%2F1', values: {} } }, 'parquet')).toContain('warehouse_id=WH%2F1/');
  });
});
