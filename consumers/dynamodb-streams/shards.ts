import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, type DynamoDBStreamsClient, type GetShardIteratorCommandInput, type Shard } from '@aws-sdk/client-dynamodb-streams';
import { IntegratorError } from '../../src/core/errors.js';
import type { OwnedShard, ShardInfo } from '../../src/core/ports.js';
import type { DynamoDbStreamsSourceConfig } from './config.js';
import { readFailed } from './errors.js';

export type StreamsSend = Pick<DynamoDBStreamsClient, 'send'>;
export type DynamoDbSend = Pick<DynamoDBClient, 'send'>;

/** The configured stream ARN, or the table's current stream (DescribeTable LatestStreamArn). */
export async function resolveStreamArn(dynamodb: DynamoDbSend, config: Pick<DynamoDbStreamsSourceConfig, 'tableName' | 'streamArn'>, signal?: AbortSignal): Promise<string> {
  if (config.streamArn) return config.streamArn;
  let out;
  try {
    out = await dynamodb.send(new DescribeTableCommand({ TableName: config.tableName }), { abortSignal: signal });
  } catch (err) {
    throw readFailed(`describing table ${config.tableName}`, err, { table: config.tableName });
  }
  const arn = out.Table?.LatestStreamArn;
  if (!arn || out.Table?.StreamSpecification?.StreamEnabled === false) {
    throw new IntegratorError('CONFIG_INVALID', `table ${config.tableName} has no stream enabled (set StreamSpecification NEW_AND_OLD_IMAGES, or give source.streamArn)`);
  }
  return arn;
}

/** Every shard of the stream, open and closed (within retention), page by page. */
export async function describeAllShards(client: StreamsSend, streamArn: string, signal?: AbortSignal): Promise<Shard[]> {
  const shards: Shard[] = [];
  let start: string | undefined;
  do {
    const page = await client.send(new DescribeStreamCommand({ StreamArn: streamArn, Limit: 100, ...(start ? { ExclusiveStartShardId: start } : {}) }), { abortSignal: signal });
    shards.push(...(page.StreamDescription?.Shards ?? []));
    start = page.StreamDescription?.LastEvaluatedShardId;
  } while (start);
  return shards;
}

export { toShardInfos } from '../shared/shard-lineage.js';

export type IteratorStart = Pick<GetShardIteratorCommandInput, 'ShardIteratorType' | 'SequenceNumber'>;

/**
 * Where a shard's reading starts: after the checkpoint; else at the beginning of a child whose
 * parent was read to its end (LATEST there would lose what the child received in between); else
 * the configured start.
 */
export function iteratorStart(owned: OwnedShard, info: ShardInfo | undefined, startAt: DynamoDbStreamsSourceConfig['startAt']): IteratorStart {
  if (owned.checkpoint !== undefined) return { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: owned.checkpoint.seq };
  if (info !== undefined && info.parents.length > 0) return { ShardIteratorType: 'TRIM_HORIZON' };
  return { ShardIteratorType: startAt };
}
