import type { ShardInfo } from '../../src/core/ports.js';

/** The fields Kinesis ListShards and DynamoDB DescribeStream shards have in common. */
export interface ShardLike {
  readonly ShardId?: string | undefined;
  readonly ParentShardId?: string | undefined;
  readonly AdjacentParentShardId?: string | undefined;
  readonly SequenceNumberRange?: { readonly EndingSequenceNumber?: string | undefined } | undefined;
}

/**
 * The lineage the coordinator needs. Parents that are no longer listed have aged out of the
 * stream (past retention): nothing of them is left to read, so they do not hold children back.
 * A merge has two parents (Kinesis's adjacent parent); a split or a DynamoDB roll-over one.
 */
export function toShardInfos(shards: readonly ShardLike[]): ShardInfo[] {
  const listed = new Set(shards.map((s) => s.ShardId));
  return shards
    .filter((s): s is ShardLike & { ShardId: string } => typeof s.ShardId === 'string')
    .map((s) => ({
      shard: s.ShardId,
      parents: [s.ParentShardId, s.AdjacentParentShardId].filter((p): p is string => p !== undefined && listed.has(p)),
      closed: s.SequenceNumberRange?.EndingSequenceNumber !== undefined,
    }));
}
