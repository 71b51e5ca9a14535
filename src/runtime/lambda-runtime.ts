import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { FieldMapping } from '../../consumers/dynamodb-streams/config.js';
import { createSinks } from '../../sinks/create.js';
import { createS3Client } from '../../sinks/s3/client.js';
import { createCatalog } from '../catalog/create.js';
import { ConfigError } from '../config/load.js';
import type { IntegratorConfig } from '../config/schema.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { createEnricher } from '../enrichment/create.js';
import { createLogger } from '../observability/logger.js';
import type { PipelineOptions, PipelinePorts } from '../pipeline/build-pipeline.js';
import { decodeDynamoDbRecord } from '../pipeline/decode/dynamodb-record.js';
import { loadLambdaConfig } from './lambda-config.js';
import { fenceClient } from './lambda-fence.js';
import { EmfMetrics } from './lambda-metrics.js';

/** What outlives an invocation: config, logger, metrics, clients, sinks, enricher, catalog. */
export interface LambdaRuntime {
  readonly config: IntegratorConfig;
  readonly log: Logger;
  readonly metrics: EmfMetrics;
  /** Every port but the source: each invocation brings its own, built from its event. */
  readonly ports: Omit<PipelinePorts, 'source'>;
  readonly options: PipelineOptions;
  readonly lakeLocation: string;
}

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

/**
 * In a Lambda function only /tmp is writable, the working directory (/var/task) is not, and HOME
 * is unset. DuckDB needs a home directory for its settings and spills to ".tmp" under the
 * working directory, so both are pointed at /tmp there (after the config, whose file path may
 * be relative to the function's directory, is read). Outside Lambda nothing changes.
 */
export function adaptToLambdaFilesystem(env: NodeJS.ProcessEnv = process.env): void {
  if (!env.AWS_LAMBDA_FUNCTION_NAME) return;
  if (!env.HOME) env.HOME = tmpdir();
  if (process.cwd() !== tmpdir()) process.chdir(tmpdir());
}

export async function createLambdaRuntime(env: NodeJS.ProcessEnv = process.env): Promise<LambdaRuntime> {
  const config = loadLambdaConfig(env);
  checkLambdaConfig(config);
  adaptToLambdaFilesystem(env);
  // stdout, synchronously: Lambda freezes the process after the handler returns, and an
  // asynchronous destination would lose the last lines of an invocation.
  const log = createLogger({ level: config.logging.level, name: 'inventory-integrator-lambda', destination: process.stdout });
  if (config.checkpoints.type === 'dynamodb') {
    log.info({ checkpoints: config.checkpoints.type }, 'checkpoints config ignored: the event source mapping keeps the stream position');
  }
  const metrics = new EmfMetrics();
  const parts = await composeLongLived(config, log, metrics);
  log.info({ lake: parts.lakeLocation, format: config.sink.format, catalog: config.catalog.type, enrichment: config.enrichment.type }, 'lambda runtime ready');
  return { config, log, metrics, ...parts };
}

/**
 * The long-lived ports, from the same factories src/runtime/compose.ts uses. Not composeRuntime
 * itself: it builds a source and a checkpoint store the mapping makes pointless, and it cannot
 * take the S3 client, which must be fenced (lambda-fence.ts) so that an invocation past its
 * deadline stops retrying inside the store. No checkpoint store at all: the event source
 * mapping keeps the stream position, and the source learns delivery from `commit`.
 */
async function composeLongLived(config: IntegratorConfig, log: Logger, metrics: EmfMetrics): Promise<Omit<LambdaRuntime, 'config' | 'log' | 'metrics'>> {
  const sinkConfig = config.sink;
  const s3 = sinkConfig.type === 's3' ? fenceClient(createS3Client(sinkConfig.aws, sinkConfig.forcePathStyle)) : undefined;
  const sinks = await createSinks(sinkConfig, { log, metrics, ...(s3 ? { s3 } : {}) });
  const enricher = await createEnricher(config.enrichment, { log, metrics });
  const catalog = await createCatalog(config.catalog, {
    log: log.child({ component: 'catalog' }),
    metrics,
    lakeRoot: sinks.store.location,
    table: sinkConfig.table,
    format: sinkConfig.format,
    partitionKeys: config.partitioning.extraKeys,
  });
  const src = config.source;
  const mapping = src.type === 'dynamodb' ? src.mapping : FieldMapping.parse({});
  const options: PipelineOptions = {
    table: sinkConfig.table,
    batching: config.batching,
    partitioning: config.partitioning,
    maxRecordBytes: 'maxRecordBytes' in src ? src.maxRecordBytes : 1024 * 1024,
    decodeDynamoDb: (record) => decodeDynamoDbRecord(record, mapping),
  };
  return { ports: { enricher, sink: sinks.sink, dlq: sinks.dlq, catalog, log, metrics }, options, lakeLocation: sinks.store.location };
}
