import { z } from 'zod';
import { DynamoDbStreamsSourceConfig } from '../../consumers/dynamodb-streams/config.js';
import { FileSourceConfig } from '../../consumers/file/config.js';
import { KafkaSourceConfig } from '../../consumers/kafka/config.js';
import { KinesisSourceConfig } from '../../consumers/kinesis/config.js';
import { SinkConfig } from '../../sinks/config.js';
import { CatalogConfig } from '../catalog/config.js';
import { CheckpointConfig } from '../checkpoints/config.js';
import { EnrichmentConfig } from '../enrichment/config.js';

export const SourceConfig = z.discriminatedUnion('type', [
  FileSourceConfig,
  KinesisSourceConfig,
  DynamoDbStreamsSourceConfig,
  KafkaSourceConfig,
]);
export type SourceConfig = z.infer<typeof SourceConfig>;

export const BatchingConfig = z
  .object({
    maxRecords: z.number().int().min(1).max(5_000_000).default(100_000).describe('flush a partition batch at this many records'),
    maxBytes: z.number().int().min(1024).default(64 * 1024 * 1024).describe('flush a partition batch at this many payload bytes'),
    maxAgeMs: z.number().int().min(10).default(60_000).describe('flush a partition batch this long after its first record'),
    memoryBudgetBytes: z
      .number()
      .int()
      .min(1024 * 1024)
      .default(96 * 1024 * 1024)
      .describe('estimated memory of all open batches together (about 300 B a record plus its payload); above it the largest batch is flushed early'),
    writeConcurrency: z.number().int().min(1).max(64).default(8).describe('object writes in flight at once'),
    maxInFlightRecords: z.number().int().min(1000).default(100_000).describe('received but not yet delivered; above it sources pause'),
    enrichBatchRecords: z.number().int().min(1).max(100_000).default(5000).describe('records per enrichment lookup batch'),
    pollsInProgress: z
      .number()
      .int()
      .min(1)
      .max(8)
      // Two already hide a lookup's round trip behind the other poll's work (a 2 ms RTT to the
      // database cost the enrich bench no throughput). A third poll only kept more changes
      // alive in the young generation: per 1M events 60 scavenges instead of 48 enriched (47
      // instead of 37 pass-through), and the enriched run ~5-10% slower.
      .default(2)
      .describe('polls normalized and enriched at once (their lookups overlap, output stays in order); 1: one poll at a time'),
    decodeWorkers: z
      .union([z.literal('auto'), z.number().int().min(0).max(16)])
      .default('auto')
      .describe('worker threads that parse and validate JSON payloads of large polls; 0 decodes on the main thread; auto: none below 4 cores, else one per two cores beyond the first two, at most 2'),
  })
  .strict();
export type BatchingConfig = z.infer<typeof BatchingConfig>;

export const PartitioningConfig = z
  .object({
    extraKeys: z
      .array(z.enum(['warehouseId', 'eventType', 'source']))
      .max(3)
      .default([])
      .describe('more Hive partition keys after dt and hour, e.g. [warehouseId]'),
  })
  .strict();
export type PartitioningConfig = z.infer<typeof PartitioningConfig>;

export const LoggingConfig = z
  .object({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  })
  .strict();

export const ServiceConfig = z
  .object({
    port: z.number().int().min(0).max(65_535).default(8080).describe('HTTP port of /healthz, /readyz, /metrics; 0 picks a free one'),
    host: z.string().default('0.0.0.0'),
    shutdownDeadlineMs: z.number().int().min(1000).default(30_000).describe('on SIGTERM: flush, checkpoint and exit within this'),
  })
  .strict();

export const IntegratorConfig = z
  .object({
    source: SourceConfig,
    sink: SinkConfig,
    enrichment: EnrichmentConfig.default({ type: 'none' }),
    checkpoints: CheckpointConfig.default({ type: 'file', path: '.lake/checkpoints.json' }),
    catalog: CatalogConfig.default({ type: 'none' }),
    batching: BatchingConfig.default(BatchingConfig.parse({})),
    partitioning: PartitioningConfig.default(PartitioningConfig.parse({})),
    logging: LoggingConfig.default(LoggingConfig.parse({})),
    service: ServiceConfig.default(ServiceConfig.parse({})),
  })
  .strict();
export type IntegratorConfig = z.infer<typeof IntegratorConfig>;
