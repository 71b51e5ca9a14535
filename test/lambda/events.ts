import { createRequire } from 'node:module';
import type { DynamoDbStreamRecord } from '../fixtures/dynamodb-records.js';

/**
 * Lambda stream events exactly as the event source mappings deliver them (AWS Lambda developer
 * guide, "Using Lambda with Kinesis" / "with DynamoDB"): base64 data, decimal sequence numbers,
 * eventSourceARN, eventID "shardId:seq" (Kinesis) or a per-record id (DynamoDB).
 */
export const REGION = 'us-east-1';
export const ACCOUNT = '123456789012';

export const kinesisArn = (stream: string): string => `arn:aws:kinesis:${REGION}:${ACCOUNT}:stream/${stream}`;
export const dynamoDbStreamArn = (table: string, label: string): string => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${table}/stream/${label}`;

export interface KinesisInput {
  readonly seq: string;
  readonly data: Buffer | string;
  readonly partitionKey?: string;
  /** Epoch ms the stream accepted it. */
  readonly arrivedAt?: number;
}

export function kinesisRecord(stream: string, shard: string, r: KinesisInput) {
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: r.partitionKey ?? 'pk',
      sequenceNumber: r.seq,
      data: Buffer.from(r.data).toString('base64'),
      approximateArrivalTimestamp: (r.arrivedAt ?? 1_795_000_000_000) / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shard}:${r.seq}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: `arn:aws:iam::${ACCOUNT}:role/lambda-role`,
    awsRegion: REGION,
    eventSourceARN: kinesisArn(stream),
  };
}

export function kinesisEvent(stream: string, shard: string, records: readonly KinesisInput[]) {
  return { Records: records.map((r) => kinesisRecord(stream, shard, r)) };
}

/** A DynamoDB stream record (as GetRecords returns it) wrapped as Lambda delivers it. */
export function dynamoDbEvent(table: string, label: string, records: readonly DynamoDbStreamRecord[]) {
  return { Records: records.map((r) => ({ ...r, eventSourceARN: dynamoDbStreamArn(table, label) })) };
}

/** Kinesis-sized sequence numbers (56 digits), increasing by `step`. */
export function sequences(count: number, start = 49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_898n, step = 17n): string[] {
  return Array.from({ length: count }, (_, i) => String(start + BigInt(i) * step));
}

const require = createRequire(import.meta.url);
const { RecordAggregator } = require('aws-kinesis-agg') as {
  RecordAggregator: new () => { addUserRecord(r: { partitionKey: string; data: Buffer }): void; build(): { data: Buffer } };
};

/** A KPL aggregate built by the official aggregator. */
export function kplAggregate(records: ReadonlyArray<{ partitionKey: string; data: Buffer | string }>): Buffer {
  const agg = new RecordAggregator();
  for (const r of records) agg.addUserRecord({ partitionKey: r.partitionKey, data: Buffer.from(r.data) });
  return agg.build().data;
}

/** A context object as Lambda passes it, with the time left fixed. */
export function lambdaContext(remainingMs = 60_000, requestId = 'test-request') {
  const until = Date.now() + remainingMs;
  return { awsRequestId: requestId, functionName: 'inventory-integrator-stream-handler', getRemainingTimeInMillis: () => Math.max(0, until - Date.now()) };
}
