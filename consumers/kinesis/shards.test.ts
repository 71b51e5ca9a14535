import { type KinesisClient, ListShardsCommand, type Shard } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { iteratorStart, listAllShards, toShardInfos } from './shards.js';

const shard = (id: string, extra: Partial<Shard> = {}): Shard => ({ ShardId: id, HashKeyRange: { StartingHashKey: '0', EndingHashKey: '1' }, SequenceNumberRange: { StartingSequenceNumber: '1' }, ...extra }) as Shard;

describe('listAllShards', () => {
  // kinesalite returns every shard in one page, so paging is checked against scripted pages.
  it('follows NextToken without repeating the stream name', async () => {
    const inputs: unknown[] = [];
    const pages = [
      { Shards: [shard('a')], NextToken: 't1' },
      { Shards: [shard('b')], NextToken: 't2' },
      { Shards: [shard('c')] },
    ];
    const client = {
      send: async (cmd: ListShardsCommand) => {
        inputs.push(cmd.input);
        return pages.shift()!;
      },
    } as unknown as Pick<KinesisClient, 'send'>;
    const shards = await listAllShards(client, 'inv');
    expect(shards.map((s) => s.ShardId)).toEqual(['a', 'b', 'c']);
    expect(inputs).toEqual([
      { StreamName: 'inv', MaxResults: 1000 },
      { NextToken: 't1', MaxResults: 1000 },
      { NextToken: 't2', MaxResults: 1000 },
    ]);
  });
});

describe('toShardInfos', () => {
  it('keeps lineage to listed parents only and marks closed shards', () => {
    const infos = toShardInfos([
      shard('p', { SequenceNumberRange: { StartingSequenceNumber: '1', EndingSequenceNumber: '9' } }),
      shard('q'),
      shard('m', { ParentShardId: 'p', AdjacentParentShardId: 'q' }),
      shard('orphan', { ParentShardId: 'trimmed-long-ago' }),
    ]);
    expect(infos).toEqual([
      { shard: 'p', parents: [], closed: true },
      { shard: 'q', parents: [], closed: false },
      { shard: 'm', parents: ['p', 'q'], closed: false },
      { shard: 'orphan', parents: [], closed: false },
    ]);
  });
});

describe('iteratorStart', () => {
  const latest = { startAt: 'LATEST' as const, startTimestamp: undefined };
  it('resumes after a checkpoint, or at it when inside an aggregate', () => {
    expect(iteratorStart({ shard: 'a', checkpoint: { seq: '5' } }, undefined, latest)).toEqual({ ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: '5' });
    expect(iteratorStart({ shard: 'a', checkpoint: { seq: '5', sub: 2 } }, undefined, latest)).toEqual({ ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: '5' });
  });
  it('starts children of a split or merge at their beginning, others where configured', () => {
    expect(iteratorStart({ shard: 'c' }, { shard: 'c', parents: ['p'] }, latest)).toEqual({ ShardIteratorType: 'TRIM_HORIZON' });
    expect(iteratorStart({ shard: 'p' }, { shard: 'p', parents: [] }, latest)).toEqual({ ShardIteratorType: 'LATEST' });
    const t = '2026-01-02T03:04:05Z';
    expect(iteratorStart({ shard: 'c' }, { shard: 'c', parents: ['p'] }, { startAt: 'AT_TIMESTAMP', startTimestamp: t })).toEqual({
      ShardIteratorType: 'AT_TIMESTAMP',
      Timestamp: new Date(t),
    });
  });
});
