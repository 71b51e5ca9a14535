import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryMetrics } from '../../src/core/metrics.js';
import type { InventoryChange } from '../../src/core/model.js';
import type { Enricher } from '../../src/core/ports.js';
import { createEnricher } from '../../src/enrichment/create.js';
import { sampleCustomer, sampleOrder, sampleOrderCustomer } from '../../src/enrichment/sample-data.js';
import { SILENT_LOGGER } from '../../src/core/logger.js';
import { captureLogs, change, counts, type Dialect, dbConfig, cust, ord } from './harness.js';

/** What the suite needs from one database: its sample tables, and raw SQL for the test's own rows. */
export interface SuiteDb {
  readonly tables: { customers: string; orders: string };
  readonly customers: number;
  readonly orders: number;
  /** Runs SQL as admin with bound parameters (`$1` style is translated for MySQL by the caller). */
  exec(sql: string, params?: unknown[]): Promise<unknown[]>;
  /** Quoted table reference for admin SQL. */
  ref(table: 'customers' | 'orders'): string;
  placeholder(i: number): string;
  /** Holds an exclusive lock on the customers table (from another session) until the returned release. */
  lockCustomers(): Promise<() => Promise<void>>;
  drop(): Promise<void>;
}

const CUSTOMER_COLS = ['name', 'tier', 'country'] as const;
const ORDER_COLS = ['channel', 'status', 'total_amount'] as const;
const pick = <T extends Record<string, unknown>>(row: T, cols: readonly (keyof T)[]) => Object.fromEntries(cols.map((c) => [c, row[c]]));

/** The enrichment a change must get from the deterministic sample data. */
function expected(c: InventoryChange, db: SuiteDb) {
  const num = (id: string | null, format: (n: number) => string, max: number) => {
    const n = id === null ? NaN : Number(id.replace(/^[A-Z]-/, ''));
    return Number.isInteger(n) && n >= 1 && n <= max && format(n) === id ? n : undefined;
  };
  const o = num(c.orderId, ord, db.orders);
  const order = o !== undefined ? pick(sampleOrder(o, db.customers), ORDER_COLS) : null;
  const customerId = c.customerId ?? (o !== undefined ? cust(sampleOrderCustomer(o, db.customers)) : null);
  const cn = num(customerId, cust, db.customers);
  const customer = cn !== undefined ? pick(sampleCustomer(cn), CUSTOMER_COLS) : null;
  const failed = [...(c.orderId !== null && !order ? ['order'] : []), ...(customerId !== null && !customer ? ['customer'] : [])];
  const status = c.orderId === null && customerId === null ? 'skipped' : failed.length ? 'missing' : 'ok';
  return { status, failed, customer, order };
}

