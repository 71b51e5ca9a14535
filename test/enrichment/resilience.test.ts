import { describe, expect, it } from 'vitest';
import { SILENT_LOGGER } from '../../src/core/logger.js';
import { MemoryMetrics } from '../../src/core/metrics.js';
import { CacheConfig, LookupsConfig, ResilienceConfig } from '../../src/enrichment/config.js';
import { redactor } from '../../src/enrichment/db-errors.js';
import type { LookupSpec } from '../../src/enrichment/identifiers.js';
import type { LookupClient, LookupRow } from '../../src/enrichment/lookup-client.js';
import { SqlEnricher } from '../../src/enrichment/sql-enricher.js';
import { change, counts } from './harness.js';

/**
 * Fault injection a real server cannot produce on cue: a client scripted to fail N times with a
 * given error, to hang, or to answer. Everything else is tested against the real databases.
 */
class ScriptedClient implements LookupClient {
  readonly dialect = 'postgres' as const;
  readonly label = 'scripted';
  calls: { lookup: string; keys: readonly string[] }[] = [];
  constructor(
    private readonly script: (call: number, spec: LookupSpec) => Error | 'hang' | undefined,
    readonly maxKeysPerQuery = 1_000_000,
    /** Milliseconds each call takes, so that calls of batches enriched at once overlap. */
    private readonly latencyMs = 0,
  ) {}
  async select(spec: LookupSpec, keys: readonly string[]): Promise<LookupRow[]> {
    this.calls.push({ lookup: spec.name, keys });
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    const step = this.script(this.calls.length, spec);
    if (step === 'hang') return new Promise(() => undefined);
    if (step) throw step;
    return keys
      .filter((k) => !k.includes('missing'))
      .map((k) => ({ key: k, customerId: spec.name === 'order' ? `CUST-of-${k}` : null, attrs: { name: `row ${k}` } }));
  }
  async close(): Promise<void> {}
}

const fail = (code: string, message = code) => Object.assign(new Error(message), { code });

function enricher(client: LookupClient, policy: 'emit' | 'dlq' | 'wait' = 'emit', resilience: Partial<ResilienceConfig> = {}) {
  const metrics = new MemoryMetrics();
  const e = new SqlEnricher(
    client,
    {
      lookups: LookupsConfig.parse({ customers: { columns: ['name'] }, orders: { columns: ['name'] } }),
      cache: CacheConfig.parse({}),
      resilience: ResilienceConfig.parse({ baseDelayMs: 1, maxDelayMs: 5, waitMaxDelayMs: 20, breakerResetMs: 50, ...resilience }),
      policy,
    },
    { log: SILENT_LOGGER, metrics, redact: redactor([]) },
  );
  return { e, metrics };
}

