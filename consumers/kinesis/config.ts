import { z } from 'zod';
import { AwsClientConfig } from '../../src/config/aws.js';

export const KinesisSourceConfig = z
  .object({
    type: z.literal('kinesis'),
    streamName: z.string().min(1).describe('Kinesis data stream name'),
    startAt: z.enum(['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP']).default('TRIM_HORIZON').describe('where a shard without a checkpoint starts'),
    startTimestamp: z.iso.datetime({ offset: true }).optional().describe('with startAt AT_TIMESTAMP'),
    maxRecordsPerCall: z.number().int().min(1).max(10_000).default(10_000).describe('GetRecords Limit'),
    idleTimeBetweenReadsMs: z.number().int().min(200).default(250).describe('pause after an empty read; ≥ 200 keeps within 5 calls/s per shard'),
    shardSyncIntervalMs: z.number().int().min(1000).default(10_000).describe('how often to look for new shards'),
    maxRecordBytes: z.number().int().min(1024).default(1024 * 1024).describe('larger records go to the DLQ'),
    aws: AwsClientConfig.default(AwsClientConfig.parse({})),
  })
  .strict();
export type KinesisSourceConfig = z.infer<typeof KinesisSourceConfig>;