export function lookupSuite(dialect: Dialect, setup: () => Promise<SuiteDb>): void {
  describe(`${dialect} enrichment lookups (real database)`, () => {
    let db: SuiteDb;
    beforeAll(async () => {
      db = await setup();
    });
    afterAll(async () => {
      await db?.drop();
    });

    const open = async (extra: Record<string, unknown> = {}, deps: { metrics?: MemoryMetrics; clock?: { now(): number } } = {}) => {
      const metrics = deps.metrics ?? new MemoryMetrics();
      const enricher = await createEnricher(dbConfig(dialect, db.tables, extra), { log: SILENT_LOGGER, metrics, ...(deps.clock ? { clock: deps.clock } : {}) });
      return { enricher, metrics };
    };

    it('enriches a 3,000-change batch with one orders query and one customers query, every value right', async () => {
      const { enricher, metrics } = await open();
      try {
        const batch: InventoryChange[] = [];
        for (let i = 0; i < 3000; i++) {
          const k = 1 + ((i * 131) % (db.orders + 50)); // some ids beyond the seeded range: missing
          const kind = i % 5;
          batch.push(
            kind === 0 ? change(ord(k), cust(1 + (k % (db.customers + 5))))
            : kind === 1 ? change(ord(k), null) // the order's customer is used
            : kind === 2 ? change(null, cust(1 + (k % (db.customers + 5))))
            : kind === 3 ? change(null, null)
            : change(ord(k), cust(k % 50)),
          );
        }
        const result = await enricher.enrich(batch);
        expect(counts(metrics).queries).toBe(2);
        expect(result.rejected).toEqual([]);
        expect(result.enriched.map((c) => c.eventId)).toEqual(batch.map((c) => c.eventId));
        for (const [i, c] of result.enriched.entries()) expect(c.enrichment, `change ${i} ${c.orderId}/${c.customerId}`).toEqual(expected(batch[i]!, db));
        const statuses = new Set(result.enriched.map((c) => c.enrichment.status));
        expect([...statuses].sort()).toEqual(['missing', 'ok', 'skipped']);

        const onlyCustomers = await enricher.enrich([change(null, cust(1)), change(null, cust(999999))]);
        expect(counts(metrics).queries).toBe(3); // no orders asked for: no orders query
        expect(onlyCustomers.enriched.map((c) => c.enrichment.status)).toEqual(['ok', 'missing']);
      } finally {
        await enricher.close();
      }
    });

    it('answers repeated keys from the cache and counts hits and misses', async () => {
      const { enricher, metrics } = await open();
      try {
        const batch = [change(ord(1), null), change(ord(2), cust(3)), change(ord(1), cust(3)), change(null, cust(4))];
        const first = await enricher.enrich(batch);
        // unique keys: 2 orders; customers 3, 4 and order 1's customer
        const orderCustomer = cust(sampleOrderCustomer(1, db.customers));
        const uniqueCustomers = new Set([cust(3), cust(4), orderCustomer]).size;
        expect(counts(metrics)).toEqual({ queries: 2, hits: 0, misses: 2 + uniqueCustomers, failures: 0 });
        const again = await enricher.enrich(batch.map((c) => change(c.orderId, c.customerId)));
        expect(counts(metrics)).toEqual({ queries: 2, hits: 2 + uniqueCustomers, misses: 2 + uniqueCustomers, failures: 0 });
        expect(again.enriched.map((c) => c.enrichment)).toEqual(first.enriched.map((c) => c.enrichment));
        // By index, the pipeline's path: the enrichments enrich() set on its copies.
        expect(await enricher.enrichEach!(batch)).toEqual(again.enriched.map((c) => c.enrichment));
      } finally {
        await enricher.close();
      }
    });

    it('remembers a missing key for negativeTtlMs and a found row for ttlMs, then asks again', async () => {
      let now = 1_000_000;
      const clock = { now: () => now };
      const { enricher, metrics } = await open({ cache: { maxEntries: 100, ttlMs: 60_000, negativeTtlMs: 5_000 } }, { clock });
      const id = `CUST-late-${dialect}`;
      try {
        const missing = await enricher.enrich([change(null, id)]);
        expect(missing.enriched[0]!.enrichment).toEqual({ status: 'missing', failed: ['customer'], customer: null, order: null });
        await db.exec(`INSERT INTO ${db.ref('customers')} (customer_id, name, tier, country) VALUES (${db.placeholder(1)}, 'Late', 'gold', 'DE')`, [id]);
        expect((await enricher.enrich([change(null, id)])).enriched[0]!.enrichment.status).toBe('missing'); // negative cache
        expect(counts(metrics).queries).toBe(1);
        now += 5_001;
        const found = await enricher.enrich([change(null, id)]);
        expect(found.enriched[0]!.enrichment).toEqual({ status: 'ok', failed: [], customer: { name: 'Late', tier: 'gold', country: 'DE' }, order: null });
        expect(counts(metrics).queries).toBe(2);

        await db.exec(`UPDATE ${db.ref('customers')} SET name = 'Renamed' WHERE customer_id = ${db.placeholder(1)}`, [id]);
        now += 59_000; // within ttlMs of the fetch: the cached row is still trusted
        expect((await enricher.enrich([change(null, id)])).enriched[0]!.enrichment.customer?.name).toBe('Late');
        now += 1_001;
        expect((await enricher.enrich([change(null, id)])).enriched[0]!.enrichment.customer?.name).toBe('Renamed');
        expect(counts(metrics)).toMatchObject({ queries: 3, hits: 2, misses: 3 });
      } finally {
        await enricher.close();
      }
    });

    it('binds hostile key values as data: quotes, "; DROP TABLE", unicode and 10 kB keys give the right answers', async () => {
      const hostile = [
        `'; DROP TABLE ${db.tables.customers.split('.').pop()}; --`,
        "O'Brien",
        '"double" `back` \\slash\\',
        "' OR '1'='1",
        'ünïcødé 顧客 🚀 \u202e',
        '%_wild*card?',
      ];
      for (const [i, id] of hostile.entries()) {
        await db.exec(`INSERT INTO ${db.ref('customers')} (customer_id, name, tier, country) VALUES (${db.placeholder(1)}, ${db.placeholder(2)}, 'gold', 'US')`, [id, `hostile ${i}`]);
        await db.exec(`INSERT INTO ${db.ref('orders')} (order_id, customer_id, channel, status, total_amount) VALUES (${db.placeholder(1)}, ${db.placeholder(2)}, 'web', 'paid', 1.5)`, [`o-${id}`, id]);
      }
      const { enricher, metrics } = await open();
      try {
        const big = 'x'.repeat(10 * 1024);
        const bigHostile = `'); DELETE FROM ${db.tables.orders}; --`.padEnd(10 * 1024, '\u00e9');
        const batch = [
          ...hostile.map((id) => change(null, id)),
          ...hostile.map((id) => change(`o-${id}`, null)),
          change(big, big),
          change(bigHostile, null),
          change("' OR 1=1 --", "' OR ''='"),
          change(ord(1), cust(1)),
        ];
        const result = await enricher.enrich(batch);
        expect(counts(metrics).queries).toBe(2);
        const got = result.enriched.map((c) => c.enrichment);
        for (const [i] of hostile.entries()) {
          expect(got[i]).toEqual({ status: 'ok', failed: [], customer: { name: `hostile ${i}`, tier: 'gold', country: 'US' }, order: null });
          expect(got[hostile.length + i]).toEqual({
            status: 'ok',
            failed: [],
            customer: { name: `hostile ${i}`, tier: 'gold', country: 'US' },
            order: { channel: 'web', status: 'paid', total_amount: '1.50' },
          });
        }
        const rest = got.slice(hostile.length * 2);
        expect(rest.map((e) => [e!.status, e!.failed])).toEqual([
          ['missing', ['order', 'customer']],
          ['missing', ['order']],
          ['missing', ['order', 'customer']],
          ['ok', []],
        ]);
        // Nothing was dropped or deleted.
        const [c] = (await db.exec(`SELECT COUNT(*) AS n FROM ${db.ref('customers')}`)) as { n: unknown }[];
        const [o] = (await db.exec(`SELECT COUNT(*) AS n FROM ${db.ref('orders')}`)) as { n: unknown }[];
        expect(Number(c!.n)).toBeGreaterThanOrEqual(db.customers + hostile.length);
        expect(Number(o!.n)).toBe(db.orders + hostile.length);
      } finally {
        await enricher.close();
      }
    });

    it('binds keys that need no escaping as data too: commas, braces, NULL, quotes of SQL, unicode', async () => {
      // No key here has a double quote or a backslash, so the PostgreSQL client sends them as
      // one array literal it builds itself (the batch above takes pg's own conversion).
      const plain = ['a,b', '{x}', 'NULL', ' spaced ', `'; DROP TABLE ${db.tables.orders.split('.').pop()}; --`, "' OR '1'='1", 'ünïcødé 顧客 🚀', '}{,'];
      for (const [i, id] of plain.entries()) {
        await db.exec(`INSERT INTO ${db.ref('customers')} (customer_id, name, tier, country) VALUES (${db.placeholder(1)}, ${db.placeholder(2)}, 'silver', 'DE')`, [`p-${id}`, `plain ${i}`]);
      }
      const { enricher, metrics } = await open();
      try {
        const result = await enricher.enrich([...plain.map((id) => change(null, `p-${id}`)), change(null, 'p-NULL-not-there')]);
        expect(counts(metrics).queries).toBe(1);
        const got = result.enriched.map((c) => c.enrichment);
        for (const [i] of plain.entries()) expect(got[i]).toEqual({ status: 'ok', failed: [], customer: { name: `plain ${i}`, tier: 'silver', country: 'DE' }, order: null });
        expect(got[plain.length]).toMatchObject({ status: 'missing', failed: ['customer'] });
      } finally {
        await enricher.close();
      }
    });

    it('does not retry an error retrying cannot fix (unknown column): emit marks the changes failed, wait stops the pipeline', async () => {
      const bad = { lookups: { customers: { table: db.tables.customers, columns: ['name', 'no_such_column'] } } };
      // At start-up the probe query catches it.
      await expect(open(bad)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });

      // Discovered later (the column renamed under a running enricher): one attempt, no retries.
      const { enricher, metrics } = await open({ policy: 'emit' });
      const waiting = await open({ policy: 'wait' });
      try {
        await db.exec(`ALTER TABLE ${db.ref('customers')} RENAME COLUMN tier TO tier_renamed`);
        const r = await enricher.enrich([change(null, cust(7)), change(null, null)]);
        expect(r.enriched.map((c) => [c.enrichment.status, c.enrichment.failed])).toEqual([
          ['failed', ['customer']],
          ['skipped', []],
        ]);
        expect(counts(metrics)).toMatchObject({ queries: 1, failures: 1 });
        await expect(waiting.enricher.enrich([change(null, cust(8))])).rejects.toMatchObject({ code: 'ENRICHMENT_FAILED', retriable: false });
        expect(counts(waiting.metrics).queries).toBe(1);
      } finally {
        await db.exec(`ALTER TABLE ${db.ref('customers')} RENAME COLUMN tier_renamed TO tier`);
        await enricher.close();
        await waiting.enricher.close();
      }
    });

    it('cancels a lookup that exceeds queryTimeoutMs, marks it failed after the retries, and recovers', async () => {
      const resilience = { queryTimeoutMs: 300, connectTimeoutMs: 2_000, maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10, breakerThreshold: 10 };
      const { enricher, metrics } = await open({ resilience });
      try {
        await enricher.enrich([change(null, cust(1))]); // connected and prepared before the lock
        const release = await db.lockCustomers();
        let r;
        try {
          r = await enricher.enrich([change(ord(3), null), change(null, cust(2))]);
        } finally {
          await release();
        }
        expect(r.enriched.map((c) => [c.enrichment.status, c.enrichment.failed])).toEqual([
          ['failed', ['customer']],
          ['failed', ['customer']],
        ]);
        expect(r.enriched[0]!.enrichment.order).not.toBeNull(); // the orders table was not locked
        expect(counts(metrics)).toMatchObject({ queries: 4, failures: 2 }); // 1 + 1 orders + 2 customer attempts
        const after = await enricher.enrich([change(null, cust(2))]);
        expect(after.enriched[0]!.enrichment.status).toBe('ok');
      } finally {
        await enricher.close();
      }
    });

    it('keeps the password and the connection URL out of every log line and error message', async () => {
      const password = 'Sup3r-S3cret-Pa55word';
      const env = { ENRICH_TEST_PASSWORD: password };
      const { log, text } = captureLogs('debug');
      const user = dialect === 'postgres' ? 'postgres' : 'root';
      const url = dialect === 'postgres' ? `postgres://${user}@127.0.0.1:5432/test` : `mysql://${user}@127.0.0.1:3306/test`;
      const cfg = { url, host: undefined, port: undefined, user: undefined, database: undefined, passwordEnv: 'ENRICH_TEST_PASSWORD' };
      const errors: string[] = [];
      // PostgreSQL (trust auth) accepts the password and connects; MariaDB's root has none, so it
      // refuses: both paths are logged.
      let enricher: Enricher | undefined;
      let status = '';
      try {
        enricher = await createEnricher(dbConfig(dialect, db.tables, cfg), { log, metrics: new MemoryMetrics(), env });
        status = (await enricher.enrich([change(ord(1), null)])).enriched[0]!.enrichment.status;
      } catch (err) {
        status = (err as { code?: string }).code ?? 'error';
        errors.push(String(err), JSON.stringify(err), (err as Error).stack ?? '');
        log.error({ err }, 'enricher failed');
      } finally {
        await enricher?.close();
      }
      const bad = await createEnricher(
        dbConfig(dialect, db.tables, { ...cfg, url: url.replace(/:\d+\//, ':1/'), resilience: { maxAttempts: 1, connectTimeoutMs: 500 } }),
        { log, metrics: new MemoryMetrics(), env },
      );
      const failed = await bad.enrich([change(ord(1), cust(1))]);
      errors.push(...failed.enriched.map((c) => JSON.stringify(c)));
      await bad.close();
      const all = text() + errors.join('\n');
      expect(status).toBe(dialect === 'postgres' ? 'ok' : 'CONFIG_INVALID');
      if (dialect === 'mysql') expect(errors.join('\n')).toMatch(/Access denied/);
      expect(text()).toMatch(/ECONNREFUSED/); // the unreachable one was logged
      expect(all).not.toContain(password);
      expect(all).not.toMatch(/(postgres|mysql):\/\//);
    });
  });
}
