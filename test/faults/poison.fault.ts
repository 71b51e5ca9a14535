import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInventoryTable, InventoryTable } from '../../consumers/dynamodb-streams/test-support.js';
import type { ErrorCode } from '../../src/core/errors.js';
import { eventLines, malformedLines } from '../fixtures/events.js';
import { type DynamoDbLocal, startDynamoDbLocal } from '../stack/dynamodb-local.js';
import { type KafkaMock, startKafkaMock } from '../stack/kafka-mock.js';
import { createStream, type Kinesalite, startKinesalite } from '../stack/kinesalite.js';
import { COMPACT_EVENTS, dynamoDbSource, kinesisSource, serviceConfig } from './harness/configs.js';
import { allDelivered, finalCheck, type LakeContents } from './harness/lake-check.js';
import { dynamoDbStreamRecords, FileProducer, KinesisProducer, type Payload, produceKafka } from './harness/producers.js';
import { type Service, startService, until, writeConfig } from './harness/service.js';

/**
 * Case 6: poison records of every kind (test/fixtures malformedLines: bad JSON, missing and
 * wrongly typed fields, too large, invalid UTF-8, arrays, unknown types, bad times, contradictory
 * deltas) mixed into each source, through the service. Each ends in the DLQ with the code and a
 * reason naming what was wrong; every good record around it lands; nothing stalls.
 */
const MAX_RECORD_BYTES = 4096;
const BAD = malformedLines({ largeBytes: 2 * MAX_RECORD_BYTES });

let kin: Kinesalite;
let ddb: DynamoDbLocal;
let kafka: KafkaMock;
let dir: string;
const running: Service[] = [];

