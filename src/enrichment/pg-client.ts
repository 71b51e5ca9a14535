import { hash } from 'node:crypto';
import { checkServerIdentity, type ConnectionOptions } from 'node:tls';
import pg from 'pg';
import type { Logger } from '../core/logger.js';
import type { ConnectionTarget } from './connection.js';
import type { Redact } from './db-errors.js';
import { type LookupSpec, quoteName, selectClause } from './identifiers.js';
import { arrayRowsToLookupRows, type LookupClient, type LookupRow, RowValues } from './lookup-client.js';

/**
 * PostgreSQL through a `pg` pool. Keys travel as one text[] parameter (`= ANY($1)`), so a batch
 * is one round trip and no key value is ever part of the SQL text.
 *
 * The two lookup statements are named (prepared) unless the target says not to: each connection
 * then parses them once, and the server soon keeps one generic plan instead of planning every
 * batch, about a tenth less database CPU per lookup. A server that does not keep them for us
 * (a pooler handing our connection another session) answers "does not exist" or "already
 * exists"; the query is then sent unnamed, and so is every later one.
 */
export class PgLookupClient implements LookupClient {
  readonly dialect = 'postgres' as const;
  readonly maxKeysPerQuery = 1_000_000;
  readonly label: string;
  protected readonly pool: pg.Pool;
  private readonly sql = new Map<string, { readonly text: string; readonly name: string }>();
  private readonly values = new RowValues();
  private named: boolean;
  private readonly log: Logger;

  constructor(target: ConnectionTarget, opts: { queryTimeoutMs: number; connectTimeoutMs: number; log: Logger; redact: Redact }) {
    this.label = target.label;
    this.named = target.preparedStatements ?? false;
    this.log = opts.log;
    this.pool = new pg.Pool({
      host: target.host,
      port: target.port,
      ...(target.user !== undefined ? { user: target.user } : {}),
      ...(target.database !== undefined ? { database: target.database } : {}),
      ...(target.password !== undefined ? { password: target.password } : {}),
      ssl: target.tls ? pgTls(target.tls) : false,
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
      const text = lookupSql(spec);
      sql = { text, name: statementName(spec.name, text) };
      this.sql.set(spec.name, sql);
    }
    // PostgreSQL text cannot hold NUL, so such a key cannot exist; sending it would fail the batch.
    const values = keys.some((k) => k.includes('\u0000')) ? keys.filter((k) => !k.includes('\u0000')) : keys;
    if (values.length === 0) return [];
    // Rows as arrays in SELECT order: no object per row keyed by column name, only to be read once.
    const query = { text: sql.text, values: [textArrayLiteral(values)], rowMode: 'array' as const };
    const res = this.named ? await this.queryNamed(query, sql.name) : await this.pool.query<unknown[]>(query);
    return arrayRowsToLookupRows(spec, res.rows, this.values);
  }

  /** `query` as the prepared statement `name`; unnamed (now and from then on) if the session lost it. */
  private async queryNamed(query: pg.QueryConfig<unknown[]> & { rowMode: 'array' }, name: string): Promise<pg.QueryResult<unknown[]>> {
    try {
      return await this.pool.query<unknown[]>({ ...query, name });
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code !== 'string' || !LOST_STATEMENT.has(code)) throw err;
      // Queries in flight on other connections may fail alike: one warning.
      if (this.named) {
        this.named = false;
        this.log.warn(
          { db: this.label, code },
          'the database did not keep the prepared lookup statements (a pooler sharing sessions?): sending them unnamed from now on; set enrichment.preparedStatements to false to skip this',
        );
      }
      return this.pool.query<unknown[]>(query);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/**
 * pg checks the certificate against the host it dialled, and when that is a name it replaces the
 * servername it was given with it: through a tunnel (localhost) serverName would never be checked.
 * With serverName set, the identity check is ours and names it.
 */
function pgTls(tls: NonNullable<ConnectionTarget['tls']>): ConnectionOptions {
  const name = tls.servername;
  return name === undefined ? { ...tls } : { ...tls, checkServerIdentity: (_dialled, cert) => checkServerIdentity(name, cert) };
}

/** SQLSTATEs of a server session that lost our prepared statement (26000) or has one of that name already (42P05). */
const LOST_STATEMENT = new Set(['26000', '42P05']);

/** The lookup of `spec`'s keys, passed as one text[] parameter. */
export const lookupSql = (spec: LookupSpec): string => `${selectClause(spec, 'postgres')} WHERE ${quoteName(spec.key, 'postgres')} = ANY($1)`;

/** A statement name per SQL text: pg refuses one name for two texts on a connection. */
export const statementName = (lookup: string, text: string): string => `inventory_integrator_${lookup}_${hash('sha256', text, 'hex').slice(0, 16)}`;

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
