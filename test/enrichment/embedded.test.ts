import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SILENT_LOGGER } from '../../src/core/logger.js';
import { MemoryMetrics } from '../../src/core/metrics.js';
import { EnrichmentConfig } from '../../src/enrichment/config.js';
import { createEnricher } from '../../src/enrichment/create.js';
import { sampleCustomer, sampleOrder } from '../../src/enrichment/sample-data.js';
import { createPostgresSample, type PostgresSample } from '../fixtures/sql/databases.js';
import { type EmbeddedPostgres, seedRows, startSeededPglite } from '../stack/pglite.js';
import { change, counts, cust, ord } from './harness.js';

const COUNTS = { customers: 60, orders: 300 };

describe('embedded PostgreSQL (PGlite over the wire protocol)', () => {
  let pglite: EmbeddedPostgres;
  let real: PostgresSample;
  beforeAll(async () => {
    pglite = await startSeededPglite(COUNTS);
    real = await createPostgresSample(COUNTS);
  });
  afterAll(async () => {
    await pglite?.stop();
    await real?.drop();
  });

  it('type embedded starts, seeds and enriches through the pg adapter with no server configured', async () => {
    const metrics = new MemoryMetrics();
    const enricher = await createEnricher(EnrichmentConfig.parse({ type: 'embedded', ...COUNTS }), { log: SILENT_LOGGER, metrics });
    try {
      const r = await enricher.enrich([change(ord(7), null), change(ord(8), cust(2)), change(null, cust(61)), change(null, null)]);
      const pick = (o: Record<string, unknown>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, o[k]]));
      const o7 = sampleOrder(7, COUNTS.customers);
      expect(r.enriched[0]!.enrichment).toEqual({
        status: 'ok',
        failed: [],
        order: pick(o7, ['channel', 'status', 'total_amount']),
        customer: pick(sampleCustomer(Number(o7.customer_id!.slice(2))), ['name', 'tier', 'country']),
      });
      expect(r.enriched.map((c) => c.enrichment.status)).toEqual(['ok', 'ok', 'missing', 'skipped']);
      expect(counts(metrics).queries).toBe(2);
    } finally {
      await enricher.close();
    }
  });

  it('the pg adapter works against test/stack/pglite as against a server (type postgres)', async () => {
    const cfg = EnrichmentConfig.parse({ type: 'postgres', host: pglite.host, port: pglite.port, user: 'postgres', database: 'postgres', poolSize: 2 });
    const enricher = await createEnricher(cfg, { log: SILENT_LOGGER, metrics: new MemoryMetrics() });
    try {
      const r = await enricher.enrich([change(ord(300), cust(60)), change("O'Reilly; --", null)]);
      expect(r.enriched.map((c) => c.enrichment.status)).toEqual(['ok', 'missing']);
      expect(r.enriched[0]!.enrichment.order?.total_amount).toBe(sampleOrder(300, COUNTS.customers).total_amount);
    } finally {
      await enricher.close();
    }
  });

  it('seedRows fills tables with exactly the ids a caller generates (the demo\'s own customers and orders)', async () => {
    const tables = { customers: 'demo_customers', orders: 'demo_orders' };
    await seedRows(pglite.db, { customers: ['C-000042', "C-'quoted'"], orders: [{ orderId: 'O-0000009', customerId: "C-'quoted'" }] }, tables);
    const cfg = EnrichmentConfig.parse({ type: 'postgres', host: pglite.host, port: pglite.port, user: 'postgres', database: 'postgres', lookups: { customers: { table: tables.customers }, orders: { table: tables.orders } } });
    const enricher = await createEnricher(cfg, { log: SILENT_LOGGER, metrics: new MemoryMetrics() });
    try {
      const r = await enricher.enrich([change('O-0000009', null), change(null, 'C-000042'), change(null, 'C-000001')]);
      expect(r.enriched.map((c) => c.enrichment.status)).toEqual(['ok', 'ok', 'missing']);
      expect(r.enriched[0]!.enrichment.customer).toEqual({ name: 'Customer 2', tier: sampleCustomer(2).tier, country: sampleCustomer(2).country });
    } finally {
      await enricher.close();
    }
  });

  it('holds exactly the rows test/fixtures/sql seeds into the real PostgreSQL', async () => {
    const cq = 'SELECT customer_id, name, email, tier, country FROM %s ORDER BY customer_id';
    const oq = "SELECT order_id, customer_id, channel, status, total_amount::text AS total_amount, extract(epoch FROM placed_at)::bigint AS placed FROM %s ORDER BY order_id";
    const embedded = {
      customers: (await pglite.db.query<Record<string, unknown>>(cq.replace('%s', 'customers'))).rows,
      orders: (await pglite.db.query<Record<string, unknown>>(oq.replace('%s', 'orders'))).rows,
    };
    const fixture = {
      customers: (await real.admin.query(cq.replace('%s', `"${real.schema}".customers`))).rows,
      orders: (await real.admin.query(oq.replace('%s', `"${real.schema}".orders`))).rows.map((r) => ({ ...r, placed: Number(r.placed) })),
    };
    expect(embedded.customers).toHaveLength(COUNTS.customers);
    expect(embedded.orders).toHaveLength(COUNTS.orders);
    expect(embedded.customers).toEqual(fixture.customers);
    expect(embedded.orders.map((r) => ({ ...r, placed: Number(r.placed) }))).toEqual(fixture.orders);
  });
});
