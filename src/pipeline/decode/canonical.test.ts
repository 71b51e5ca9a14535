import { describe, expect, it } from 'vitest';
import { decodeCanonical, parseEventTime } from './canonical.js';

const good = { eventType: 'sale', sku: 'SKU-1', warehouseId: 'WH-01', quantityBefore: 10, quantityAfter: 7, orderId: 'O-1', customerId: 'C-1', eventTime: '2026-11-21T10:00:00Z' };

describe('canonical decoder', () => {
  it('decodes a valid event and derives delta', () => {
    const r = decodeCanonical(good);
    expect(r).toEqual({ ok: true, fields: expect.objectContaining({ delta: -3, eventTime: Date.UTC(2026, 10, 21, 10) }) });
  });

  it.each([
    [{ ...good, sku: undefined }, /sku/],
    [{ ...good, quantityAfter: '7' }, /quantityAfter/],
    [{ ...good, eventType: 'teleport' }, /eventType/],
    [{ ...good, eventTime: 'yesterday' }, /eventTime/],
    [{ ...good, eventTime: '9999-01-01T00:00:00Z' }, /2000\.\.2099/],
    [{ ...good, delta: 5 }, /contradicts/],
    [{ ...good, quantityBefore: null, delta: undefined }, /cannot be derived/],
    [[1, 2], /array/],
    [null, /null/],
  ])('rejects %j with a reason', (input, reason) => {
    const r = decodeCanonical(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });

  it('reads epoch seconds and milliseconds', () => {
    expect(parseEventTime(1_763_719_200)).toBe(1_763_719_200_000);
    expect(parseEventTime(1_763_719_200_000)).toBe(1_763_719_200_000);
  });
});
