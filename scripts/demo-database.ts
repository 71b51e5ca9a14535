import { exportReferenceRows } from '../src/catalog/reference.js';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../src/enrichment/embedded.js';
import { insertSampleRows, postgresSampleSql, type QueryFn, type SampleRows, type SampleTables } from '../src/enrichment/sample-data.js';
import { connectPostgres, POSTGRES, uniqueName } from '../test/fixtures/sql/databases.js';

/** How a service process reaches the database: the `enrichment` section of its config. */
export interface EnrichmentTarget {
  readonly type: 'postgres';
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  readonly poolSize: number;
  readonly lookups: { readonly customers: { readonly table: string }; readonly orders: { readonly table: string } };
}

export interface DemoDatabase {
  /** For the summary: which server, and where the demo's tables are. */
  readonly description: string;
  readonly tables: SampleTables;
  enrichmentConfig(poolSize: number): EnrichmentTarget;
  /** Creates the tables and fills them with exactly these customers and orders. */
  seed(rows: SampleRows, placedBefore: number): Promise<{ customers: number; orders: number }>;
  /** Writes the orders and customers tables as the lake's reference Parquet (for the curated join). */
  exportReference(lakeDir: string): Promise<{ orders: number; customers: number }>;
  /** Drops what the demo created (its own schema on a real server) and closes. */
  close(): Promise<void>;
}

const ORDERS_SQL = (t: SampleTables, q: (n: string) => string) => `SELECT order_id, customer_id, channel, status, total_amount, placed_at FROM ${q(t.orders)}`;
const CUSTOMERS_SQL = (t: SampleTables, q: (n: string) => string) => `SELECT customer_id, name, tier, country FROM ${q(t.customers)}`;
const quote = (name: string) => name.split('.').map((p) => `"${p}"`).join('.');

/**
 * Gives each order a placement time before the workload starts (the sample rows leave it empty),
 * spread over the preceding day by a hash of the id so it is the same on every run.
 */
const placedAtSql = (t: SampleTables) =>
  `UPDATE ${quote(t.orders)} SET placed_at = $1::timestamptz - (abs(hashtext(order_id)) % 86400) * interval '1 second'`;

async function seedWith(query: QueryFn, tables: SampleTables, rows: SampleRows, placedBefore: number): Promise<{ customers: number; orders: number }> {
  for (const sql of postgresSampleSql(tables, { customers: 0, orders: 0 })) await query(sql, []);
  await insertSampleRows(query, tables, rows);
  await query(placedAtSql(tables), [new Date(placedBefore).toISOString()]);
  const count = async (t: string) => Number(((await query(`SELECT count(*)::int AS n FROM ${quote(t)}`, [])) as { rows: Array<{ n: number }> }).rows[0]!.n);
  return { customers: await count(tables.customers), orders: await count(tables.orders) };
}

async function exportWith(query: QueryFn, tables: SampleTables, lakeDir: string): Promise<{ orders: number; customers: number }> {
  const orders = await exportReferenceRows(lakeDir, 'orders', (await query(ORDERS_SQL(tables, quote), [])) as { rows: object[] });
  const customers = await exportReferenceRows(lakeDir, 'customers', (await query(CUSTOMERS_SQL(tables, quote), [])) as { rows: object[] });
  return { orders: orders.rows, customers: customers.rows };
}

/** The running PostgreSQL of LOCAL-STACK.md, with a schema of the demo's own (dropped at the end). */
async function realPostgres(): Promise<DemoDatabase> {
  const admin = await connectPostgres();
  const schema = uniqueName('inventory_demo');
  const tables = { customers: `${schema}.customers`, orders: `${schema}.orders` };
  const query: QueryFn = (sql, params) => admin.query(sql, params);
  try {
    await admin.query(`CREATE SCHEMA "${schema}"`);
  } catch (err) {
    await admin.end().catch(() => undefined);
    throw err;
  }
  return {
    description: `PostgreSQL at ${POSTGRES.host}:${POSTGRES.port}, database ${POSTGRES.database}, schema ${schema} (dropped at the end)`,
    tables,
    enrichmentConfig: (poolSize) => ({
      type: 'postgres',
      host: POSTGRES.host,
      port: POSTGRES.port,
      user: admin.user,
      database: POSTGRES.database,
      poolSize,
      lookups: { customers: { table: tables.customers }, orders: { table: tables.orders } },
    }),
    seed: (rows, placedBefore) => seedWith(query, tables, rows, placedBefore),
    exportReference: (lakeDir) => exportWith(query, tables, lakeDir),
    async close() {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await admin.end().catch(() => undefined);
    },
  };
}

/** PGlite behind a loopback socket in this process: every service connects to it like to a server. */
async function embeddedPostgres(maxConnections: number): Promise<DemoDatabase> {
  const pg: EmbeddedPostgres = await startEmbeddedPostgres({ maxConnections });
  const tables = { customers: 'customers', orders: 'orders' };
  const query: QueryFn = (sql, params) => pg.db.query(sql, params);
  return {
    description: `embedded PostgreSQL (PGlite) at 127.0.0.1:${pg.port} in the demo process`,
    tables,
    enrichmentConfig: (poolSize) => {
      const t = pg.target(poolSize);
      return {
        type: 'postgres',
        host: t.host,
        port: t.port,
        user: t.user ?? 'postgres',
        database: t.database ?? 'postgres',
        poolSize,
        lookups: { customers: { table: tables.customers }, orders: { table: tables.orders } },
      };
    },
    seed: (rows, placedBefore) => seedWith(query, tables, rows, placedBefore),
    exportReference: (lakeDir) => exportWith(query, tables, lakeDir),
    close: () => pg.stop(),
  };
}

/**
 * The database the services enrich from: the PostgreSQL running at 127.0.0.1:5432 when it
 * answers, else an embedded one. `maxConnections` bounds the embedded server's sockets.
 */
export async function openDemoDatabase(opts: { maxConnections: number; embeddedOnly?: boolean; say: (line: string) => void }): Promise<DemoDatabase> {
  if (!opts.embeddedOnly) {
    try {
      return await realPostgres();
    } catch (err) {
      // connectPostgres explains itself for the test suites; the demo needs only why.
      const why = /not reachable: (.*)$/s.exec((err as Error).message)?.[1] ?? (err as Error).message;
      opts.say(`no PostgreSQL at ${POSTGRES.host}:${POSTGRES.port} (${why.slice(0, 200)}); using an embedded one`);
    }
  }
  return embeddedPostgres(opts.maxConnections);
}
