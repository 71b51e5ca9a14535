import { z } from 'zod';

/**
 * A plain SQL identifier. Table and column names are spliced into the lookup SQL (they cannot be
 * bound as parameters), so only this shape is accepted: config can never inject SQL.
 */
export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const Identifier = z.string().regex(IDENTIFIER, 'must be a plain SQL identifier: letters, digits and _, not starting with a digit, at most 63 characters');
const TableName = z
  .string()
  .refine((s) => s.split('.').length <= 2 && s.split('.').every((p) => IDENTIFIER.test(p)), 'must be "table" or "schema.table", each part a plain SQL identifier');

export const CustomersLookup = z
  .object({
    table: TableName.default('customers').describe('table (or schema.table) holding one row per customer'),
    key: Identifier.default('customer_id').describe('column matched against the change\'s customerId'),
    columns: z.array(Identifier).min(1).max(50).default(['name', 'tier', 'country']).describe('columns carried into enrichment.customer'),
  })
  .strict();

export const OrdersLookup = z
  .object({
    table: TableName.default('orders').describe('table (or schema.table) holding one row per order'),
    key: Identifier.default('order_id').describe('column matched against the change\'s orderId'),
    customerKey: Identifier.nullable()
      .default('customer_id')
      .describe('column naming the order\'s customer, used when a change carries only an orderId; null: no such column'),
    columns: z.array(Identifier).min(1).max(50).default(['channel', 'status', 'total_amount']).describe('columns carried into enrichment.order'),
  })
  .strict();

export const LookupsConfig = z
  .object({
    customers: CustomersLookup.prefault({}),
    orders: OrdersLookup.prefault({}),
  })
  .strict();
export type LookupsConfig = z.infer<typeof LookupsConfig>;

export const CacheConfig = z
  .object({
    maxEntries: z.number().int().min(0).max(10_000_000).default(200_000).describe('entries per lookup table; 0 disables the cache'),
    ttlMs: z.number().int().min(1).default(300_000).describe('how long a row found is trusted'),
    negativeTtlMs: z.number().int().min(0).default(30_000).describe('how long a key found missing is remembered; 0 never remembers'),
  })
  .strict();
export type CacheConfig = z.infer<typeof CacheConfig>;

export const ResilienceConfig = z
  .object({
    queryTimeoutMs: z.number().int().min(10).default(5_000).describe('per query: the server cancels it (statement timeout) and the client gives up'),
    connectTimeoutMs: z.number().int().min(10).default(5_000).describe('opening one connection'),
    maxAttempts: z.number().int().min(1).max(20).default(3).describe('attempts per lookup query, retriable errors only (connection lost, timeouts, shutdown)'),
    baseDelayMs: z.number().int().min(0).default(100).describe('backoff base between attempts (full jitter)'),
    maxDelayMs: z.number().int().min(0).default(2_000).describe('backoff cap between attempts'),
    breakerThreshold: z.number().int().min(1).default(5).describe('consecutive failed attempts that open the circuit breaker'),
    breakerResetMs: z.number().int().min(10).default(10_000).describe('how long the open breaker fails lookups fast before one trial query'),
    waitMaxDelayMs: z.number().int().min(10).default(30_000).describe('policy wait: cap of the backoff between rounds while the database is down'),
  })
  .strict();
export type ResilienceConfig = z.infer<typeof ResilienceConfig>;

export const TlsConfig = z
  .object({
    enabled: z.boolean().default(true).describe('connect over TLS (RDS: rds.force_ssl / require_secure_transport)'),
    caFile: z.string().min(1).optional().describe('PEM CA bundle, e.g. the RDS global-bundle.pem'),
    rejectUnauthorized: z.boolean().default(true).describe('verify the server certificate and the name on it; never false in production'),
    serverName: z.string().min(1).optional().describe('the name the certificate must carry, checked instead of host (an IP, or a tunnel such as localhost)'),
  })
  .strict();
export type TlsConfig = z.infer<typeof TlsConfig>;

