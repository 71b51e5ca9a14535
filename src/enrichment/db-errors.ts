import { IntegratorError } from '../core/errors.js';

/**
 * Which database errors are worth another attempt: the server went away, restarted, refused or
 * ran out of connections, or a query timed out. Syntax, permission, authentication and data
 * errors are not: repeating them only hammers the database.
 */
const RETRIABLE_PG_CODES = new Set([
  '57P01', // admin_shutdown (pg_terminate_backend, restart)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, recovery)
  '57014', // query_canceled (statement_timeout)
  '53300', // too_many_connections
  '53400', // configuration_limit_exceeded
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available
]);
const RETRIABLE_PG_CLASSES = ['08']; // connection_exception

const RETRIABLE_MYSQL_CODES = new Set([
  'ER_CON_COUNT_ERROR', // 1040 too many connections
  'ER_TOO_MANY_USER_CONNECTIONS', // 1203
  'ER_USER_LIMIT_REACHED', // 1226 max_user_connections and the other per-account limits
  'ER_SERVER_SHUTDOWN', // 1053
  'ER_CONNECTION_KILLED', // 1927 (MariaDB KILL)
  'ER_QUERY_INTERRUPTED', // 1317
  'ER_STATEMENT_TIMEOUT', // 1969 max_statement_time
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'CR_SERVER_GONE_ERROR',
  'CR_SERVER_LOST',
]);
const RETRIABLE_MYSQL_ERRNOS = new Set([1040, 1203, 1226, 1053, 1927, 1317, 1969, 1213, 1205, 2006, 2013]);

const RETRIABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED']);

const RETRIABLE_MESSAGES = [
  /connection terminated/i, // pg: "Connection terminated unexpectedly" / "... due to connection timeout"
  /query read timeout/i, // pg query_timeout
  /timeout exceeded when trying to connect/i, // pg-pool connectionTimeoutMillis
  /connection is in closed state/i, // mysql2 after the server closed it
  /client has encountered a connection error/i, // pg client reused after an error
  /server closed the connection/i,
  /too many connections/i, // pglite-socket and servers answering before the protocol starts
];

export function isRetriableDbError(err: unknown): boolean {
  if (err instanceof IntegratorError) return err.retriable;
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; errno?: unknown; message?: unknown; fatal?: unknown };
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code !== undefined) {
    if (RETRIABLE_PG_CODES.has(code) || RETRIABLE_PG_CLASSES.some((c) => code.length === 5 && code.startsWith(c))) return true;
    if (RETRIABLE_MYSQL_CODES.has(code) || RETRIABLE_NODE_CODES.has(code)) return true;
  }
  if (typeof e.errno === 'number' && RETRIABLE_MYSQL_ERRNOS.has(e.errno)) return true;
  const message = typeof e.message === 'string' ? e.message : '';
  return RETRIABLE_MESSAGES.some((re) => re.test(message));
}

/**
 * A TLS set-up that cannot work: a certificate the CA bundle does not vouch for or that names
 * another server, TLS that the server requires and the client does not use, or the reverse.
 */
export function isTlsError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  if (typeof e?.code === 'string' && /^ERR_(TLS|SSL)_|CERT/.test(e.code)) return true;
  return typeof e?.message === 'string' && /certificate|\b(SSL|TLS)\b|secure (connection|transport)|no encryption/i.test(e.message);
}

/** Keeps secrets out of messages that will be logged or stored with a rejected record. */
export type Redact = (s: string) => string;

export function redactor(secrets: readonly (string | undefined)[]): Redact {
  const list = secrets.filter((s): s is string => typeof s === 'string' && s.length >= 3);
  return (s) => {
    let out = s.replace(/(\w+:\/\/[^:/@\s]+):[^@\s]*@/g, '$1:***@');
    for (const secret of list) out = out.split(secret).join('***');
    return out;
  };
}

/** A driver error as an IntegratorError: classified, and its message free of secrets. */
export function toLookupError(err: unknown, what: string, redact: Redact): IntegratorError {
  if (err instanceof IntegratorError) return err;
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? ` [${e.code}]` : '';
  const message = redact(typeof e?.message === 'string' ? e.message : String(err));
  const retriable = isRetriableDbError(err);
  return new IntegratorError(retriable ? 'DEPENDENCY_UNAVAILABLE' : 'ENRICHMENT_FAILED', `${what} failed${code}: ${message}`, {
    retriable,
    details: { dbCode: typeof e?.code === 'string' ? e.code : undefined },
  });
}
