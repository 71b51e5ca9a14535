import { describe, expect, it } from 'vitest';
import { SILENT_LOGGER } from '../../src/core/logger.js';
import { MemoryMetrics, METRIC } from '../../src/core/metrics.js';
import { NOT_ENRICHED } from '../../src/core/model.js';
import { CacheConfig, LookupsConfig, ResilienceConfig } from '../../src/enrichment/config.js';
import { redactor } from '../../src/enrichment/db-errors.js';
import type { LookupSpec } from '../../src/enrichment/identifiers.js';
import type { LookupClient, LookupRow } from '../../src/enrichment/lookup-client.js';
import { SqlEnricher } from '../../src/enrichment/sql-enricher.js';
import { change } from './harness.js';

/** Answers every key except those containing "missing"; each answer is a new row object. */
class VersionedClient implements LookupClient {
  readonly dialect = 'postgres' as const;
  readonly label = 'versioned';
  readonly maxKeysPerQuery = 1_000_000;
  version = 1;
  async select(spec: LookupSpec, keys: readonly string[]): Promise<LookupRow[]> {
    return keys
      .filter((k) => !k.includes('missing'))
      .map((k) => ({ key: k, customerId: spec.name === 'order' ? `C-of-${k}` : null, attrs: Object.freeze({ name: `${k} v${this.version}` }) }));
  }
  async close(): Promise<void> {}
}

function enricher(client: LookupClient, clock: { now(): number }, metrics = new MemoryMetrics()) {
  return new SqlEnricher(
    client,
    {
      lookups: LookupsConfig.parse({ customers: { columns: ['name'] }, orders: { columns: ['name'] } }),
      cache: CacheConfig.parse({ ttlMs: 1000, negativeTtlMs: 100 }),
      resilience: ResilienceConfig.parse({}),
      policy: 'emit',
    },
    { log: SILENT_LOGGER, metrics, redact: redactor([]), clock },
  );
}

describe('enrichment objects shared between changes alike', () => {
  it('gives changes with the same order and customer one frozen enrichment, across batches, until a row is refreshed', async () => {
    let now = 1_000;
    const client = new VersionedClient();
    const e = enricher(client, { now: () => now });
    const first = await e.enrich([change('O1', null), change('O1', 'C-of-O1'), change('O2', null), change(null, 'C9'), change(null, 'C9')]);
    const [a, b, c, d, f] = first.enriched.map((x) => x.enrichment);
    expect(a).toEqual({ status: 'ok', failed: [], customer: { name: 'C-of-O1 v1' }, order: { name: 'O1 v1' } });
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(d).toEqual({ status: 'ok', failed: [], customer: { name: 'C9 v1' }, order: null });
    expect(f).toBe(d);
    expect(Object.isFrozen(a)).toBe(true);

    const again = await e.enrich([change('O1', null), change(null, 'C9')]);
    expect(again.enriched[0]!.enrichment).toBe(a);
    expect(again.enriched[1]!.enrichment).toBe(d);

    // Past the TTL both rows are read again: new rows, new enrichment.
    client.version = 2;
    now += 1_001;
    const later = await e.enrich([change('O1', null), change(null, 'C9')]);
    expect(later.enriched[0]!.enrichment).toEqual({ status: 'ok', failed: [], customer: { name: 'C-of-O1 v2' }, order: { name: 'O1 v2' } });
    expect(later.enriched[1]!.enrichment.customer).toEqual({ name: 'C9 v2' });
  });

  it('builds the right enrichment when a change names another customer than its order\'s, or a missing one', async () => {
    const e = enricher(new VersionedClient(), { now: () => 1_000 });
    const r = await e.enrich([change('O1', null), change('O1', 'C7'), change('O1', 'C-missing'), change('O1', null), change('O-missing', 'C7')]);
    expect(r.enriched.map((x) => x.enrichment)).toEqual([
      { status: 'ok', failed: [], customer: { name: 'C-of-O1 v1' }, order: { name: 'O1 v1' } },
      { status: 'ok', failed: [], customer: { name: 'C7 v1' }, order: { name: 'O1 v1' } },
      { status: 'missing', failed: ['customer'], customer: null, order: { name: 'O1 v1' } },
      { status: 'ok', failed: [], customer: { name: 'C-of-O1 v1' }, order: { name: 'O1 v1' } },
      { status: 'missing', failed: ['order'], customer: { name: 'C7 v1' }, order: null },
    ]);
  });

  it("reuses an order's customer entry across batches for changes naming no customer or the order's own, and only while it is fresh", async () => {
    let now = 1_000;
    const client = new VersionedClient();
    const metrics = new MemoryMetrics();
    const e = enricher(client, { now: () => now }, metrics);
    const names = async (...changes: ReturnType<typeof change>[]) => (await e.enrich(changes)).enriched.map((x) => [x.enrichment.order?.name ?? null, x.enrichment.customer?.name ?? null]);
    // The customer is cached first (expires at 2000), the order later (expires at 2500).
    expect(await names(change(null, 'C-of-O1'))).toEqual([[null, 'C-of-O1 v1']]);
    now = 1_500;
    expect(await names(change('O1', null))).toEqual([['O1 v1', 'C-of-O1 v1']]);
    expect(await names(change('O1', null), change('O1', 'C7'), change('O1', null), change('O1', 'C-of-O1'))).toEqual([
      ['O1 v1', 'C-of-O1 v1'],
      ['O1 v1', 'C7 v1'],
      ['O1 v1', 'C-of-O1 v1'],
      ['O1 v1', 'C-of-O1 v1'],
    ]);
    // Cache hits count keys once per batch, however many changes name them.
    const hits = () => metrics.total(METRIC.enrichCacheHits);
    const before = hits();
    await e.enrich([change('O1', null), change('O1', null), change('O1', 'C7'), change('O1', 'C7')]);
    expect(hits() - before).toBe(3);
    // The order is still fresh, its customer's entry is not: the customer is read again.
    client.version = 2;
    now = 2_100;
    expect(await names(change('O1', null))).toEqual([['O1 v1', 'C-of-O1 v2']]);
    // Naming the order's own customer takes the same way, and sees the same refreshed entry.
    now = 4_200;
    client.version = 3;
    expect(await names(change('O1', 'C-of-O1'), change('O1', null))).toEqual([
      ['O1 v3', 'C-of-O1 v3'],
      ['O1 v3', 'C-of-O1 v3'],
    ]);
    now = 4_300;
    const queries = metrics.total(METRIC.enrichQueries);
    expect(await names(change('O1', 'C-of-O1'))).toEqual([['O1 v3', 'C-of-O1 v3']]);
    expect(metrics.total(METRIC.enrichQueries)).toBe(queries);
  });

  it('returns a change that names no key as it is when it already carries NOT_ENRICHED', async () => {
    const e = enricher(new VersionedClient(), { now: () => 1_000 });
    const plain = change(null, null);
    const marked = { ...change(null, null), enrichment: { status: 'ok' as const, failed: [], customer: { a: '1' }, order: null } };
    const r = await e.enrich([plain, marked]);
    expect(r.enriched[0]).toBe(plain);
    expect(r.enriched[1]).toEqual({ ...marked, enrichment: NOT_ENRICHED });
  });
});
