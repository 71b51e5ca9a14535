import { Writable } from 'node:stream';
import { MemoryMetrics, METRIC } from '../../src/core/metrics.js';
import type { InventoryChange } from '../../src/core/model.js';
import type { EnrichmentConfig } from '../../src/enrichment/config.js';
import { EnrichmentConfig as EnrichmentConfigSchema } from '../../src/enrichment/config.js';
import { createLogger } from '../../src/observability/logger.js';
import { sampleCustomerId, sampleOrderId } from '../../src/enrichment/sample-data.js';
import { makeChange } from '../fixtures/changes.js';
import { MYSQL, POSTGRES } from '../fixtures/sql/databases.js';

export type Dialect = 'postgres' | 'mysql';

/** Sample ids in the event generator's format (test/fixtures/universe.ts): C-000001, O-0000001. */
export const cust = sampleCustomerId;
export const ord = sampleOrderId;

/** Resilience settings that make an outage visible within milliseconds instead of seconds. */
export const FAST_RESILIENCE = {
  queryTimeoutMs: 3_000,
  connectTimeoutMs: 2_000,
  maxAttempts: 2,
  baseDelayMs: 5,
  maxDelayMs: 20,
  breakerThreshold: 3,
  breakerResetMs: 100,
  waitMaxDelayMs: 100,
};

/** An enrichment config for the real test database holding `tables`. */
export function dbConfig(dialect: Dialect, tables: { customers: string; orders: string }, extra: Record<string, unknown> = {}): EnrichmentConfig {
  const server = dialect === 'postgres' ? { host: POSTGRES.host, port: POSTGRES.port, database: POSTGRES.database, user: 'postgres' } : MYSQL;
  return EnrichmentConfigSchema.parse({
    type: dialect,
    host: server.host,
    port: server.port,
    database: server.database,
    user: server.user,
    poolSize: 2,
    resilience: FAST_RESILIENCE,
    ...extra,
    lookups: {
      customers: { table: tables.customers },
      orders: { table: tables.orders },
      ...((extra.lookups as object | undefined) ?? {}),
    },
  });
}

/** pino writing into a string, with the service's own redaction and scrubbing. */
export function captureLogs(level = 'debug') {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const log = createLogger({ level, destination });
  return { log, text: () => lines.join('') };
}

let seq = 0;
/** A change with the given keys, at a fresh position (unique event id). */
export function change(orderId: string | null, customerId: string | null): InventoryChange {
  seq++;
  return makeChange({ sequence: String(seq), shard: `enrich-${process.pid}`, orderId, customerId });
}

export function counts(m: MemoryMetrics) {
  return {
    queries: m.total(METRIC.enrichQueries),
    hits: m.total(METRIC.enrichCacheHits),
    misses: m.total(METRIC.enrichCacheMisses),
    failures: m.total(METRIC.enrichFailures),
  };
}
