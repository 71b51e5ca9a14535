import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type { Logger } from '../core/logger.js';
import type { ConnectionTarget } from './connection.js';
import { insertSampleRows, postgresSampleSql, type SampleRows, type SampleTables } from './sample-data.js';

export interface EmbeddedPostgres {
  readonly db: PGlite;
  readonly host: string;
  readonly port: number;
  /** What the pg adapter connects with: user postgres, database postgres, no password. */
  target(poolSize: number): ConnectionTarget;
  stop(): Promise<void>;
}

/**
 * An in-process PostgreSQL (PGlite, WASM) behind a loopback wire-protocol socket on a free port,
 * so the demo enriches through exactly the same `pg` adapter as production, with no server.
 */
export async function startEmbeddedPostgres(opts: { maxConnections?: number; log?: Logger } = {}): Promise<EmbeddedPostgres> {
  const db = new PGlite();
  await db.waitReady;
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: opts.maxConnections ?? 4 });
  await server.start();
  const conn = server.getServerConn();
  const port = Number(conn.slice(conn.lastIndexOf(':') + 1));
  opts.log?.info({ db: `embedded postgres 127.0.0.1:${port}` }, 'embedded PostgreSQL (PGlite) listening');
  return {
    db,
    host: '127.0.0.1',
    port,
    target: (poolSize) => ({
      host: '127.0.0.1',
      port,
      user: 'postgres',
      database: 'postgres',
      password: undefined,
      tls: undefined,
      poolSize,
      preparedStatements: false,
      label: `embedded postgres 127.0.0.1:${port}/postgres`,
    }),
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}

const DEFAULT_TABLES: SampleTables = { customers: 'customers', orders: 'orders' };

/** Creates the sample tables and fills them (idempotent); the demo and tests reuse it. */
export async function seedSampleData(db: Pick<PGlite, 'exec'>, counts: { customers: number; orders: number }, tables: SampleTables = DEFAULT_TABLES): Promise<void> {
  for (const sql of postgresSampleSql(tables, counts)) await db.exec(sql);
}

/**
 * Creates the sample tables and fills them with exactly the given ids (e.g. the customers and
 * orders of the demo's event generator, with each order's own customer).
 */
export async function seedRows(db: Pick<PGlite, 'exec' | 'query'>, rows: SampleRows, tables: SampleTables = DEFAULT_TABLES): Promise<void> {
  for (const sql of postgresSampleSql(tables, { customers: 0, orders: 0 })) await db.exec(sql);
  await insertSampleRows((sql, params) => db.query(sql, params), tables, rows);
}
