import { appendFile } from 'node:fs/promises';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { DescribeStreamCommand, type DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { Partitioners } from 'kafkajs';
import { kafkaClient } from '../../../consumers/kafka/test-kit.js';
import { eventIdOf } from '../../../src/core/event-id.js';
import { putRecordsPlaced } from '../../stack/kinesis-put.js';

/**
 * Producers for the fault cases: each puts records into a real source and remembers the event
 * id each record will get (event ids follow from source positions, src/core/event-id.ts), so the
 * final check can ask the lake for exactly those.
 */

export type Payload = string | Buffer;
const bytes = (p: Payload): Buffer => (typeof p === 'string' ? Buffer.from(p) : p);

/** PutRecords in batches of 500, re-sending what a batch reports as failed; ids from the returned shard and sequence. */
export class KinesisProducer {
  readonly eventIds: string[] = [];
  /** Where each record landed, in put order. */
  readonly records: Array<{ readonly shard: string; readonly seq: string; readonly eventId: string }> = [];
  private n = 0;

  constructor(
    private readonly client: Pick<KinesisClient, 'send'>,
    readonly stream: string,
  ) {}

  async put(payloads: readonly Payload[]): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < payloads.length; i += 500) {
      const entries = payloads.slice(i, i + 500).map((p) => ({ PartitionKey: `pk-${this.n++}`, Data: bytes(p) }));
      for (const r of await putRecordsPlaced(this.client, this.stream, entries)) {
        const eventId = eventIdOf({ source: 'kinesis', stream: this.stream, shard: r.shard, seq: r.seq });
        ids.push(eventId);
        this.records.push({ shard: r.shard, seq: r.seq, eventId });
      }
    }
    this.eventIds.push(...ids);
    return ids;
  }
}

/** Sends values round-robin over the topic's partitions; ids from each partition's base offset. */
export async function produceKafka(brokers: readonly string[], topic: string, values: readonly Payload[], partitions = 4): Promise<string[]> {
  const producer = kafkaClient(brokers, 'faults-producer').producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: true });
  await producer.connect();
  try {
    const byPartition = new Map<number, Buffer[]>();
    values.forEach((v, i) => {
      const list = byPartition.get(i % partitions) ?? [];
      list.push(bytes(v));
      byPartition.set(i % partitions, list);
    });
    const ids: string[] = [];
    for (const [partition, msgs] of byPartition) {
      for (let attempt = 0; ; attempt++) {
        try {
          const [meta] = await producer.send({ topic, messages: msgs.map((value) => ({ value, partition })) });
          const base = BigInt(meta!.baseOffset!);
          msgs.forEach((_, j) => ids.push(eventIdOf({ source: 'kafka', stream: topic, shard: String(partition), seq: String(base + BigInt(j)) })));
          break;
        } catch (err) {
          // The first send to a topic may race its auto-creation on the mock cluster.
          if (attempt === 4) throw err;
          await new Promise((r) => setTimeout(r, 300));
        }
      }
    }
    return ids;
  } finally {
    await producer.disconnect();
  }
}

/** Appends lines to an NDJSON file; ids from their 1-based line numbers. */
export class FileProducer {
  readonly eventIds: string[] = [];
  private lines = 0;

  constructor(
    readonly path: string,
    readonly stream: string,
  ) {}

  async append(payloads: readonly Payload[]): Promise<string[]> {
    const ids = payloads.map(() => eventIdOf({ source: 'file', stream: this.stream, shard: '0', seq: String(++this.lines) }));
    await appendFile(this.path, Buffer.concat(payloads.flatMap((p) => [bytes(p), Buffer.from('\n')])));
    this.eventIds.push(...ids);
    return ids;
  }
}

/**
 * Every record of a DynamoDB stream, read directly (independently of the service): the ids the
 * pipeline must produce for them. Reads each shard from TRIM_HORIZON to its current end.
 */
export async function dynamoDbStreamIds(client: Pick<DynamoDBStreamsClient, 'send'>, streamArn: string, tableName: string): Promise<string[]> {
  return (await dynamoDbStreamRecords(client, streamArn, tableName)).map((r) => r.eventId);
}

/** The same, with each record's sku key, to tell apart the items a test made bad on purpose. */
export async function dynamoDbStreamRecords(client: Pick<DynamoDBStreamsClient, 'send'>, streamArn: string, tableName: string): Promise<Array<{ eventId: string; sku: string }>> {
  const ids: Array<{ eventId: string; sku: string }> = [];
  const { StreamDescription } = await client.send(new DescribeStreamCommand({ StreamArn: streamArn }));
  for (const shard of StreamDescription?.Shards ?? []) {
    let it = (await client.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    while (it) {
      const page = await client.send(new GetRecordsCommand({ ShardIterator: it, Limit: 1000 }));
      for (const r of page.Records ?? []) {
        ids.push({ eventId: eventIdOf({ source: 'dynamodb', stream: tableName, shard: shard.ShardId!, seq: r.dynamodb!.SequenceNumber! }), sku: r.dynamodb?.Keys?.sku?.S ?? '' });
      }
      if ((page.Records ?? []).length === 0) break;
      it = page.NextShardIterator;
    }
  }
  return ids;
}
