import {
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type Shard,
  type _Record,
} from '@aws-sdk/client-dynamodb-streams';
import { describe, expect, it } from 'vitest';
import { LocalLeaseCoordinator } from '../../src/checkpoints/local-coordinator.js';
import { MemoryCheckpointStore } from '../../src/checkpoints/memory-store.js';
import { SILENT_LOGGER } from '../../src/core/logger.js';
import { NO_METRICS } from '../../src/core/metrics.js';
import { SHARD_END } from '../../src/core/ports.js';
import { DynamoDbStreamsSource } from './source.js';
import { Drain } from './test-support.js';

/**
 * DynamoDB closes a stream shard and opens its child every few hours; DynamoDB Local never does
 * within a test, so this scripted stream stands in for that one scenario: a closed parent whose
 * child appears in DescribeStream only once the parent has been read to its end.
 */
class ScriptedStream {
  readonly iteratorsFor: string[] = [];
  readonly describePages: Array<string | undefined> = [];
  parentDrained = false;
  private readonly data: Record<string, _Record[]> = {
    'shardId-parent': [101, 102, 103].map((s) => rec(s)),
    'shardId-child': [201, 202].map((s) => rec(s)),
  };

  send = async (cmd: unknown): Promise<unknown> => {
    if (cmd instanceof DescribeStreamCommand) {
      const shards: Shard[] = [
        { ShardId: 'shardId-parent', SequenceNumberRange: { StartingSequenceNumber: seq(101), EndingSequenceNumber: seq(103) } },
        ...(this.parentDrained ? [{ ShardId: 'shardId-child', ParentShardId: 'shardId-parent', SequenceNumberRange: { StartingSequenceNumber: seq(201) } }] : []),
      ];
      // One shard per page, to make the source follow LastEvaluatedShardId.
      const start = cmd.input.ExclusiveStartShardId;
      this.describePages.push(start);
      const i = start === undefined ? 0 : shards.findIndex((s) => s.ShardId === start) + 1;
      const page = shards.slice(i, i + 1);
      return { StreamDescription: { Shards: page, ...(i + 1 < shards.length ? { LastEvaluatedShardId: page[0]!.ShardId } : {}) } };
    }
    if (cmd instanceof GetShardIteratorCommand) {
      const { ShardId, ShardIteratorType, SequenceNumber } = cmd.input;
      this.iteratorsFor.push(ShardId!);
      const records = this.data[ShardId!]!;
      const after = (r: _Record) => r.dynamodb!.SequenceNumber! > SequenceNumber!; // equal lengths: text order is numeric order
      const at = ShardIteratorType === 'TRIM_HORIZON' ? 0 : ShardIteratorType === 'LATEST' ? records.length : records.findIndex(after);
      return { ShardIterator: `${ShardId}#${at}` };
    }
    if (cmd instanceof GetRecordsCommand) {
      const [shard, at] = cmd.input.ShardIterator!.split('#') as [string, string];
      const records = this.data[shard]!.slice(Number(at), Number(at) + (cmd.input.Limit ?? 1000));
      const next = Number(at) + records.length;
      const closed = shard === 'shardId-parent' && next >= this.data[shard]!.length;
      if (closed) this.parentDrained = true;
      return { Records: records, ...(closed ? {} : { NextShardIterator: `${shard}#${next}` }) };
    }
    throw new Error(`unexpected command ${String(cmd)}`);
  };
}

const seq = (n: number) => String(n).padStart(21, '0');
function rec(n: number): _Record {
  return {
    eventID: `e${n}`,
    eventName: 'INSERT',
    dynamodb: {
      ApproximateCreationDateTime: new Date(Date.UTC(2026, 10, 21, 13, 0, 0)),
      Keys: { sku: { S: `SKU-${n}` }, warehouseId: { S: 'WH-1' } },
      NewImage: { sku: { S: `SKU-${n}` }, warehouseId: { S: 'WH-1' }, quantity: { N: '1' } },
      SequenceNumber: seq(n),
      SizeBytes: 40,
    },
  };
}

describe('DynamoDbStreamsSource shard lineage (scripted stream)', () => {
  it('reads a child only after its parent is delivered and finished, and finds it at once, not at the next periodic scan', async () => {
    const stream = new ScriptedStream();
    const store = new MemoryCheckpointStore();
    // Resume the parent from a checkpoint before its first record; the child has none, and with
    // startAt LATEST it must still start at its beginning (TRIM_HORIZON), or it would skip records.
    await store.put({ source: 'dynamodb', stream: 'inventory', shard: 'shardId-parent', seq: seq(100) });
    const src = new DynamoDbStreamsSource({
      streams: stream as unknown as Pick<DynamoDBStreamsClient, 'send'>,
      dynamodb: { send: () => Promise.reject(new Error('DescribeTable must not be called when streamArn is given')) } as never,
      coordinator: new LocalLeaseCoordinator(store),
      config: {
        tableName: 'inventory',
        streamArn: 'arn:aws:dynamodb:us-east-1:000000000000:table/inventory/stream/2026-11-21T00:00:00.000',
        startAt: 'LATEST',
        maxRecordsPerCall: 2,
        idleTimeBetweenReadsMs: 100,
        shardSyncIntervalMs: 600_000, // a periodic scan would come far too late for this test
        leaseClaimIntervalMs: 50,
      },
      log: SILENT_LOGGER,
      metrics: NO_METRICS,
    });
    const drain = new Drain(src, { commit: () => false }).start();

    await drain.until(() => drain.received.length === 3 && stream.parentDrained, 'the parent read to its end');
    await new Promise((r) => setTimeout(r, 300)); // several claim cycles: none may start the child
    expect(stream.iteratorsFor).not.toContain('shardId-child');
    expect((await store.get('dynamodb', 'inventory', 'shardId-parent'))?.seq).toBe(seq(100)); // not finished

    await src.commit(drain.received[2]!.position); // the pipeline delivers the parent's last record

    await drain.until(() => drain.received.length === 5, 'the child');
    await drain.stop();
    expect(drain.received.map((e) => e.position.seq)).toEqual([101, 102, 103, 201, 202].map(seq));
    expect(drain.received.map((e) => e.position.shard)).toEqual(['shardId-parent', 'shardId-parent', 'shardId-parent', 'shardId-child', 'shardId-child']);
    expect((await store.get('dynamodb', 'inventory', 'shardId-parent'))?.seq).toBe(SHARD_END);
    expect(stream.describePages).toContain('shardId-parent'); // DescribeStream was followed page by page
    expect(drain.completed).toBe(true);
  });
});