const shared = {
  lookups: LookupsConfig.prefault({}),
  cache: CacheConfig.prefault({}),
  resilience: ResilienceConfig.prefault({}),
  policy: z
    .enum(['emit', 'dlq', 'wait'])
    .default('emit')
    .describe('lookups that fail: emit (status failed, names the lookups), dlq (reject), wait (block the pipeline until the database is back)'),
  onMissing: z
    .enum(['emit', 'dlq'])
    .optional()
    .describe('keys not in the database: emit (status missing) or dlq; default: dlq under policy dlq, emit otherwise'),
};

const connection = {
  url: z
    .string()
    .optional()
    .refine((u) => u === undefined || /^[a-z0-9+]+:\/\//i.test(u), 'must look like scheme://user@host:port/database')
    .refine((u) => u === undefined || !/^[^:]+:\/\/[^/@]*:[^/@]*@/.test(u), 'must not carry a password: set passwordEnv or passwordFile')
    // Silently dropped, ?sslmode=require would leave a connection the user believes encrypted in plain text.
    .refine((u) => u === undefined || !/[?#]/.test(u), 'must not carry parameters such as ?sslmode=: set enrichment.tls (and the other settings) instead')
    .describe('scheme://user@host:port/database; discrete settings below override its parts'),
  host: z.string().min(1).optional().describe('database host (e.g. the RDS endpoint)'),
  port: z.number().int().min(1).max(65_535).optional(),
  user: z.string().min(1).optional(),
  database: z.string().min(1).optional(),
  passwordEnv: z.string().min(1).optional().describe('name of the environment variable holding the password'),
  passwordFile: z.string().min(1).optional().describe('file holding the password (e.g. a mounted secret); trailing newline ignored'),
  tls: TlsConfig.optional().describe('TLS settings; omitted: no TLS'),
  poolSize: z.number().int().min(1).max(100).default(4).describe('connections in the pool'),
};

const needsTarget = (c: { url?: string | undefined; host?: string | undefined }) => c.url !== undefined || c.host !== undefined;
const targetMessage = { message: 'set url or host', path: ['host'] };
const onePassword = (c: { passwordEnv?: string | undefined; passwordFile?: string | undefined }) => !(c.passwordEnv && c.passwordFile);
const passwordMessage = { message: 'set passwordEnv or passwordFile, not both', path: ['passwordFile'] };

export const PostgresEnrichmentConfig = z
  .object({
    type: z.literal('postgres'),
    ...connection,
    preparedStatements: z
      .boolean()
      .default(true)
      .describe(
        'postgres only: name the two lookup statements, so each connection parses and plans them once (less CPU on the database); false behind a pooler that cannot keep them (PgBouncer in transaction mode before 1.21). A server that loses them is detected and unnamed statements are used from then on',
      ),
    ...shared,
  })
  .strict()
  .refine(needsTarget, targetMessage)
  .refine(onePassword, passwordMessage);
export type PostgresEnrichmentConfig = z.infer<typeof PostgresEnrichmentConfig>;

export const MysqlEnrichmentConfig = z
  .object({ type: z.literal('mysql'), ...connection, ...shared })
  .strict()
  .refine(needsTarget, targetMessage)
  .refine(onePassword, passwordMessage);
export type MysqlEnrichmentConfig = z.infer<typeof MysqlEnrichmentConfig>;

export const EmbeddedEnrichmentConfig = z
  .object({
    type: z.literal('embedded'),
    customers: z.number().int().min(0).max(1_000_000).default(2_000).describe('sample customers seeded into the embedded PostgreSQL'),
    orders: z.number().int().min(0).max(5_000_000).default(10_000).describe('sample orders seeded into the embedded PostgreSQL'),
    poolSize: z.number().int().min(1).max(8).default(2).describe('connections to the embedded server (it runs one query at a time)'),
    ...shared,
  })
  .strict();
export type EmbeddedEnrichmentConfig = z.infer<typeof EmbeddedEnrichmentConfig>;

export const EnrichmentConfig = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }).strict(),
  PostgresEnrichmentConfig,
  MysqlEnrichmentConfig,
  EmbeddedEnrichmentConfig,
]);
export type EnrichmentConfig = z.infer<typeof EnrichmentConfig>;
export type SqlEnrichmentConfig = Exclude<EnrichmentConfig, { type: 'none' }>;
