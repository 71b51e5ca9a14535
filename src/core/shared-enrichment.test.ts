import { describe, expect, it } from 'vitest';
import { Enrichment } from './model.js';
import { SharedEnrichment } from './shared-enrichment.js';

describe('SharedEnrichment', () => {
  const customer = Object.freeze({ name: 'Zoë', tier: null });
  const make = () => new SharedEnrichment('ok', [], customer, null);

  it('is an enrichment like any other: frozen, valid, serialized and spread without its slot', () => {
    const e = make();
    expect(Object.isFrozen(e)).toBe(true);
    expect(Enrichment.parse(e)).toEqual({ status: 'ok', failed: [], customer, order: null });
    SharedEnrichment.hold(e, {}, 4, 2);
    expect(JSON.parse(JSON.stringify(e))).toEqual({ status: 'ok', failed: [], customer: { name: 'Zoë', tier: null }, order: null });
    expect(Object.keys(e)).toEqual(['status', 'failed', 'customer', 'order']);
    const copy = { ...e };
    expect(copy).toEqual({ status: 'ok', failed: [], customer, order: null });
    expect(SharedEnrichment.hold(copy, {}, 1, 2)).toBe(false);
    expect(() => ((e as { status: string }).status = 'failed')).toThrow(TypeError);
  });

  it('keeps two integers for their owner only', () => {
    const e = make();
    const owner = {};
    expect(SharedEnrichment.heldBy(e, owner)).toBe(false);
    expect(SharedEnrichment.hold(e, owner, 7, -1)).toBe(true);
    expect(SharedEnrichment.heldBy(e, owner)).toBe(true);
    expect([SharedEnrichment.first(e), SharedEnrichment.second(e)]).toEqual([7, -1]);
    expect(SharedEnrichment.heldBy(e, {})).toBe(false);
    expect(SharedEnrichment.heldBy(make(), owner)).toBe(false);
    const plain = Object.freeze({ status: 'ok' as const, failed: [], customer, order: null });
    expect(SharedEnrichment.hold(plain, owner, 1, 2)).toBe(false);
    expect(SharedEnrichment.heldBy(plain, owner)).toBe(false);
  });
});
