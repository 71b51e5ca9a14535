import pg from 'pg';
import type { Logger } from '../core/logger.js';
import type { ConnectionTarget } from './connection.js';
import type { Redact } from './db-errors.js';
import { type LookupSpec, quoteName, selectClause } from './identifiers.js';
import { arrayRowsToLookupRows, type LookupClient, type LookupRow, RowValues } from './lookup-client.js';

/**
 * PostgreSQL through a `pg` pool. Keys travel as one text[] parameter (`= ANY($1)`), so a batch
 * is one round trip and no key value is ever part of the SQL text.
 */
export class PgLookupClient implements LookupClient {
  readonly dialect = 'postgres' as const;
  readonly maxKeysPerQuery = 1_000_000;
  readonly label: string;
  private readonly pool: pg.Pool;
  private readonly sql = new Map<string, string>();
  private readonly values = new RowValues();

  constructor(target: ConnectionTarget, opts: { queryTimeoutMs: number; connectTimeoutMs: number; log: Logger; redact: Redact }) {
    this.label = target.label;
    this.pool = new pg.Pool({
      host: target.host,
      port: target.port,
      ...(target.user !== undefined ? { user: target.user } : {}),
      ...(target.database !== undefined ? { database: target.database } : {}),
      ...(target.password !== undefined ? { password: target.password } : {}),
      ssl: target.tls ? { ...target.tls } : false,
      max: target.poolSize,
      connectionTimeoutMillis: opts.connectTimeoutMs,
      // The server cancels a slow lookup; the client-side timer is the backstop for a dead network.
      statement_timeout: opts.queryTimeoutMs,
      query_timeout: opts.queryTimeoutMs + 1_000,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      application_name: 'inventory-integrator',
    });
    // An idle client whose backend was terminated (restart, failover, pg_terminate_backend)
    // emits 'error'; the pool drops it and connects afresh on next use. Without this listener
    // the error would crash the process.
    this.pool.on('error', (err) => opts.log.warn({ err: { message: opts.redact(err.message), code: (err as { code?: string }).code } }, 'idle enrichment connection lost; it will be replaced'));
  }

  async select(spec: LookupSpec, keys: readonly string[]): Promise<LookupRow[]> {
    let sql = this.sql.get(spec.name);
    if (!sql) {
      sql = `${selectClause(spec, 'postgres')} WHERE ${quoteName(spec.key, 'postgres')} = ANY($1)`;
      this.sql.set(spec.name, sql);
    }
    // PostgreSQL text cannot hold NUL, so such a key cannot exist; sending it would fail the batch.
    const values = keys.some((k) => k.includes('\u0000')) ? keys.filter((k) => !k.includes('\u0000')) : keys;
    if (values.length === 0) return [];
    // Unnamed statement: two queries a batch make planning cost nothing, and named ones would
    // collide on PGlite, whose socket connections all share one session.
    // Rows as arrays in SELECT order: no object per row keyed by column name, only to be read once.
    const res = await this.pool.query<unknown[]>({ text: sql, values: [textArrayLiteral(values)], rowMode: 'array' });
    return arrayRowsToLookupRows(spec, res.rows, this.values);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/**
 * The keys as one text[] literal, built by a single join: pg's own conversion escapes and
 * appends element by element (two regex replaces and a few strings per key, a tenth of the
 * enriched run's extra allocation). Inside double quotes only `"` and `\` are special, so keys
 * without them need no escaping; a batch with one takes pg's conversion.
 */
export function textArrayLiteral(keys: readonly string[]): string | readonly string[] {
  if (keys.length === 0) return '{}';
  for (const k of keys) if (k.includes('"') || k.includes('\\')) return keys;
  return `{"${keys.join('","')}"}`;
}
