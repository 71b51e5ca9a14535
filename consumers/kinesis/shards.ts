import { type GetShardIteratorCommandInput, type KinesisClient, ListShardsCommand, type Shard } from '@aws-sdk/client-kinesis';
import type { OwnedShard, ShardInfo } from '../../src/core/ports.js';
import type { KinesisSourceConfig } from './config.js';

/** All shards of the stream, open and closed (within retention), following NextToken. */
export async function listAllShards(client: Pick<KinesisClient, 'send'>, streamName: string, signal?: AbortSignal): Promise<Shard[]> {
  const shards: Shard[] = [];
  let nextToken: string | undefined;
  do {
    // ListShards refuses StreamName together with NextToken: the token already names the stream.
    const input = nextToken === undefined ? { StreamName: streamName, MaxResults: 1000 } : { NextToken: nextToken, MaxResults: 1000 };
    const page = await client.send(new ListShardsCommand(input), { abortSignal: signal });
    shards.push(...(page.Shards ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  return shards;
}

export { toShardInfos } from '../shared/shard-lineage.js';

export type IteratorStart = Omit<GetShardIteratorCommandInput, 'StreamName' | 'ShardId' | 'StreamARN'>;

/**
 * Where a shard's reading starts. After a checkpoint inside a KPL aggregate the aggregate is read
 * again (AT_SEQUENCE_NUMBER) and its delivered sub-records skipped. A child of a split or merge
 * with no checkpoint starts at its beginning whatever `startAt` says: its parents were read to
 * their end, and LATEST there would lose what the child received in between (AT_TIMESTAMP is
 * kept: it already means "everything after that time").
 */
export function iteratorStart(owned: OwnedShard, info: ShardInfo | undefined, config: Pick<KinesisSourceConfig, 'startAt' | 'startTimestamp'>): IteratorStart {
  const cp = owned.checkpoint;
  if (cp !== undefined) {
    return cp.sub === undefined
      ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: cp.seq }
      : { ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: cp.seq };
  }
  if (config.startAt === 'AT_TIMESTAMP') return { ShardIteratorType: 'AT_TIMESTAMP', Timestamp: new Date(config.startTimestamp!) };
  if (info !== undefined && info.parents.length > 0) return { ShardIteratorType: 'TRIM_HORIZON' };
  return { ShardIteratorType: config.startAt };
}
