import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoDbStreamsSource } from '../../consumers/dynamodb-streams/create.js';
import { FieldMapping } from '../../consumers/dynamodb-streams/config.js';
import { createFileSource } from '../../consumers/file/create.js';
import { createKafkaSource } from '../../consumers/kafka/create.js';
import { createKinesisSource } from '../../consumers/kinesis/create.js';
import { createSinks } from '../../sinks/create.js';
import { createCatalog } from '../catalog/create.js';
import { DynamoDbCheckpointStore } from '../checkpoints/dynamodb-checkpoint-store.js';
import { DynamoDbLeaseCoordinator, defaultWorkerId } from '../checkpoints/dynamodb-lease-coordinator.js';
import { FileCheckpointStore } from '../checkpoints/file-store.js';
import { LocalLeaseCoordinator } from '../checkpoints/local-coordinator.js';
import type { AwsClientConfig } from '../config/aws.js';
import type { IntegratorConfig } from '../config/schema.js';
import type { Logger } from '../core/logger.js';
import type { Metrics } from '../core/metrics.js';
import type { Catalog, CheckpointStore, DeadLetterSink, Enricher, LeaseCoordinator, Sink, Source } from '../core/ports.js';
import { createEnricher } from '../enrichment/create.js';
import type { PipelineOptions, PipelinePorts } from '../pipeline/build-pipeline.js';
import { decodeDynamoDbRecord } from '../pipeline/decode/dynamodb-record.js';

export interface Runtime {
  readonly ports: PipelinePorts;
  readonly options: PipelineOptions;
  readonly checkpoints: CheckpointStore;
  readonly coordinator?: LeaseCoordinator;
  /** Where the lake is, for logs and the demo summary: a directory or s3://bucket/prefix. */
  readonly lakeLocation: string;
  /** Closes what compose opened, in reverse order; safe to call twice. */
  close(): Promise<void>;
}

/** Parts a caller can supply instead of building from config (tests, Lambda, replay). */
export interface RuntimeOverrides {
  readonly source?: Source;
  readonly enricher?: Enricher;
  readonly catalog?: Catalog;
  readonly checkpoints?: CheckpointStore;
  /** Wraps the source built from config (replay bounds it). */
  readonly wrapSource?: (source: Source) => Source;
  /** Replaces the lake and DLQ sinks (replay --dry-run writes nothing). */
  readonly sinks?: { readonly sink: Sink; readonly dlq: DeadLetterSink };
}

export function dynamoDbClient(aws: AwsClientConfig): DynamoDBClient {
  return new DynamoDBClient({
    region: aws.region,
    maxAttempts: aws.maxAttempts,
    ...(aws.endpoint ? { endpoint: aws.endpoint } : {}),
    ...(aws.accessKeyId && aws.secretAccessKey ? { credentials: { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey } } : {}),
  });
}

/** The checkpoint store the config names, for the CLI's checkpoint commands and replays. */
export function openCheckpointStore(config: IntegratorConfig): { store: CheckpointStore; close(): Promise<void> } {
  const closers: Array<() => Promise<void>> = [];
  const store = checkpointStore(config, closers);
  return { store, close: async () => void (await Promise.all(closers.map((c) => c()))) };
}

function checkpointStore(config: IntegratorConfig, closers: Array<() => Promise<void>>): CheckpointStore {
  const c = config.checkpoints;
  if (c.type === 'file') return new FileCheckpointStore(c.path);
  const client = dynamoDbClient(c.aws);
  closers.push(async () => client.destroy());
  return new DynamoDbCheckpointStore({ client, tableName: c.tableName, createTable: c.createTable });
}

function leaseCoordinator(config: IntegratorConfig, store: CheckpointStore, log: Logger, metrics: Metrics, closers: Array<() => Promise<void>>): LeaseCoordinator {
  const c = config.checkpoints;
  if (c.type === 'file') return new LocalLeaseCoordinator(store);
  const client = dynamoDbClient(c.aws);
  closers.push(async () => client.destroy());
  return new DynamoDbLeaseCoordinator({
    client,
    tableName: c.tableName,
    workerId: c.workerId ?? defaultWorkerId(),
    leaseDurationMs: c.leaseDurationMs,
    createTable: c.createTable,
    log: log.child({ component: 'leases' }),
    metrics,
  });
}

/** The composition root: every adapter the config names, wired to the pipeline's ports. */
export async function composeRuntime(config: IntegratorConfig, deps: { log: Logger; metrics: Metrics }, overrides: RuntimeOverrides = {}): Promise<Runtime> {
  const { log, metrics } = deps;
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    while (closers.length > 0) {
      const c = closers.pop()!;
      await c().catch((err: unknown) => log.warn({ err }, 'error while closing'));
    }
  };
  try {
    const checkpoints = overrides.checkpoints ?? checkpointStore(config, closers);
    if (checkpoints.close) closers.push(() => checkpoints.close!());
    const src = config.source;
    let coordinator: LeaseCoordinator | undefined;
    let source: Source;
    if (overrides.source) source = overrides.source;
    else if (src.type === 'file') source = createFileSource(src, { checkpoints, log: log.child({ component: 'source' }) });
    else if (src.type === 'kafka') source = createKafkaSource(src, { log: log.child({ component: 'source' }), metrics });
    else {
      coordinator = leaseCoordinator(config, checkpoints, log, metrics, closers);
      const sdeps = { coordinator, log: log.child({ component: 'source' }), metrics };
      source = src.type === 'kinesis' ? createKinesisSource(src, sdeps) : createDynamoDbStreamsSource(src, sdeps);
    }
    if (overrides.wrapSource) source = overrides.wrapSource(source);
    const sinks = createSinks(config.sink, { log: log.child({ component: 'sink' }), metrics, encodeConcurrency: config.batching.writeConcurrency });
    closers.push(() => sinks.close());
    const enricher = overrides.enricher ?? (await createEnricher(config.enrichment, { log, metrics }));
    closers.push(() => enricher.close());
    const catalog =
      overrides.catalog ??
      createCatalog(config.catalog, { log: log.child({ component: 'catalog' }), metrics, lakeRoot: sinks.store.location, table: config.sink.table, format: config.sink.format });
    closers.push(() => catalog.close());
    const mapping = src.type === 'dynamodb' ? src.mapping : FieldMapping.parse({});
    const options: PipelineOptions = {
      table: config.sink.table,
      batching: config.batching,
      partitioning: config.partitioning,
      maxRecordBytes: 'maxRecordBytes' in src ? src.maxRecordBytes : 1024 * 1024,
      decodeDynamoDb: (record) => decodeDynamoDbRecord(record, mapping),
    };
    const ports: PipelinePorts = { source, enricher, sink: overrides.sinks?.sink ?? sinks.sink, dlq: overrides.sinks?.dlq ?? sinks.dlq, catalog, log, metrics };
    return { ports, options, checkpoints, coordinator, lakeLocation: sinks.store.location, close };
  } catch (err) {
    await close();
    throw err;
  }
}
