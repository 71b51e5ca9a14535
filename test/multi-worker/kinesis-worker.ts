/**
 * A Kinesis worker process for the process-level tests: KinesisSource, the real pipeline, a
 * Parquet file lake, and either DynamoDB leases (several workers sharing a stream) or a
 * checkpoint file (one worker, for kill-and-restart). Started with `node --import tsx`; its only
 * argument is a JSON object of settings. Prints READY once wired; SIGTERM shuts it down
 * gracefully (final checkpoint, leases handed back); SIGKILL is the crash the tests are about.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createKinesisClient } from '../../consumers/kinesis/create.js';
import { KinesisSourceConfig } from '../../consumers/kinesis/config.js';
import { KinesisSource } from '../../consumers/kinesis/source.js';
import { createSinks } from '../../sinks/create.js';
import { DynamoDbLeaseCoordinator } from '../../src/checkpoints/dynamodb-lease-coordinator.js';
import { FileCheckpointStore } from '../../src/checkpoints/file-store.js';
import { LocalLeaseCoordinator } from '../../src/checkpoints/local-coordinator.js';
import { BatchingConfig, PartitioningConfig } from '../../src/config/schema.js';
import { MemoryMetrics } from '../../src/core/metrics.js';
import type { LeaseCoordinator } from '../../src/core/ports.js';
import { PassThroughEnricher } from '../../src/enrichment/pass-through.js';
import { createLogger } from '../../src/observability/logger.js';
import { buildPipeline } from '../../src/pipeline/build-pipeline.js';

export interface WorkerSettings {
  readonly workerId: string;
  readonly kinesisEndpoint: string;
  readonly stream: string;
  readonly lakeDir: string;
  readonly leases: { readonly dynamoDbEndpoint: string; readonly table: string; readonly leaseDurationMs: number } | { readonly checkpointFile: string };
  /** Per GetRecords call; small values make a run take many polls. */
  readonly maxRecordsPerCall?: number;
}

const settings = JSON.parse(process.argv[2] ?? '{}') as WorkerSettings;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const log = createLogger({ level: process.env.WORKER_LOG_LEVEL ?? 'warn', name: settings.workerId, destination: process.stderr });
const metrics = new MemoryMetrics();

const leases = settings.leases;
const dynamodb = 'table' in leases ? new DynamoDBClient({ endpoint: leases.dynamoDbEndpoint, region: 'us-east-1', credentials, maxAttempts: 3 }) : undefined;
const coordinator: LeaseCoordinator =
  'table' in leases
    ? new DynamoDbLeaseCoordinator({
        client: dynamodb!,
        tableName: leases.table,
        workerId: settings.workerId,
        leaseDurationMs: leases.leaseDurationMs,
        createTable: true,
        log,
        metrics,
      })
    : new LocalLeaseCoordinator(new FileCheckpointStore(leases.checkpointFile));
const config = KinesisSourceConfig.parse({
  type: 'kinesis',
  streamName: settings.stream,
  idleTimeBetweenReadsMs: 200,
  shardSyncIntervalMs: 1000,
  leaseClaimIntervalMs: 'table' in leases ? Math.max(200, Math.floor(leases.leaseDurationMs / 10)) : 1000,
  maxRecordsPerCall: settings.maxRecordsPerCall ?? 10_000,
  aws: { endpoint: settings.kinesisEndpoint, accessKeyId: 'local', secretAccessKey: 'local' },
});
const source = new KinesisSource({ client: createKinesisClient(config.aws), coordinator, config, log, metrics });
const sinks = await createSinks({ type: 'file', dir: settings.lakeDir, format: 'parquet', compression: 'zstd', table: 'inventory_changes', dlqPrefix: 'dlq' }, { log, metrics });
const pipeline = buildPipeline(
  { source, enricher: new PassThroughEnricher(), sink: sinks.sink, dlq: sinks.dlq, catalog: { partitionsCommitted: async () => undefined, close: async () => undefined }, log, metrics },
  {
    table: 'inventory_changes',
    // Small, young batches so what is read is written and checkpointed within a second.
    batching: BatchingConfig.parse({ maxAgeMs: 300, maxRecords: 5000 }),
    partitioning: PartitioningConfig.parse({}),
    maxRecordBytes: config.maxRecordBytes,
  },
).start();

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  void (async () => {
    await pipeline.stop();
    await coordinator.releaseAll();
    await sinks.close();
    dynamodb?.destroy();
    process.exit(0);
  })();
});
pipeline.done.catch((err: unknown) => {
  log.error({ err }, 'pipeline failed');
  process.exit(1);
});
process.stdout.write('READY\n');
