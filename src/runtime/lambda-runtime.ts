import { createRequire } from 'node:module';
import { MemoryCheckpointStore } from '../checkpoints/memory-store.js';
import { ConfigError } from '../config/load.js';
import type { IntegratorConfig } from '../config/schema.js';
import { IntegratorError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Source } from '../core/ports.js';
import { createLogger } from '../observability/logger.js';
import { composeRuntime, type Runtime } from './compose.js';
import { loadLambdaConfig } from './lambda-config.js';
import { EmfMetrics } from './lambda-metrics.js';

/** What outlives an invocation: config, logger, metrics and the composed clients and sinks. */
export interface LambdaRuntime {
  readonly config: IntegratorConfig;
  readonly log: Logger;
  readonly metrics: EmfMetrics;
  /** Composed once; `ports.source` is a placeholder, each invocation brings its own. */
  readonly runtime: Runtime;
}

/**
 * compose wants a source; the handler supplies one per invocation instead (a fresh pipeline
 * over `{ ...ports, source }`), so this one must never be opened.
 */
const PER_INVOCATION_SOURCE: Source = {
  kind: 'kinesis',
  open: () => {
    throw new IntegratorError('INTERNAL', 'the Lambda runtime has no source of its own: each invocation builds one from its event');
  },
  commit: async () => undefined,
  stop: async () => undefined,
};

/**
 * Whether DuckDB (a native addon, kept out of the bundle) loads here. Required through Node's
 * own resolution, beside the bundle: dist/lambda/node_modules or a layer's /opt/nodejs/node_modules.
 */
export function duckDbLoadError(): string | undefined {
  try {
    createRequire(import.meta.url)('@duckdb/node-api');
    return undefined;
  } catch (err) {
    return errorMessage(err).split('\n')[0];
  }
}

/**
 * Checks what cannot work in a function, so a cold start fails with a message naming the key
 * instead of the first batch failing obscurely.
 *
 * Parquet needs DuckDB. When it cannot load, the handler does NOT fall back to NDJSON on its
 * own: a lake and its catalog table have one format, and silently writing another would break
 * readers. It refuses to start instead, naming both ways out (ship DuckDB, or choose ndjson).
 * With sink.format ndjson DuckDB is never touched, so a bundle without it works.
 */
export function checkLambdaConfig(config: IntegratorConfig, duckDbError: () => string | undefined = duckDbLoadError): void {
  const problems: string[] = [];
  if (config.catalog.type === 'duckdb') {
    problems.push('key "catalog.type": value "duckdb" cannot run in Lambda: it keeps the curated layer on local disk, which is per-instance and ephemeral there; use glue or none');
  }
  if (config.sink.format === 'parquet') {
    const err = duckDbError();
    if (err !== undefined) {
      problems.push(
        `key "sink.format": value "parquet" needs DuckDB (@duckdb/node-api and its native binding), which cannot be loaded here (${err}); ship it with the function (scripts/bundle-lambda.ts copies it into dist/lambda/node_modules unless --no-duckdb) or in a layer, or set sink.format: ndjson`,
      );
    }
  }
  if (problems.length > 0) throw new ConfigError(problems, 'lambda');
}

export async function createLambdaRuntime(env: NodeJS.ProcessEnv = process.env): Promise<LambdaRuntime> {
  const config = loadLambdaConfig(env);
  checkLambdaConfig(config);
  // stdout, synchronously: Lambda freezes the process after the handler returns, and an
  // asynchronous destination would lose the last lines of an invocation.
  const log = createLogger({ level: config.logging.level, name: 'inventory-integrator-lambda', destination: process.stdout });
  if (config.checkpoints.type === 'dynamodb') {
    log.info({ checkpoints: config.checkpoints.type }, 'checkpoints config ignored: the event source mapping keeps the stream position');
  }
  const metrics = new EmfMetrics();
  const runtime = await composeRuntime(config, { log, metrics }, { source: PER_INVOCATION_SOURCE, checkpoints: new MemoryCheckpointStore() });
  log.info({ lake: runtime.lakeLocation, format: config.sink.format, catalog: config.catalog.type, enrichment: config.enrichment.type }, 'lambda runtime ready');
  return { config, log, metrics, runtime };
}
