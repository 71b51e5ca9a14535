import { FieldMapping } from '../../consumers/dynamodb-streams/config.js';
import { createSinks } from '../../sinks/create.js';
import { createCatalog } from '../catalog/create.js';
import { type Opened, createCheckpointStore, createLeaseCoordinator } from '../checkpoints/create.js';
import type { IntegratorConfig, SourceConfig } from '../config/schema.js';
import { loadAdapter } from '../core/load-adapter.js';
import type { Logger } from '../core/logger.js';
import type { Metrics } from '../core/metrics.js';
import type { Catalog, CheckpointStore, DeadLetterSink, Enricher, LeaseCoordinator, Sink, Source } from '../core/ports.js';
import { createEnricher } from '../enrichment/create.js';
import type { PipelineOptions, PipelinePorts } from '../pipeline/build-pipeline.js';
import { decodeDynamoDbRecord } from '../pipeline/decode/dynamodb-record.js';

export { dynamoDbClient } from '../checkpoints/create.js';

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

/** The checkpoint store the config names, for the CLI's checkpoint commands and replays. */
export async function openCheckpointStore(config: IntegratorConfig): Promise<{ store: CheckpointStore; close(): Promise<void> }> {
  const opened = await createCheckpointStore(config.checkpoints);
  return { store: opened.value, close: opened.close };
}

interface SourceContext {
  readonly checkpoints: CheckpointStore;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Built on demand: only the shard-leasing sources (Kinesis, DynamoDB Streams) take one. */
  readonly coordinator: () => Promise<LeaseCoordinator>;
}

/**
 * The configured source. Each type imports only its own consumer module, so a process carries
 * only the SDK its source needs: the AWS Kinesis or DynamoDB Streams client, or kafkajs.
 */
async function openSource(src: SourceConfig, ctx: SourceContext): Promise<Source> {
  const adapter = `source.type "${src.type}"`;
  switch (src.type) {
    case 'file': {
      const { createFileSource } = await loadAdapter(adapter, () => import('../../consumers/file/create.js'));
      return createFileSource(src, { checkpoints: ctx.checkpoints, log: ctx.log });
    }
    case 'kafka': {
      const { createKafkaSource } = await loadAdapter(adapter, () => import('../../consumers/kafka/create.js'));
      return createKafkaSource(src, { log: ctx.log, metrics: ctx.metrics });
    }
    case 'kinesis': {
      const { createKinesisSource } = await loadAdapter(adapter, () => import('../../consumers/kinesis/create.js'));
      return createKinesisSource(src, { coordinator: await ctx.coordinator(), log: ctx.log, metrics: ctx.metrics });
    }
    case 'dynamodb': {
      const { createDynamoDbStreamsSource } = await loadAdapter(adapter, () => import('../../consumers/dynamodb-streams/create.js'));
      return createDynamoDbStreamsSource(src, { coordinator: await ctx.coordinator(), log: ctx.log, metrics: ctx.metrics });
    }
  }
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
  /** Takes what a factory opened, to be closed with the runtime. */
  const own = <T>(opened: Opened<T>): T => {
    closers.push(opened.close);
    return opened.value;
  };
  try {
    const checkpoints = overrides.checkpoints ?? own(await createCheckpointStore(config.checkpoints));
    if (checkpoints.close) closers.push(() => checkpoints.close!());
    const src = config.source;
    let coordinator: LeaseCoordinator | undefined;
    const leases = async () => (coordinator = own(await createLeaseCoordinator(config.checkpoints, checkpoints, { log, metrics })));
    let source = overrides.source ?? (await openSource(src, { checkpoints, log: log.child({ component: 'source' }), metrics, coordinator: leases }));
    if (overrides.wrapSource) source = overrides.wrapSource(source);
    const sinks = await createSinks(config.sink, { log: log.child({ component: 'sink' }), metrics, encodeConcurrency: config.batching.writeConcurrency });
    closers.push(() => sinks.close());
    const enricher = overrides.enricher ?? (await createEnricher(config.enrichment, { log, metrics }));
    closers.push(() => enricher.close());
    const catalog =
      overrides.catalog ??
      (await createCatalog(config.catalog, { log: log.child({ component: 'catalog' }), metrics, lakeRoot: sinks.store.location, table: config.sink.table, format: config.sink.format }));
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
