import { z } from 'zod';
import { AwsClientConfig } from '../../src/config/aws.js';

export const KinesisSourceConfig = z
  .object({
    type: z.literal('kinesis'),
    streamName: z.string().min(1).max(128).describe('Kinesis data stream name'),
    startAt: z
      .enum(['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP'])
      .default('TRIM_HORIZON')
      .describe('where a shard without a checkpoint starts; children of a split or merge always start at their beginning'),
    startTimestamp: z.iso.datetime({ offset: true }).optional().describe('required with startAt AT_TIMESTAMP'),
    maxRecordsPerCall: z.number().int().min(1).max(10_000).default(10_000).describe('GetRecords Limit'),
    idleTimeBetweenReadsMs: z.number().int().min(200).default(250).describe('pause after an empty read; ≥ 200 keeps within 5 calls/s per shard'),
    shardSyncIntervalMs: z.number().int().min(1000).default(10_000).describe('how often to list shards (new shards, other workers’ finished parents)'),
    leaseClaimIntervalMs: z
      .number()
      .int()
      .min(100)
      .default(2000)
      .describe('how often leases are taken and renewed; keep it well under a third of the lease duration'),
    maxRecordBytes: z.number().int().min(1024).default(1024 * 1024).describe('larger records go to the DLQ'),
    aws: AwsClientConfig.default(AwsClientConfig.parse({})),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.startAt === 'AT_TIMESTAMP' && c.startTimestamp === undefined) {
      ctx.addIssue({ code: 'custom', path: ['startTimestamp'], message: 'startAt AT_TIMESTAMP needs startTimestamp (ISO-8601)' });
    }
  });
export type KinesisSourceConfig = z.infer<typeof KinesisSourceConfig>;
