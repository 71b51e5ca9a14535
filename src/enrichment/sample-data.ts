import { quoteName } from './identifiers.js';

/**
 * The sample customers and orders the embedded database is seeded with (and, through
 * test/fixtures/sql, the real test databases): deterministic, so a demo, a test and a benchmark
 * can say exactly what each key must enrich to.
 */
export const TIERS = ['bronze', 'silver', 'gold', 'platinum'] as const;
export const COUNTRIES = ['US', 'DE', 'FR', 'JP', 'BR', 'IN'] as const;
export const CHANNELS = ['web', 'store', 'app', 'phone'] as const;
export const ORDER_STATUSES = ['placed', 'paid', 'shipped', 'delivered', 'cancelled'] as const;

/** Ids in the format of the event generator (test/fixtures/universe.ts): C-000001, O-0000001. */
export const sampleCustomerId = (n: number): string => `C-${String(n).padStart(6, '0')}`;
export const sampleOrderId = (n: number): string => `O-${String(n).padStart(7, '0')}`;
/** The customer of order n when `customers` customers exist (1-based). */
export const sampleOrderCustomer = (n: number, customers: number): number => 1 + ((n * 7) % customers);

export function sampleCustomer(n: number): { customer_id: string; name: string; email: string; tier: string; country: string } {
  return { customer_id: sampleCustomerId(n), name: `Customer ${n}`, email: `customer${n}@example.com`, tier: TIERS[n % 4]!, country: COUNTRIES[n % 6]! };
}

export function sampleOrder(n: number, customers: number): { order_id: string; customer_id: string | null; channel: string; status: string; total_amount: string } {
  const cents = (n * 37) % 100_000;
  return {
    order_id: sampleOrderId(n),
    customer_id: customers > 0 ? sampleCustomerId(sampleOrderCustomer(n, customers)) : null,
    channel: CHANNELS[n % 4]!,
    status: ORDER_STATUSES[n % 5]!,
    total_amount: `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`,
  };
}

export interface SampleTables {
  readonly customers: string;
  readonly orders: string;
}

const arr = (xs: readonly string[]) => `ARRAY[${xs.map((x) => `'${x}'`).join(',')}]`;

/** PostgreSQL DDL and set-based seed (generate_series): 200k orders load in a few seconds. */
export function postgresSampleSql(tables: SampleTables, counts: { customers: number; orders: number }): string[] {
  const c = quoteName(tables.customers, 'postgres');
  const o = quoteName(tables.orders, 'postgres');
  const customers = Math.max(0, Math.floor(counts.customers));
  const orders = Math.max(0, Math.floor(counts.orders));
  return [
    `CREATE TABLE IF NOT EXISTS ${c} (customer_id text PRIMARY KEY, name text NOT NULL, email text, tier text, country text)`,
    `CREATE TABLE IF NOT EXISTS ${o} (order_id text PRIMARY KEY, customer_id text, channel text, status text, total_amount numeric(12,2), placed_at timestamptz)`,
    `INSERT INTO ${c} SELECT 'C-' || lpad(n::text, 6, '0'), 'Customer ' || n, 'customer' || n || '@example.com', (${arr(TIERS)})[1 + n % 4], (${arr(COUNTRIES)})[1 + n % 6]
       FROM generate_series(1, ${customers}) AS n ON CONFLICT DO NOTHING`,
    `INSERT INTO ${o} SELECT 'O-' || lpad(n::text, 7, '0'), ${customers > 0 ? `'C-' || lpad((1 + (n::bigint * 7) % ${customers})::text, 6, '0')` : 'NULL'}, (${arr(CHANNELS)})[1 + n % 4],
       (${arr(ORDER_STATUSES)})[1 + n % 5], ((n::bigint * 37) % 100000) / 100.0, timestamptz '2026-01-01T00:00:00Z' + n * interval '1 minute'
       FROM generate_series(1, ${orders}) AS n ON CONFLICT DO NOTHING`,
  ];
}

/** Keys of rows to seed: what a caller's own event generator refers to. */
export interface SampleRows {
  readonly customers: Iterable<string>;
  readonly orders: Iterable<{ readonly orderId: string; readonly customerId: string | null }>;
}

/** A query function both `pg` and PGlite provide. */
export type QueryFn = (sql: string, params: unknown[]) => Promise<unknown>;

const ROWS_PER_INSERT = 20_000;

/**
 * Inserts customers and orders with the given ids (attributes follow the i-th row, as in
 * sampleCustomer / sampleOrder), bound as arrays through unnest(): a few round trips for 200k.
 */
export async function insertSampleRows(query: QueryFn, tables: SampleTables, rows: SampleRows): Promise<void> {
  const c = quoteName(tables.customers, 'postgres');
  const o = quoteName(tables.orders, 'postgres');
  let cols: unknown[][] = [[], [], [], [], []];
  let n = 0;
  const flushCustomers = async () => {
    if (cols[0]!.length) {
      await query(`INSERT INTO ${c} (customer_id, name, email, tier, country) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) ON CONFLICT DO NOTHING`, cols);
    }
    cols = [[], [], [], [], []];
  };
  for (const id of rows.customers) {
    const s = sampleCustomer(++n);
    [id, s.name, s.email, s.tier, s.country].forEach((v, i) => cols[i]!.push(v));
    if (cols[0]!.length >= ROWS_PER_INSERT) await flushCustomers();
  }
  await flushCustomers();
  n = 0;
  const flushOrders = async () => {
    if (cols[0]!.length) {
      await query(`INSERT INTO ${o} (order_id, customer_id, channel, status, total_amount) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[]) ON CONFLICT DO NOTHING`, cols);
    }
    cols = [[], [], [], [], []];
  };
  for (const row of rows.orders) {
    const s = sampleOrder(++n, 1);
    [row.orderId, row.customerId, s.channel, s.status, s.total_amount].forEach((v, i) => cols[i]!.push(v));
    if (cols[0]!.length >= ROWS_PER_INSERT) await flushOrders();
  }
  await flushOrders();
}
