import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand } from '@aws-sdk/client-dynamodb-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInventoryTable, InventoryTable } from '../../consumers/dynamodb-streams/test-support.js';
import { merge, openShards, splitInHalf } from '../../consumers/kinesis/test-support.js';
import { FileCheckpointStore } from '../../src/checkpoints/file-store.js';
import { SHARD_END } from '../../src/core/ports.js';
import { eventLines } from '../fixtures/events.js';
import { type DynamoDbLocal, startDynamoDbLocal } from '../stack/dynamodb-local.js';
import { createStream, type Kinesalite, startKinesalite } from '../stack/kinesalite.js';
import { COMPACT_EVENTS, dynamoDbSource, kinesisSource, serviceConfig } from './harness/configs.js';
import { allDelivered, finalCheck } from './harness/lake-check.js';
import { dynamoDbStreamIds, KinesisProducer } from './harness/producers.js';
import { type Service, startService, until, writeConfig } from './harness/service.js';

/**
 * Case 4: the shards under the service change while it runs. Kinesis: a shard is split and two
 * shards merged while events keep arriving. DynamoDB Streams: the stream's shard is closed
 * (DynamoDB Local closes the open shard when the stream is disabled) with records still unread.
 * Parents finish (SHARD_END) and every record lands once.
 */
let kin: Kinesalite;
let ddb: DynamoDbLocal;
let dir: string;
const running: Service[] = [];

beforeAll(async () => {
  [kin, ddb] = await Promise.all([startKinesalite(), startDynamoDbLocal()]);
  dir = await mkdtemp(join(tmpdir(), 'faults-reshard-'));
}, 120_000);
afterAll(async () => {
  await Promise.all(running.map((s) => s.stop()));
  await Promise.all([kin?.stop(), ddb?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('fault: shards change during the run', () => {
  it('Kinesis: a shard split and two merged mid-run; parents finished; every event once', async () => {
    const stream = 'faults-reshard';
    const client = kin.client();
    await createStream(client, stream, 2);
    const lake = join(dir, 'kinesis');
    const checkpointFile = join(dir, 'kinesis-checkpoints.json');
    const config = await writeConfig(dir, 'kinesis', serviceConfig({ source: kinesisSource(kin.endpoint, stream, { maxRecordsPerCall: 50 }), lakeDir: lake, checkpointFile }));
    const lines = [...eventLines(900, { seed: 4, ...COMPACT_EVENTS })];
    const producer = new KinesisProducer(client, stream);
    const service = await startService(config, { name: 'service (kinesis reshard)' });
    running.push(service);

    await producer.put(lines.slice(0, 300));
    await until('a first delivery', 60_000, async () => ((await allDelivered(lake, producer.eventIds.slice(0, 20))) ? true : undefined));
    await splitInHalf(client, stream, 'shardId-000000000000'); // → 2 and 3
    await producer.put(lines.slice(300, 600));
    await merge(client, stream, 'shardId-000000000003', 'shardId-000000000001'); // → 4
    await producer.put(lines.slice(600));
    expect((await openShards(client, stream)).sort()).toEqual(['shardId-000000000002', 'shardId-000000000004']);

    await until('every event', 90_000, () => allDelivered(lake, producer.eventIds));
    const cps = new Map((await new FileCheckpointStore(checkpointFile).list('kinesis', stream)).map((c) => [c.shard, c.seq]));
    await until('the closed parents finished', 30_000, async () => {
      const now = new Map((await new FileCheckpointStore(checkpointFile).list('kinesis', stream)).map((c) => [c.shard, c.seq]));
      return ['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000003'].every((s) => now.get(s) === SHARD_END) ? true : undefined;
    });
    expect(cps.size).toBeGreaterThanOrEqual(4);
    expect(await service.drain()).toBe(0);
    const { raw } = await finalCheck('Kinesis split + merge (file lake)', lake, producer.eventIds);
    expect(raw.size).toBe(900);
  });

  it('DynamoDB Streams: the shard closed mid-run; finished once its last record is delivered; every change once', async () => {
    const tableName = 'faults-ddb-close';
    const arn = await createInventoryTable(ddb.dynamodb(), tableName);
    const table = new InventoryTable(ddb.dynamodb(), tableName);
    const lake = join(dir, 'dynamodb');
    const checkpointFile = join(dir, 'ddb-checkpoints.json');
    const config = await writeConfig(dir, 'ddb', serviceConfig({ source: dynamoDbSource(ddb.endpoint, tableName, { streamArn: arn, maxRecordsPerCall: 25 }), lakeDir: lake, checkpointFile }));
    const service = await startService(config, { name: 'service (dynamodb close)' });
    running.push(service);

    const shopping = async (prefix: string, items: number) => {
      for (let i = 0; i < items; i++) await table.insert(`${prefix}-${i}`, `WH-${i % 3}`, 50 + i);
      for (let i = 0; i < items; i++) await table.change(`${prefix}-${i}`, `WH-${i % 3}`, -(1 + (i % 4)), 'sale', `O-${String(i + 1).padStart(7, '0')}`);
      for (let i = 0; i < items; i += 5) await table.remove(`${prefix}-${i}`, `WH-${i % 3}`);
    };
    await shopping('A', 40);
    const firstIds = await dynamoDbStreamIds(ddb.streams(), arn, tableName);
    await until('the first changes', 60_000, () => allDelivered(lake, firstIds.slice(0, 10)));
    await shopping('B', 40);
    // Disabling the stream closes its open shard: what it holds is all there will be.
    await ddb.dynamodb().send(new UpdateTableCommand({ TableName: tableName, StreamSpecification: { StreamEnabled: false } }));
    const described = await ddb.streams().send(new DescribeStreamCommand({ StreamArn: arn }));
    const shards = described.StreamDescription?.Shards ?? [];
    expect(shards.length).toBeGreaterThan(0);
    expect(shards.every((s) => s.SequenceNumberRange?.EndingSequenceNumber !== undefined)).toBe(true);

    const ids = await dynamoDbStreamIds(ddb.streams(), arn, tableName);
    expect(ids).toHaveLength(table.applied.length);
    await until('every change', 90_000, () => allDelivered(lake, ids));
    await until('the closed shard finished', 30_000, async () => {
      const cps = await new FileCheckpointStore(checkpointFile).list('dynamodb', tableName);
      return shards.every((s) => cps.some((c) => c.shard === s.ShardId && c.seq === SHARD_END)) ? true : undefined;
    });
    expect(await service.drain()).toBe(0);
    await finalCheck('DynamoDB Streams shard closed (file lake)', lake, ids);
  });
}, 240_000);
