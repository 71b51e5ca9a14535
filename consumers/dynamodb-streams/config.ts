import { z } from 'zod';
import { AwsClientConfig } from '../../src/config/aws.js';

export const FieldMapping = z
  .object({
    sku: z.string().default('sku'),
    warehouseId: z.string().default('warehouseId'),
    quantity: z.string().default('quantity').describe('on-hand quantity attribute; before/after come from the OLD/NEW images'),
    orderId: z.string().default('lastOrderId'),
    customerId: z.string().default('lastCustomerId'),
    eventType: z.string().default('lastChangeType').describe('attribute naming why the item changed; else INSERT/MODIFY/REMOVE'),
    eventTime: z.string().default('updatedAt').describe('ISO-8601 or epoch-ms attribute; else the stream record creation time'),
  })
  .strict();
export type FieldMapping = z.infer<typeof FieldMapping>;

export const DynamoDbStreamsSourceConfig = z
  .object({
    type: z.literal('dynamodb'),
    tableName: z.string().min(1).describe('table whose stream is read'),
    streamArn: z.string().optional().describe('stream ARN; default: the table’s LatestStreamArn'),
    startAt: z
      .enum(['TRIM_HORIZON', 'LATEST'])
      .default('TRIM_HORIZON')
      .describe('where a shard without a checkpoint starts; children of a closed shard always start at their beginning'),
    maxRecordsPerCall: z.number().int().min(1).max(1000).default(1000).describe('GetRecords Limit (DynamoDB Streams allows 1000)'),
    idleTimeBetweenReadsMs: z.number().int().min(100).default(500).describe('pause after an empty read'),
    shardSyncIntervalMs: z.number().int().min(1000).default(10_000).describe('how often to describe the stream (new shards, other workers’ finished parents)'),
    leaseClaimIntervalMs: z
      .number()
      .int()
      .min(100)
      .default(2000)
      .describe('how often leases are taken and balanced; keep it well under the lease duration'),
    mapping: FieldMapping.default(FieldMapping.parse({})),
    aws: AwsClientConfig.default(AwsClientConfig.parse({})),
  })
  .strict();
export type DynamoDbStreamsSourceConfig = z.infer<typeof DynamoDbStreamsSourceConfig>;
