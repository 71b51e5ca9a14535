import { connect, type Socket } from 'node:net';
import mysql from 'mysql2/promise';
import type { Logger } from '../core/logger.js';
import type { ConnectionTarget } from './connection.js';
import type { Redact } from './db-errors.js';
import { CUSTOMER_ALIAS, KEY_ALIAS, type LookupSpec, quoteName, selectClause } from './identifiers.js';
import { type LookupClient, type LookupRow, RowValues, toLookupRows } from './lookup-client.js';

/** Placeholder counts are rounded up to these sizes so a few prepared statements serve every batch. */
const MIN_BUCKET = 8;
const MAX_KEYS = 32_768;

/**
 * MySQL / MariaDB through a `mysql2` pool. Keys are bound server-side in a prepared statement
 * (`IN (?, ?, …)`): unlike client-side escaping, that stays safe whatever the server's sql_mode
 * (NO_BACKSLASH_ESCAPES) or character set.
 */
export class MysqlLookupClient implements LookupClient {
  readonly dialect = 'mysql' as const;
  readonly maxKeysPerQuery = MAX_KEYS;
  readonly label: string;
  private readonly pool: mysql.Pool;
  private readonly queryTimeoutMs: number;
  private readonly values = new RowValues();

  constructor(target: ConnectionTarget, opts: { queryTimeoutMs: number; connectTimeoutMs: number; log: Logger; redact: Redact }) {
    this.label = target.label;
    this.queryTimeoutMs = opts.queryTimeoutMs;
    // mysql2 checks the certificate against `host` and takes no servername: with serverName set,
    // that is the host it is told, and the socket is dialled to the real one.
    const serverName = target.tls?.servername;
    this.pool = mysql.createPool({
      host: serverName ?? target.host,
      port: target.port,
      ...(serverName !== undefined ? { stream: () => dial(target.host, target.port) } : {}),
      ...(target.user !== undefined ? { user: target.user } : {}),
      ...(target.database !== undefined ? { database: target.database } : {}),
      ...(target.password !== undefined ? { password: target.password } : {}),
      // mysql2 leaves the certificate's name unchecked unless told (verifyIdentity): any certificate
      // the CA signed would pass, and the RDS bundle signs every RDS server's.
      ...(target.tls
        ? { ssl: { ...(target.tls.ca ? { ca: target.tls.ca } : {}), rejectUnauthorized: target.tls.rejectUnauthorized, verifyIdentity: target.tls.rejectUnauthorized } }
        : {}),
      connectionLimit: target.poolSize,
      maxIdle: target.poolSize,
      idleTimeout: 30_000,
      waitForConnections: true,
      queueLimit: 0,
      connectTimeout: opts.connectTimeoutMs,
      enableKeepAlive: true,
      charset: 'utf8mb4',
    });
    // mysql2 removes a connection the server closed; log it, nothing else to do.
    this.pool.on('connection', (conn) => {
      conn.on('error', (err: Error & { code?: string }) =>
        opts.log.warn({ err: { message: opts.redact(err.message), code: err.code } }, 'enrichment connection lost; it will be replaced'),
      );
    });
  }

  async select(spec: LookupSpec, keys: readonly string[]): Promise<LookupRow[]> {
    if (keys.length === 0) return [];
    if (keys.length > MAX_KEYS) throw new RangeError(`at most ${MAX_KEYS} keys per query`);
    let bucket = MIN_BUCKET;
    while (bucket < keys.length) bucket *= 2;
    // Padding repeats the last key: duplicates in IN () change nothing.
    const params = keys.concat(new Array<string>(bucket - keys.length).fill(keys[keys.length - 1]!));
    const sql = `${selectClause(spec, 'mysql')} WHERE ${quoteName(spec.key, 'mysql')} IN (${new Array(bucket).fill('?').join(',')})`;
    const [rows] = await this.pool.execute<mysql.RowDataPacket[]>({ sql, timeout: this.queryTimeoutMs }, params);
    return toLookupRows(spec, rows as Record<string, unknown>[], KEY_ALIAS, CUSTOMER_ALIAS, this.values);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** A TCP connection as mysql2 makes its own: no Nagle delay, keep-alive once connected. */
function dial(host: string, port: number): Socket {
  const socket = connect({ host, port });
  socket.setNoDelay(true);
  socket.once('connect', () => socket.setKeepAlive(true));
  return socket;
}
