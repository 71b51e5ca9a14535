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

describe('the fast path agrees with the schema', () => {
  const base: Record<string, unknown> = { ...good, delta: -3 };
  const variants: unknown[] = [1.5, -1, 0, '3', null, undefined, '', 'x'.repeat(513), 'x'.repeat(512), true, {}, [], Number.MAX_SAFE_INTEGER + 2, 'sale', 'teleport', 1_763_719_200_000, '2026-11-21T10:00:00Z'];
  it.each(Object.keys(base))('for every kind of value in %s', async (key) => {
    const { CanonicalEvent, looksCanonical } = await import('./canonical.js');
    for (const v of variants) {
      const candidate = { ...base, [key]: v };
      if (v === undefined) delete candidate[key];
      const fast = looksCanonical(candidate);
      const schema = CanonicalEvent.safeParse(candidate).success;
      // The fast path may only accept what the schema accepts.
      if (fast) expect(schema, `${key}=${JSON.stringify(v)}`).toBe(true);
    }
  });
});