describe('lookup resilience (scripted faults)', () => {
  it('retries a retriable error with backoff and succeeds within maxAttempts', async () => {
    const client = new ScriptedClient((n) => (n <= 2 ? fail('ECONNRESET') : undefined));
    const { e, metrics } = enricher(client, 'emit', { maxAttempts: 3 });
    const r = await e.enrich([change(null, 'CUST-1')]);
    expect(r.enriched[0]!.enrichment.status).toBe('ok');
    expect(counts(metrics)).toMatchObject({ queries: 3, failures: 2 });
  });

  it('does not retry a syntax or permission error', async () => {
    for (const code of ['42601', '42501', 'ER_PARSE_ERROR']) {
      const client = new ScriptedClient(() => fail(code));
      const { e } = enricher(client, 'emit', { maxAttempts: 5 });
      const r = await e.enrich([change(null, 'CUST-1')]);
      expect(r.enriched[0]!.enrichment).toMatchObject({ status: 'failed', failed: ['customer'] });
      expect(client.calls).toHaveLength(1);
    }
  });

  it('opens the breaker after consecutive failures: later batches fail fast without touching the database', async () => {
    const client = new ScriptedClient(() => fail('57P01', 'terminating connection due to administrator command'));
    const { e } = enricher(client, 'emit', { maxAttempts: 2, breakerThreshold: 3, breakerResetMs: 60_000 });
    await e.enrich([change('ORD-1', null), change(null, 'CUST-1')]); // 2 + 1 attempts: opens
    expect(client.calls).toHaveLength(3);
    expect(e.breakerState).toBe('open');
    const r = await e.enrich([change('ORD-2', 'CUST-2')]);
    expect(client.calls).toHaveLength(3);
    expect(r.enriched[0]!.enrichment).toMatchObject({ status: 'failed', failed: ['order', 'customer'] });
  });

  it('after an outage, batches enriched at once all wait for the trial and are enriched when the database is back', async () => {
    let up = false;
    const client = new ScriptedClient(() => (up ? undefined : fail('ECONNREFUSED')), 1_000_000, 20);
    const { e } = enricher(client, 'emit', { maxAttempts: 1, breakerThreshold: 2, breakerResetMs: 30 });
    await e.enrich([change('ORD-1', null), change(null, 'CUST-1')]);
    expect(e.breakerState).toBe('open');
    up = true;
    await new Promise((r) => setTimeout(r, 40));
    const before = client.calls.length;
    const results = await Promise.all([1, 2, 3].map((i) => e.enrich([change(`ORD-x${i}`, null), change(null, `CUST-x${i}`)])));
    expect(results.flatMap((r) => r.enriched.map((c) => c.enrichment.status))).toEqual(Array(6).fill('ok'));
    // One trial, then every batch its own two queries.
    expect(client.calls.length - before).toBe(6);
    expect(e.breakerState).toBe('closed');
  });

  it('after an outage, batches waiting for a trial that fails are marked failed without querying', async () => {
    const client = new ScriptedClient(() => fail('ECONNREFUSED'), 1_000_000, 20);
    const { e } = enricher(client, 'emit', { maxAttempts: 1, breakerThreshold: 2, breakerResetMs: 30 });
    await e.enrich([change('ORD-1', null), change(null, 'CUST-1')]);
    await new Promise((r) => setTimeout(r, 40));
    const before = client.calls.length;
    const results = await Promise.all([1, 2, 3].map((i) => e.enrich([change(`ORD-x${i}`, null)])));
    expect(results.map((r) => r.enriched[0]!.enrichment.status)).toEqual(['failed', 'failed', 'failed']);
    expect(client.calls.length - before).toBe(1);
    expect(e.breakerState).toBe('open');
  });

  it('gives up on a query that never answers (timeout backstop) and marks the lookup failed', async () => {
    const client = new ScriptedClient(() => 'hang');
    const { e } = enricher(client, 'emit', { maxAttempts: 1, queryTimeoutMs: 10, connectTimeoutMs: 10 });
    const r = await e.enrich([change(null, 'CUST-1')]);
    expect(r.enriched[0]!.enrichment).toMatchObject({ status: 'failed', failed: ['customer'] });
  });

  it('splits key sets larger than the client allows, and asks only for the customers of orders it found', async () => {
    const client = new ScriptedClient(() => undefined, 2);
    const { e } = enricher(client);
    const r = await e.enrich([change('O1', null), change('O2', null), change('O3', null), change('O-missing', null), change(null, 'C9')]);
    expect(client.calls.map((c) => [c.lookup, c.keys])).toEqual([
      ['order', ['O1', 'O2']],
      ['order', ['O3', 'O-missing']],
      // C9 is known to be needed before the orders are looked up, so it is asked for first.
      ['customer', ['C9', 'CUST-of-O1']],
      ['customer', ['CUST-of-O2', 'CUST-of-O3']],
    ]);
    expect(r.enriched.map((c) => c.enrichment.status)).toEqual(['ok', 'ok', 'ok', 'missing', 'ok']);
    expect(r.enriched[0]!.enrichment.customer).toEqual({ name: 'row CUST-of-O1' });
  });

  it('settles each change whichever of its lookups the cache answered, and names the failed lookup in a DLQ reason', async () => {
    // Batch 1 fills the cache with O1 (its customer CUST-of-O1) and C1.
    let failOrders = false;
    const client = new ScriptedClient((_n, spec) => (failOrders && spec.name === 'order' ? fail('ECONNREFUSED') : undefined));
    const { e, metrics } = enricher(client, 'dlq', { maxAttempts: 1, breakerThreshold: 100 });
    await e.enrich([change('O1', null), change(null, 'C1')]);
    client.calls = [];
    const batch = [
      change('O1', null), // both cached: settled at once
      change('O1', 'C2'), // order cached, customer queried
      change('O2', null), // order queried, then its customer queried
      change('O3', 'C1'), // order queried, customer cached
      change(null, null), // nothing to look up
      change('O2-missing', 'C1'), // order queried and missing
    ];
    const r = await e.enrichEach!(batch);
    expect(client.calls).toEqual([
      { lookup: 'order', keys: ['O2', 'O3', 'O2-missing'] },
      { lookup: 'customer', keys: ['C2', 'CUST-of-O2'] },
    ]);
    expect(r.map((o) => ('code' in o ? o.code : [o.status, o.order?.name ?? null, o.customer?.name ?? null]))).toEqual([
      ['ok', 'row O1', 'row CUST-of-O1'],
      ['ok', 'row O1', 'row C2'],
      ['ok', 'row O2', 'row CUST-of-O2'],
      ['ok', 'row O3', 'row C1'],
      ['skipped', null, null],
      'ENRICHMENT_FAILED',
    ]);
    expect(r[5]).toMatchObject({ reason: 'order "O2-missing" not found' });
    // Unique keys per batch. Batch 1 missed O1, CUST-of-O1 and C1; this one hits O1, CUST-of-O1
    // and C1, and misses O2, O3, O2-missing, C2 and CUST-of-O2.
    expect(counts(metrics)).toMatchObject({ hits: 0 + 3, misses: 3 + 5 });

    // The order query fails: its changes go to the DLQ naming it; the cached ones are written.
    failOrders = true;
    client.calls = [];
    const failed = await e.enrichEach!([change('O9', 'C1'), change('O1', null), change('O8', null)]);
    expect(client.calls.map((c) => c.lookup)).toEqual(['order']);
    expect(failed[0]).toMatchObject({ code: 'ENRICHMENT_FAILED', reason: expect.stringContaining('ECONNREFUSED') });
    expect(failed[1]).toMatchObject({ status: 'ok' });
    expect(failed[2]).toMatchObject({ code: 'ENRICHMENT_FAILED' });
  });

  it('wait: keeps what it learned between rounds and asks again only for what failed', async () => {
    const client = new ScriptedClient((n, spec) => (spec.name === 'customer' && n <= 4 ? fail('ECONNREFUSED') : undefined));
    const { e } = enricher(client, 'wait', { maxAttempts: 1, breakerThreshold: 100 });
    const r = await e.enrich([change('O1', null), change(null, 'C2')]);
    expect(r.enriched.map((c) => c.enrichment.status)).toEqual(['ok', 'ok']);
    expect(client.calls.filter((c) => c.lookup === 'order')).toHaveLength(1);
  });
});
