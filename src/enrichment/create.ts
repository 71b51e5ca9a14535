import { loadAdapter } from '../core/load-adapter.js';
import type { Logger } from '../core/logger.js';
import type { Metrics } from '../core/metrics.js';
import type { Enricher } from '../core/ports.js';
import type { EnrichmentConfig, SqlEnrichmentConfig } from './config.js';
import { type ConnectionTarget, resolveTarget } from './connection.js';
import { redactor } from './db-errors.js';
import type { LookupClient } from './lookup-client.js';
import { PassThroughEnricher } from './pass-through.js';
import type { PgLookupClient } from './pg-client.js';
import type { SampleRows } from './sample-data.js';
import { SqlEnricher } from './sql-enricher.js';

export interface EnricherDeps {
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Where passwordEnv is read; defaults to process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Clock for cache TTLs and the circuit breaker (tests). */
  readonly clock?: { now(): number };
  /**
   * type embedded: seed exactly these ids (e.g. the demo generator's customers and orders)
   * instead of the configured counts of sample rows.
   */
  readonly embeddedRows?: SampleRows;
}

/**
 * Builds the enricher the config asks for. Database adapters are checked once at start-up (a
 * misnamed table or column fails here); a database that is down is only logged and retried.
 */
export async function createEnricher(config: EnrichmentConfig, deps: EnricherDeps): Promise<Enricher> {
  if (config.type === 'none') return new PassThroughEnricher();
  const LookupClientClass = await loadLookupClient(config.type);
  const log = deps.log.child({ component: 'enrichment' });
  const timeouts = { queryTimeoutMs: config.resilience.queryTimeoutMs, connectTimeoutMs: config.resilience.connectTimeoutMs };
  let target: ConnectionTarget;
  let onClose: (() => Promise<void>) | undefined;
  if (config.type === 'embedded') {
    // Loaded only here: PGlite's WASM Postgres costs ~20 MB of memory in every process that imports it.
    const { seedRows, seedSampleData, startEmbeddedPostgres } = await import('./embedded.js');
    const embedded = await startEmbeddedPostgres({ maxConnections: config.poolSize + 1, log });
    if (deps.embeddedRows) await seedRows(embedded.db, deps.embeddedRows);
    else await seedSampleData(embedded.db, { customers: config.customers, orders: config.orders });
    target = embedded.target(config.poolSize);
    onClose = () => embedded.stop();
  } else {
    target = resolveTarget(config, deps.env ?? process.env);
  }
  const redact = redactor([target.password]);
  const client = new LookupClientClass(target, { ...timeouts, log, redact });
  log.info({ db: target.label, user: target.user, tls: target.tls !== undefined, poolSize: target.poolSize, policy: config.policy }, 'enrichment database configured');
  const enricher = new SqlEnricher(
    client,
    { lookups: config.lookups, cache: config.cache, resilience: config.resilience, policy: config.policy, onMissing: config.onMissing },
    { log, metrics: deps.metrics, redact, ...(deps.clock ? { clock: deps.clock } : {}), ...(onClose ? { onClose } : {}) },
  );
  try {
    await enricher.verify();
  } catch (err) {
    await enricher.close().catch(() => undefined);
    throw err;
  }
  return enricher;
}

type LookupClientClass = new (target: ConnectionTarget, opts: ConstructorParameters<typeof PgLookupClient>[1]) => LookupClient;

/** The driver's client, imported only when configured: pg (~14 MB) or mysql2 (~16 MB). */
async function loadLookupClient(type: SqlEnrichmentConfig['type']): Promise<LookupClientClass> {
  if (type === 'mysql') return (await loadAdapter('enrichment.type "mysql"', () => import('./mysql-client.js'))).MysqlLookupClient;
  return (await loadAdapter(`enrichment.type "${type}"`, () => import('./pg-client.js'))).PgLookupClient;
}