beforeAll(async () => {
  [kin, ddb, kafka] = await Promise.all([startKinesalite(), startDynamoDbLocal(), startKafkaMock({ brokers: 1 })]);
  dir = await mkdtemp(join(tmpdir(), 'faults-poison-'));
}, 120_000);
afterAll(async () => {
  await Promise.all(running.map((s) => s.stop()));
  await Promise.all([kin?.stop(), ddb?.stop(), kafka?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** 200 good events with every malformed kind twice among them; which index is which kind. */
function mixed(seed: number): { payloads: Payload[]; bad: Map<number, (typeof BAD)[number]> } {
  const good = [...eventLines(200, { seed, ...COMPACT_EVENTS })];
  const payloads: Payload[] = [];
  const bad = new Map<number, (typeof BAD)[number]>();
  let b = 0;
  good.forEach((line, i) => {
    payloads.push(line);
    if (i % 10 === 5) {
      const m = BAD[b++ % BAD.length]!;
      bad.set(payloads.length, m);
      payloads.push(m.data);
    }
  });
  return { payloads, bad };
}

/** Every poison record in the DLQ with its code and a reason naming the problem; every good one in the raw layer. */
function expectSorted(contents: LakeContents, ids: readonly string[], bad: ReadonlyMap<number, { code: ErrorCode; reasonMentions: string; category: string }>): void {
  ids.forEach((id, i) => {
    const m = bad.get(i);
    if (!m) {
      expect(contents.raw.has(id), `good record #${i} in the raw layer`).toBe(true);
      return;
    }
    const letter = contents.dlq.get(id);
    expect(letter, `${m.category} (#${i}) in the DLQ`).toBeDefined();
    expect(letter!.code, m.category).toBe(m.code);
    expect(letter!.reason.toLowerCase(), m.category).toContain(m.reasonMentions.toLowerCase());
  });
  expect(contents.dlq.size).toBe(bad.size);
}

describe('fault: poison records of every kind in each source', () => {
  it('file source', async () => {
    const { payloads, bad } = mixed(61);
    const input = join(dir, 'poison.ndjson');
    const producer = new FileProducer(input, 'poison');
    const ids = await producer.append(payloads);
    const lake = join(dir, 'file-lake');
    const config = await writeConfig(dir, 'file', serviceConfig({ source: { type: 'file', path: input, maxRecordBytes: MAX_RECORD_BYTES }, lakeDir: lake, checkpointFile: join(dir, 'file-cp.json') }));
    const service = await startService(config, { name: 'service (file poison)' });
    running.push(service);
    expect(await service.exited).toBe(0); // a file source ends: the service drains and exits
    expectSorted(await finalCheck('poison: file', lake, ids), ids, bad);
  });

  it('Kinesis', async () => {
    const stream = 'faults-poison';
    await createStream(kin.client(), stream, 2);
    const { payloads, bad } = mixed(62);
    const producer = new KinesisProducer(kin.client(), stream);
    const lake = join(dir, 'kinesis-lake');
    const config = await writeConfig(dir, 'kinesis', serviceConfig({ source: kinesisSource(kin.endpoint, stream, { maxRecordBytes: MAX_RECORD_BYTES }), lakeDir: lake, checkpointFile: join(dir, 'kinesis-cp.json') }));
    const service = await startService(config, { name: 'service (kinesis poison)' });
    running.push(service);
    // PutRecords answers entry by entry, so the ids come back in payload order.
    const ids: string[] = [];
    for (let i = 0; i < payloads.length; i += 50) ids.push(...(await producer.put(payloads.slice(i, i + 50))));
    await until('every record', 90_000, () => allDelivered(lake, ids));
    expect(await service.drain()).toBe(0);
    expectSorted(await finalCheck('poison: Kinesis', lake, ids), ids, bad);
  });

  it('Kafka', async () => {
    const topic = 'faults-poison';
    const { payloads, bad } = mixed(63);
    const ids = await produceKafka(kafka.brokers, topic, payloads, 4);
    // produceKafka returns ids partition by partition; map them back to payload order.
    const byIndex = new Array<string>(payloads.length);
    let k = 0;
    for (let p = 0; p < 4; p++) for (let i = p; i < payloads.length; i += 4) byIndex[i] = ids[k++]!;
    const lake = join(dir, 'kafka-lake');
    const source = { type: 'kafka', brokers: [...kafka.brokers], topic, groupId: 'faults-poison', maxRecordBytes: MAX_RECORD_BYTES, sessionTimeoutMs: 6000, rebalanceTimeoutMs: 6000, heartbeatIntervalMs: 500, maxWaitTimeMs: 200 };
    const config = await writeConfig(dir, 'kafka', serviceConfig({ source, lakeDir: lake, checkpointFile: join(dir, 'kafka-cp.json') }));
    const service = await startService(config, { name: 'service (kafka poison)' });
    running.push(service);
    await until('every message', 90_000, () => allDelivered(lake, byIndex));
    expect(await service.drain()).toBe(0);
    expectSorted(await finalCheck('poison: Kafka', lake, byIndex), byIndex, bad);
  });

  it('DynamoDB Streams', async () => {
    const tableName = 'faults-poison';
    const arn = await createInventoryTable(ddb.dynamodb(), tableName);
    const table = new InventoryTable(ddb.dynamodb(), tableName);
    // What a table writer can get wrong (the key attributes cannot be missing in DynamoDB).
    const poison: Record<string, Record<string, { S: string } | { N: string }>> = {
      'BAD-QTY-TYPE': { quantity: { S: 'ten' } },
      'BAD-TYPE': { quantity: { N: '3' }, lastChangeType: { S: 'theft' } },
      'BAD-TIME': { quantity: { N: '3' }, updatedAt: { S: 'yesterday at noon' } },
      'BAD-QTY-FRACTION': { quantity: { N: '2.5' } },
    };
    const names = Object.keys(poison);
    for (let i = 0; i < 30; i++) {
      await table.insert(`SKU-${i}`, 'WH-1', 10 + i);
      const sku = i % 7 === 3 ? names[(i - 3) / 7] : undefined;
      if (sku) await ddb.dynamodb().send(new PutItemCommand({ TableName: tableName, Item: { sku: { S: sku }, warehouseId: { S: 'WH-1' }, ...poison[sku] } }));
      await table.change(`SKU-${i}`, 'WH-1', -1, 'sale', `O-${String(i + 1).padStart(7, '0')}`);
    }
    await ddb.dynamodb().send(new UpdateTableCommand({ TableName: tableName, StreamSpecification: { StreamEnabled: false } }));
    const records = await dynamoDbStreamRecords(ddb.streams(), arn, tableName);
    const ids = records.map((r) => r.eventId);
    const lake = join(dir, 'ddb-lake');
    const config = await writeConfig(dir, 'ddb', serviceConfig({ source: dynamoDbSource(ddb.endpoint, tableName, { streamArn: arn }), lakeDir: lake, checkpointFile: join(dir, 'ddb-cp.json') }));
    const service = await startService(config, { name: 'service (dynamodb poison)' });
    running.push(service);
    await until('every change', 90_000, () => allDelivered(lake, ids));
    expect(await service.drain()).toBe(0);
    const contents = await finalCheck('poison: DynamoDB Streams', lake, ids);
    const mentions: Record<string, string> = { 'BAD-QTY-TYPE': 'quantity', 'BAD-TYPE': 'lastChangeType', 'BAD-TIME': 'updatedAt', 'BAD-QTY-FRACTION': 'whole number' };
    for (const r of records) {
      if (!(r.sku in poison)) {
        expect(contents.raw.has(r.eventId), r.sku).toBe(true);
        continue;
      }
      const letter = contents.dlq.get(r.eventId);
      expect(letter, r.sku).toBeDefined();
      expect(letter!.code).toBe('RECORD_INVALID');
      expect(letter!.reason, r.sku).toContain(mentions[r.sku]);
    }
    expect(contents.dlq.size).toBe(Object.keys(poison).length);
  });
});
