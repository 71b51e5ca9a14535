import { describe, expect, it } from 'vitest';
import { makeChange, makeChanges } from '../../test/fixtures/changes.js';
import { BLOCK_ROWS, ChangeColumns, TextDictionary } from './change-columns.js';

describe('ChangeColumns', () => {
  it('gives back every change as it was pushed, across blocks', () => {
    const changes = makeChanges(BLOCK_ROWS * 2 + 5);
    const cols = ChangeColumns.from(changes);
    expect(cols.length).toBe(changes.length);
    expect(cols.blocks).toHaveLength(3);
    expect([...cols]).toEqual(changes);
    expect(cols.at(-1)).toEqual(changes.at(-1));
    expect(cols.at(changes.length)).toBeUndefined();
  });

  it('keeps nulls, ids that are not hex, unicode and text past the dictionary limit', () => {
    const changes = [
      makeChange({ sequence: '1', quantityBefore: null, quantityAfter: null, delta: 0, orderId: null, customerId: null }),
      makeChange({ sequence: '2', eventId: 'NOT-A-HEX-ID', sku: 'ünï\u0000cødé', warehouseId: '倉庫' }),
      makeChange({ sequence: '3', eventId: 'ABCDEF0123456789ABCDEF0123456789' }),
      ...Array.from({ length: TextDictionary.LIMIT + 50 }, (_, i) => makeChange({ sequence: String(i + 4), orderId: `order-${i}`, quantityBefore: -Number.MAX_SAFE_INTEGER })),
    ];
    expect([...ChangeColumns.from(changes)]).toEqual(changes);
  });

  it('tracks the event time range', () => {
    const cols = ChangeColumns.from([makeChange({ eventTime: 5 }), makeChange({ eventTime: 2 }), makeChange({ eventTime: 9 })]);
    expect([cols.minEventTime, cols.maxEventTime]).toEqual([2, 9]);
  });

  it('codes repeated text once and stops coding mostly distinct text', () => {
    const cols = ChangeColumns.from(Array.from({ length: 2000 }, (_, i) => makeChange({ sequence: String(i), sku: `SKU-${i % 3}`, orderId: `O-${i}` })));
    expect(cols.dictionaries.sku.values).toEqual(['SKU-0', 'SKU-1', 'SKU-2']);
    expect(cols.dictionaries.orderId.values.length).toBeLessThan(600);
  });

  it('reuses the blocks of a released batch without carrying anything over', () => {
    const first = [
      makeChange({ sequence: '1', eventId: 'NOT-A-HEX-ID' }),
      ...Array.from({ length: BLOCK_ROWS + 700 }, (_, i) => makeChange({ sequence: String(i + 2), orderId: `order-${i}` })),
    ];
    const a = ChangeColumns.from(first);
    const blocks = new Set(a.blocks);
    a.release();
    expect(a.length).toBe(0);
    const second = Array.from({ length: 10 }, (_, i) => makeChange({ sequence: String(100 + i), orderId: null, customerId: i % 2 ? null : `C-${i}` }));
    const b = ChangeColumns.from(second);
    expect(blocks.has(b.blocks[0]!)).toBe(true);
    expect([...b]).toEqual(second);
    expect(b.blocks[0]!.text.orderId.plain.some((v) => typeof v === 'string')).toBe(false);
  });
});
