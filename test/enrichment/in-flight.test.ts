import { describe, expect, it, vi } from 'vitest';
import { SILENT_LOGGER } from '../../src/core/logger.js';
import { MemoryMetrics } from '../../src/core/metrics.js';
import { type EnrichOutcome, isRejection } from '../../src/core/ports.js';
import { CacheConfig, LookupsConfig, ResilienceConfig } from '../../src/enrichment/config.js';
import { redactor } from '../../src/enrichment/db-errors.js';
import type { LookupSpec } from '../../src/enrichment/identifiers.js';
import type { LookupClient, LookupRow } from '../../src/enrichment/lookup-client.js';
import { SqlEnricher } from '../../src/enrichment/sql-enricher.js';
import { change, counts } from './harness.js';

/**
 * Holds every query until the test releases it, so two batches' lookups overlap as two polls'
 * do against a real database; answers every key except those containing "missing". Overlap on
 * demand is what a real server cannot be made to produce, hence a stand-in here; the real
 * PostgreSQL runs the same code in the enrich benchmark and the outage tests.
 */
class GatedClient implements LookupClient {
  readonly dialect = 'postgres' as const;
  readonly label = 'gated';
  readonly maxKeysPerQuery = 1_000_000;
  readonly calls: Array<{ lookup: string; keys: string[] }> = [];
  /** The next order query fails as a dropped connection does. */
  failNextOrderQuery = false;
  private readonly gates: Array<() => void> = [];

  async select(spec: LookupSpec, keys: readonly string[]): Promise<LookupRow[]> {
    this.calls.push({ lookup: spec.name, keys: [...keys] });
    const fail = spec.name === 'order' && this.failNextOrderQuery;
    if (fail) this.failNextOrderQuery = false;
    await new Promise<void>((resolve) => this.gates.push(resolve));
    if (fail) throw Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
    return keys.filter((k) => !k.includes('missing')).map((k) => ({ key: k, customerId: spec.name === 'order' ? `C-of-${k}` : null, attrs: Object.freeze({ name: k }) }));
  }

  release(): void {
    for (const open of this.gates.splice(0)) open();
  }

  keysAsked(lookup: string): string[] {
    return this.calls.filter((c) => c.lookup === lookup).flatMap((c) => c.keys);
  }

  async close(): Promise<void> {}
}

function enricher(client: LookupClient, metrics: MemoryMetrics) {
  return new SqlEnricher(
    client,
    {
      lookups: LookupsConfig.parse({ customers: { columns: ['name'] }, orders: { columns: ['name'] } }),
      cache: CacheConfig.parse({}),
      resilience: ResilienceConfig.parse({ maxAttempts: 1 }),
      policy: 'emit',
    },
    { log: SILENT_LOGGER, metrics, redact: redactor([]) },
  );
}

/** Releases the client's queries until every batch has its answer. */
async function settle<T>(client: GatedClient, ...batches: Promise<T>[]): Promise<T[]> {
  let done = false;
  const all = Promise.all(batches).finally(() => (done = true));
  while (!done) {
    client.release();
    await new Promise((r) => setImmediate(r));
  }
  return all;
}

const orderNames = (outcomes: readonly EnrichOutcome[]) => outcomes.map((o) => (isRejection(o) ? o.code : [o.status, o.order?.name ?? null, o.customer?.name ?? null]));

describe('lookups shared by batches in progress together', () => {
  it('asks for a key that another batch is looking up once, and gives both batches its row', async () => {
    const client = new GatedClient();
    const metrics = new MemoryMetrics();
    const e = enricher(client, metrics);
    const first = e.enrichEach([change('O1', null), change('O2', null)]);
    await vi.waitFor(() => expect(client.calls).toHaveLength(1));
    // The second poll's lookups start while the first's order query is still out.
    const second = e.enrichEach([change('O2', null), change('O3', null), change('O-missing', 'C-of-O2')]);
    await vi.waitFor(() => expect(client.calls).toHaveLength(2));
    expect(client.calls[1]).toEqual({ lookup: 'order', keys: ['O3', 'O-missing'] });

    const [a, b] = await settle(client, first, second);
    expect(orderNames(a!)).toEqual([
      ['ok', 'O1', 'C-of-O1'],
      ['ok', 'O2', 'C-of-O2'],
    ]);
    expect(orderNames(b!)).toEqual([
      ['ok', 'O2', 'C-of-O2'],
      ['ok', 'O3', 'C-of-O3'],
      ['missing', null, 'C-of-O2'],
    ]);
    // The same row, so the same shared enrichment.
    expect(b![0]).toBe(a![1]);
    for (const lookup of ['order', 'customer']) {
      const asked = client.keysAsked(lookup);
      expect(new Set(asked).size, `${lookup} keys asked: ${asked.join(', ')}`).toBe(asked.length);
    }
    // A key taken from another batch's query was still a cache miss for this batch.
    expect(counts(metrics).misses).toBe(client.keysAsked('order').length + client.keysAsked('customer').length + 2);
  });

  it('asks again for a key whose shared query failed, and fails only what its own queries could not get', async () => {
    const client = new GatedClient();
    client.failNextOrderQuery = true;
    const e = enricher(client, new MemoryMetrics());
    const first = e.enrichEach([change('O1', null), change('O2', null)]);
    await vi.waitFor(() => expect(client.calls).toHaveLength(1));
    const second = e.enrichEach([change('O2', null), change('O3', null)]);
    await vi.waitFor(() => expect(client.calls).toHaveLength(2));
    // Fails the first query; the second batch then asks for O2 itself.
    client.failNextOrderQuery = false;
    const [a, b] = await settle(client, first, second);
    expect(orderNames(a!)).toEqual([
      ['failed', null, null],
      ['failed', null, null],
    ]);
    expect(isRejection(a![1]!) ? null : a![1]!.failed).toEqual(['order']);
    expect(orderNames(b!)).toEqual([
      ['ok', 'O2', 'C-of-O2'],
      ['ok', 'O3', 'C-of-O3'],
    ]);
    expect(client.keysAsked('order')).toEqual(['O1', 'O2', 'O3', 'O2']);
  });

  it('fails a key in the batch that waited for it when its own second ask fails too', async () => {
    const client = new GatedClient();
    client.failNextOrderQuery = true;
    const e = enricher(client, new MemoryMetrics());
    const first = e.enrichEach([change('O1', null)]);
    await vi.waitFor(() => expect(client.calls).toHaveLength(1));
    const second = e.enrichEach([change('O1', null), change('O3', null)]);
    await vi.waitFor(() => expect(client.calls).toHaveLength(2));
    // O3's query succeeds; the first query and the second ask for O1 fail.
    client.failNextOrderQuery = true;
    const [a, b] = await settle(client, first, second);
    expect(orderNames(a!)).toEqual([['failed', null, null]]);
    expect(orderNames(b!)).toEqual([
      ['failed', null, null],
      ['ok', 'O3', 'C-of-O3'],
    ]);
    expect(client.keysAsked('order')).toEqual(['O1', 'O3', 'O1']);
  });
});
