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
    SharedEnrichment.setDerived(e, { staged: 42 });
    expect(JSON.parse(JSON.stringify(e))).toEqual({ status: 'ok', failed: [], customer: { name: 'Zoë', tier: null }, order: null });
    expect(Object.keys(e)).toEqual(['status', 'failed', 'customer', 'order']);
    const copy = { ...e };
    expect(copy).toEqual({ status: 'ok', failed: [], customer, order: null });
    expect(SharedEnrichment.derivedOf(copy)).toBeUndefined();
    expect(() => ((e as { status: string }).status = 'failed')).toThrow(TypeError);
  });

  it('keeps what a consumer derived on the shared object only', () => {
    const e = make();
    expect(SharedEnrichment.derivedOf(e)).toBeUndefined();
    const derived = { staged: 1 };
    expect(SharedEnrichment.setDerived(e, derived)).toBe(true);
    expect(SharedEnrichment.derivedOf(e)).toBe(derived);
    expect(SharedEnrichment.derivedOf(make())).toBeUndefined();
    const plain = Object.freeze({ status: 'ok' as const, failed: [], customer, order: null });
    expect(SharedEnrichment.setDerived(plain, derived)).toBe(false);
    expect(SharedEnrichment.derivedOf(plain)).toBeUndefined();
  });
});
