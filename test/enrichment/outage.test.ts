import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryMetrics } from '../../src/core/metrics.js';
import type { InventoryChange } from '../../src/core/model.js';
import type { Enricher } from '../../src/core/ports.js';
import { sleep } from '../../src/core/retry.js';
import { createEnricher } from '../../src/enrichment/create.js';
import { captureLogs, change, counts, type Dialect, dbConfig, FAST_RESILIENCE, cust, ord } from './harness.js';
import { createOutageDb, type OutageDb } from './outage.js';

async function until(what: string, cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Changes whose keys the first batch puts in the cache: they stay enrichable during the outage. */
const warm = () => [change(ord(1), cust(1)), change(ord(2), null), change(null, cust(3))];

/** One batch during the outage, and which of its changes need the database (by index). */
function outageBatch(): { batch: InventoryChange[]; affected: Map<number, string[]> } {
  const batch = [
    ...warm(), // 0-2: cached
    change(null, null), // 3: nothing to look up
    change(ord(10), null), // 4
    change(ord(11), cust(1)), // 5: customer cached, order not
    change(ord(1), cust(20)), // 6: order cached, customer not
    change(null, cust(21)), // 7
    change(ord(999999), null), // 8: does not exist, but the database cannot say so now
  ];
  const affected = new Map([
    [4, ['order']],
    [5, ['order']],
    [6, ['customer']],
    [7, ['customer']],
    [8, ['order']],
  ]);
  return { batch, affected };
}

describe.each<Dialect>(['postgres', 'mysql'])('%s: connections terminated mid-run (real server)', (dialect) => {
  let db: OutageDb;
  beforeAll(async () => {
    db = await createOutageDb(dialect, { customers: 100, orders: 500 });
  });
  afterAll(async () => {
    await db?.drop();
  });

  const open = async (policy: 'emit' | 'dlq' | 'wait') => {
    const metrics = new MemoryMetrics();
    const logs = captureLogs('info');
    const enricher = await createEnricher(dbConfig(dialect, db.tables, { user: db.user, policy }), { log: logs.log, metrics });
    return { enricher, metrics, logs };
  };

  /** After the outage: the breaker lets its trial through once breakerResetMs has passed. */
  const recovered = async (enricher: Enricher) => {
    await sleep(FAST_RESILIENCE.breakerResetMs + 50);
    const { batch } = outageBatch();
    const r = await enricher.enrich(batch);
    expect(r.rejected).toEqual([]);
    expect(r.enriched.map((c) => c.enrichment.status)).toEqual(['ok', 'ok', 'ok', 'skipped', 'ok', 'ok', 'ok', 'ok', 'missing']);
  };

  it('reconnects after its connections are terminated, and nothing fails', async () => {
    const { enricher } = await open('emit');
    try {
      expect((await enricher.enrich(warm())).enriched.every((c) => c.enrichment.status === 'ok')).toBe(true);
      expect(await db.kill()).toBeGreaterThan(0);
      const { batch } = outageBatch();
      const r = await enricher.enrich(batch);
      expect(r.enriched.map((c) => c.enrichment.status)).toEqual(['ok', 'ok', 'ok', 'skipped', 'ok', 'ok', 'ok', 'ok', 'missing']);
    } finally {
      await enricher.close();
    }
  });

  it('emit: marks exactly the changes whose lookups needed the database, and says which lookup', async () => {
    const { enricher, logs } = await open('emit');
    try {
      await enricher.enrich(warm());
      await db.down();
      const { batch, affected } = outageBatch();
      const r = await enricher.enrich(batch);
      expect(r.rejected).toEqual([]);
      expect(r.enriched.map((c) => c.eventId)).toEqual(batch.map((c) => c.eventId));
      for (const [i, c] of r.enriched.entries()) {
        const failed = affected.get(i);
        if (failed) expect(c.enrichment, `change ${i}`).toMatchObject({ status: 'failed', failed });
        else expect(c.enrichment.status, `change ${i}`).toBe(i === 3 ? 'skipped' : 'ok');
      }
      // What could be looked up still is: the cached order of change 6, the customer of change 5.
      expect(r.enriched[6]!.enrichment.order).not.toBeNull();
      expect(r.enriched[5]!.enrichment.customer).not.toBeNull();
      expect(logs.text()).toMatch(/enrichment lookups failing/);
      await db.up();
      await recovered(enricher);
    } finally {
      await db.up();
      await enricher.close();
    }
  });

  it('dlq: rejects exactly the changes whose lookups needed the database, and writes the rest', async () => {
    const { enricher } = await open('dlq');
    try {
      await enricher.enrich(warm());
      await db.down();
      const { batch, affected } = outageBatch();
      const r = await enricher.enrich(batch);
      const affectedIds = [...affected.keys()].map((i) => batch[i]!.eventId);
      expect(r.rejected.map((x) => x.eventId)).toEqual(affectedIds);
      for (const x of r.rejected) expect(x).toMatchObject({ code: 'ENRICHMENT_FAILED', reason: expect.stringMatching(/lookup/) });
      expect(r.enriched.map((c) => c.eventId)).toEqual(batch.filter((_, i) => !affected.has(i)).map((c) => c.eventId));
      await db.up();
      await sleep(FAST_RESILIENCE.breakerResetMs + 50);
      // Back up: only the key that truly does not exist is rejected (missing goes to the DLQ too).
      const after = await enricher.enrich(outageBatch().batch);
      expect(after.rejected).toHaveLength(1);
      expect(after.rejected[0]!.reason).toMatch(/order "O-0999999" not found/);
    } finally {
      await db.up();
      await enricher.close();
    }
  });

  it('wait: holds the batch (backpressure) until the database is back, then enriches every change once', async () => {
    const { enricher, metrics, logs } = await open('wait');
    try {
      await enricher.enrich(warm());
      await db.down();
      const { batch } = outageBatch();
      let settled = false;
      const pending = enricher.enrich(batch).finally(() => {
        settled = true;
      });
      // Several rounds of failed lookups go by and the caller is still blocked.
      await until('lookups to fail repeatedly', () => counts(metrics).failures >= 6);
      expect(settled).toBe(false);
      expect(logs.text()).toMatch(/waiting for the database/);
      await db.kill(); // terminated again while waiting: still nothing lost
      await db.up();
      const r = await pending;
      expect(r.rejected).toEqual([]);
      expect(r.enriched.map((c) => c.eventId)).toEqual(batch.map((c) => c.eventId));
      expect(r.enriched.map((c) => c.enrichment.status)).toEqual(['ok', 'ok', 'ok', 'skipped', 'ok', 'ok', 'ok', 'ok', 'missing']);
      expect(r.enriched[5]!.enrichment.order).toEqual({ channel: 'phone', status: 'paid', total_amount: '4.07' });
    } finally {
      await db.up();
      await enricher.close();
    }
  });

  it('wait: close() releases a blocked batch with a retriable SHUTDOWN error (nothing committed)', async () => {
    const { enricher } = await open('wait');
    await enricher.enrich(warm());
    await db.down();
    try {
      const outcome = expect(enricher.enrich(outageBatch().batch)).rejects.toMatchObject({ code: 'SHUTDOWN', retriable: true });
      await sleep(50);
      await enricher.close();
      await outcome;
    } finally {
      await db.up();
    }
  });
});
