import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerId, orderId } from '../fixtures/events.js';
import { createPostgresSample, POSTGRES, type PostgresSample } from '../fixtures/sql/databases.js';
import { createStream, type Kinesalite, startKinesalite } from '../stack/kinesalite.js';
import { FAST_BATCHING, kinesisSource, serviceConfig } from './harness/configs.js';
import { allDelivered, delivered, finalCheck, rawRows } from './harness/lake-check.js';
import { KinesisProducer } from './harness/producers.js';
import { startService, until, writeConfig } from './harness/service.js';
import { startTcpProxy, type TcpProxy } from './harness/tcp-proxy.js';

/**
 * Case 3: PostgreSQL (the real server at 127.0.0.1:5432) unreachable for a while, behind a TCP
 * proxy the test cuts and restores, under each enrichment policy. Before the cut, events name
 * customers and orders that end up cached; during it, events name keys never seen (they need the
 * database) mixed with cached keys and events with no keys at all (they do not). So exactly the
 * "affected" events are known: emit marks exactly them failed, dlq dead-letters exactly them,
 * wait holds everything until the database is back and then enriches all of them.
 */
const CUSTOMERS = 200;
const ORDERS = 600;

let kin: Kinesalite;
let db: PostgresSample;
let dir: string;

beforeAll(async () => {
  [kin, db] = await Promise.all([startKinesalite(), createPostgresSample({ customers: CUSTOMERS, orders: ORDERS }, { prefix: 'faults' })]);
  dir = await mkdtemp(join(tmpdir(), 'faults-db-'));
});
afterAll(async () => {
  await kin?.stop();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const T0 = Date.UTC(2026, 10, 21, 10);
let seq = 0;
/** A sale naming an order (0-based index, or null) and a customer (or null). */
const sale = (order: number | null, customer: number | null): string =>
  JSON.stringify({
    eventType: 'sale',
    sku: `SKU-${String(seq % 50).padStart(5, '0')}`,
    warehouseId: 'WH-01',
    quantityBefore: 100,
    quantityAfter: 99,
    delta: -1,
    orderId: order === null ? null : orderId(order),
    customerId: customer === null ? null : customerId(customer),
    eventTime: new Date(T0 + ++seq * 1000).toISOString(),
  });

const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);
/** The customer (0-based) of order index i, as the seed SQL assigns it: 1 + (7 n mod C) for 1-based n. */
const customerOfOrder = (i: number): number => (7 * (i + 1)) % CUSTOMERS;
/** What the warm-up caches: customers 0-49 and the customers of orders 0-99 (looked up with them). */
const WARM_ORDERS = range(0, 100);
const WARM_CUSTOMERS = new Set([...range(0, 50), ...WARM_ORDERS.map(customerOfOrder)]);
const COLD_CUSTOMERS = range(0, CUSTOMERS).filter((c) => !WARM_CUSTOMERS.has(c)).slice(0, 40);

describe('fault: the database unreachable for a while', () => {
  it.each(['emit', 'dlq', 'wait'] as const)('policy %s', async (policy) => {
    const proxy: TcpProxy = await startTcpProxy(POSTGRES.host, POSTGRES.port);
    const stream = `faults-db-${policy}`;
    const lake = join(dir, policy);
    await createStream(kin.client(), stream, 2);
    const enrichment = {
      type: 'postgres',
      host: '127.0.0.1',
      port: proxy.port,
      user: db.admin.user,
      database: POSTGRES.database,
      policy,
      lookups: { customers: { table: db.tables.customers }, orders: { table: db.tables.orders } },
      resilience: { queryTimeoutMs: 2000, connectTimeoutMs: 1000, maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 20, breakerThreshold: 3, breakerResetMs: 200, waitMaxDelayMs: 200 },
    };
    // Polls overlap (three enriched at once), so lookups of several polls meet the breaker
    // together when the database comes back: they must wait for its trial, not fail.
    const batching = { ...FAST_BATCHING, pollsInProgress: 3 };
    const config = await writeConfig(dir, policy, serviceConfig({ source: kinesisSource(kin.endpoint, stream), lakeDir: lake, checkpointFile: join(dir, `${policy}-checkpoints.json`), enrichment, batching }));
    const producer = new KinesisProducer(kin.client(), stream);
    const service = await startService(config, { name: `service (${policy})` });
    try {
      // Before: orders 0-99 and customers 0-49 are looked up and cached.
      expect(COLD_CUSTOMERS).toHaveLength(40);
      await producer.put([...WARM_ORDERS.map((o) => sale(o, null)), ...range(0, 50).map((c) => sale(null, c))]);
      await until('the warm-up events', 60_000, () => allDelivered(lake, producer.eventIds));

      proxy.cut();
      const affected = new Set([
        ...(await producer.put(range(300, 60).map((o) => sale(o, null)))),
        ...(await producer.put(COLD_CUSTOMERS.map((c) => sale(null, c)))),
      ]);
      const unaffected = new Set([
        ...(await producer.put(range(0, 40).map((o) => sale(o, null)))), // cached orders
        ...(await producer.put(range(0, 30).map(() => sale(null, null)))), // nothing to look up
      ]);
      if (policy === 'wait') {
        // Held: nothing of the outage batch is written while the database is away.
        await new Promise((r) => setTimeout(r, 4000));
        const now = await delivered(lake);
        expect([...affected, ...unaffected].filter((id) => now.has(id))).toEqual([]);
        expect(proxy.refused).toBeGreaterThan(0);
      } else {
        // emit and dlq keep going through the outage.
        await until('the outage events, during the outage', 60_000, () => allDelivered(lake, [...affected, ...unaffected]));
      }
      proxy.restore();
      // Give the pool and the breaker a moment to see the database back: events looked up in
      // the very millisecond of the restore may still meet a dead pooled connection, and under
      // emit/dlq that (rightly) marks them, which is not what this part checks.
      await new Promise((r) => setTimeout(r, 1500));

      // After: new keys again, enriched once the breaker lets its trial through.
      const after = new Set(await producer.put(range(400, 50).map((o) => sale(o, null))));
      await until('every event', 90_000, () => allDelivered(lake, producer.eventIds));
      expect(await service.drain()).toBe(0);

      const { dlq } = await finalCheck(`DB outage, policy ${policy} (Kinesis, PostgreSQL)`, lake, producer.eventIds, `affected ${affected.size}`);
      const status = new Map((await rawRows(lake, ['event_id', 'enrichment_status'])).map((r) => [String(r.event_id), String(r.enrichment_status)]));
      const withStatus = (s: string) => [...status].filter(([, v]) => v === s).map(([id]) => id);
      for (const id of after) expect(status.get(id)).toBe('ok');
      if (policy === 'emit') {
        expect(new Set(withStatus('failed'))).toEqual(affected);
        expect(dlq.size).toBe(0);
      } else if (policy === 'dlq') {
        expect(new Set(dlq.keys())).toEqual(affected);
        for (const l of dlq.values()) expect(l.code).toBe('ENRICHMENT_FAILED');
        expect(withStatus('failed')).toEqual([]);
      } else {
        expect(dlq.size).toBe(0);
        expect(withStatus('failed')).toEqual([]);
        for (const id of affected) expect(status.get(id)).toBe('ok');
      }
      for (const id of unaffected) expect(['ok', 'skipped']).toContain(status.get(id));
    } finally {
      await service.stop();
      await proxy.stop();
    }
  }, 240_000);
});
