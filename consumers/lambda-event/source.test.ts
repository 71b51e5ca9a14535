import { firstValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ManualGate } from '../../src/core/flow-gate.js';
import { SILENT_LOGGER } from '../../src/core/logger.js';
import { NO_METRICS } from '../../src/core/metrics.js';
import type { Envelope } from '../../src/core/envelope.js';
import type { SourceContext } from '../../src/core/ports.js';
import { dynamoDbStreamRecords } from '../../test/fixtures/dynamodb-records.js';
import { dynamoDbEvent, kinesisEvent, kinesisRecord, kplAggregate, sequences } from '../../test/lambda/events.js';
import { parseStreamEvent } from './event.js';
import { LambdaEventSource } from './source.js';

const ctx: SourceContext = { gate: new ManualGate(), log: SILENT_LOGGER, metrics: NO_METRICS, flush: async () => undefined };
const SHARD = 'shardId-000000000003';

async function polls(source: LambdaEventSource): Promise<Envelope[][]> {
  return (await firstValueFrom(source.open(ctx).pipe(toArray()))).map((p) => [...p]);
}

describe('parseStreamEvent', () => {
  it('pins Kinesis records to the stream of the ARN, the shard of the eventID and their sequence number', () => {
    const seqs = sequences(2);
    const parsed = parseStreamEvent(kinesisEvent('inventory', SHARD, [{ seq: seqs[0]!, data: 'a' }, { seq: seqs[1]!, data: 'b' }]));
    expect(parsed.kind).toBe('kinesis');
    expect(parsed.records.map((r) => ({ stream: r.stream, shard: r.shard, seq: r.seq }))).toEqual([
      { stream: 'inventory', shard: SHARD, seq: seqs[0] },
      { stream: 'inventory', shard: SHARD, seq: seqs[1] },
    ]);
  });

  it('labels DynamoDB records with the table and the stream label of the ARN', () => {
    const [rec] = [...dynamoDbStreamRecords(1)];
    const parsed = parseStreamEvent(dynamoDbEvent('inventory', '2026-01-02T03:04:05.678', [rec!]));
    expect(parsed).toMatchObject({ kind: 'dynamodb', records: [{ stream: 'inventory', shard: '2026-01-02T03:04:05.678', seq: rec!.dynamodb.SequenceNumber }] });
  });

  const seq = sequences(1)[0]!;
  const good = kinesisRecord('s', SHARD, { seq, data: 'x' });
  it.each([
    ['not an object', 'x', /expected an object with "Records", got string/],
    ['no Records', {}, /"Records" is missing/],
    ['empty Records', { Records: [] }, /"Records" is empty/],
    ['an SQS event', { Records: [{ eventSource: 'aws:sqs', messageId: '1' }] }, /eventSource "aws:sqs" is not supported/],
    ['mixed sources', { Records: [good, { ...good, eventSource: 'aws:dynamodb' }] }, /differs from the first record's/],
    ['a bad ARN', { Records: [{ ...good, eventSourceARN: 'arn:aws:sqs:us-east-1:1:queue' }] }, /Records\[0\]\.eventSourceARN .* is not a Kinesis stream ARN/],
    ['an eventID without the shard', { Records: [{ ...good, eventID: seq }] }, /Records\[0\]\.eventID .* is not "<shardId>:/],
    ['no sequence number', { Records: [{ ...good, kinesis: { ...good.kinesis, sequenceNumber: undefined } }] }, /sequenceNumber undefined is not a decimal/],
    ['data not base64 text', { Records: [{ ...good, kinesis: { ...good.kinesis, data: 42 } }] }, /data is not a base64 string/],
    ['a DynamoDB record without SequenceNumber', { Records: [{ eventSource: 'aws:dynamodb', eventSourceARN: 'arn:aws:dynamodb:us-east-1:1:table/t1x/stream/L', dynamodb: {} }] }, /dynamodb\.SequenceNumber undefined/],
  ])('refuses %s with a clear error', (_name, event, message) => {
    expect(() => parseStreamEvent(event)).toThrow(message);
    expect(() => parseStreamEvent(event)).toThrow(/^malformed Lambda stream event/);
  });
});

describe('LambdaEventSource', () => {
  it('emits one poll of envelopes in event order and completes; Kinesis data arrives decoded', async () => {
    const seqs = sequences(3);
    const src = LambdaEventSource.fromEvent(kinesisEvent('inv', SHARD, seqs.map((s, i) => ({ seq: s, data: `{"n":${i}}`, arrivedAt: 1_795_000_000_123 }))), SILENT_LOGGER, 7);
    const out = await polls(src);
    expect(out).toHaveLength(1);
    expect(out[0]!.map((e) => e.position)).toEqual(seqs.map((s) => ({ source: 'kinesis', stream: 'inv', shard: SHARD, seq: s })));
    expect(out[0]![1]).toMatchObject({ payload: { kind: 'bytes', data: Buffer.from('{"n":1}') }, receivedAt: 7, arrivedAt: 1_795_000_000_123 });
  });

  it('splits KPL aggregates into sub-records that share the record sequence number', async () => {
    const [a, b] = sequences(2);
    const agg = kplAggregate([0, 1, 2].map((i) => ({ partitionKey: `k${i}`, data: `{"i":${i}}` })));
    const src = LambdaEventSource.fromEvent(kinesisEvent('inv', SHARD, [{ seq: a!, data: agg }, { seq: b!, data: '{}' }]), SILENT_LOGGER);
    const [poll] = await polls(src);
    expect(poll!.map((e) => [e.position.seq, e.position.sub])).toEqual([
      [a, 0],
      [a, 1],
      [a, 2],
      [b, undefined],
    ]);
    expect(poll![2]!.payload).toEqual({ kind: 'bytes', data: Buffer.from('{"i":2}') });
  });

  it('carries DynamoDB records whole, with their creation time', async () => {
    const recs = [...dynamoDbStreamRecords(2)];
    const src = LambdaEventSource.fromEvent(dynamoDbEvent('inventory', 'L1', recs), SILENT_LOGGER);
    const [poll] = await polls(src);
    expect(poll![0]).toMatchObject({
      position: { source: 'dynamodb', stream: 'inventory', shard: 'L1', seq: recs[0]!.dynamodb.SequenceNumber },
      payload: { kind: 'dynamodb', record: { eventName: recs[0]!.eventName, dynamodb: recs[0]!.dynamodb } },
      arrivedAt: recs[0]!.dynamodb.ApproximateCreationDateTime * 1000,
    });
  });

  it('reports nothing once every record is committed, and the first undelivered record otherwise', async () => {
    const seqs = sequences(4);
    const src = LambdaEventSource.fromEvent(kinesisEvent('inv', SHARD, seqs.map((s) => ({ seq: s, data: '{}' }))), SILENT_LOGGER);
    const [poll] = await polls(src);
    expect(src.failures()).toEqual([{ itemIdentifier: seqs[0] }]);
    await src.commit(poll![1]!.position);
    expect(src.failures()).toEqual([{ itemIdentifier: seqs[2] }]);
    expect(src.progress()).toEqual({ delivered: 2, pending: 2 });
    await src.commit(poll![3]!.position);
    expect(src.failures()).toEqual([]);
  });

  it('reports a KPL aggregate delivered in part by its own sequence number', async () => {
    const [a, b] = sequences(2);
    const agg = kplAggregate([0, 1, 2].map((i) => ({ partitionKey: 'k', data: `{"i":${i}}` })));
    const src = LambdaEventSource.fromEvent(kinesisEvent('inv', SHARD, [{ seq: a!, data: agg }, { seq: b!, data: '{}' }]), SILENT_LOGGER);
    const [poll] = await polls(src);
    await src.commit(poll![1]!.position);
    expect(src.failures()).toEqual([{ itemIdentifier: a }]);
    await src.commit(poll![2]!.position);
    expect(src.failures()).toEqual([{ itemIdentifier: b }]);
  });

  it('keeps one report per shard when an event holds several', async () => {
    const seqs = sequences(4);
    const event = {
      Records: [
        kinesisRecord('inv', 'shardId-000000000001', { seq: seqs[0]!, data: '{}' }),
        kinesisRecord('inv', 'shardId-000000000001', { seq: seqs[2]!, data: '{}' }),
        kinesisRecord('inv', 'shardId-000000000002', { seq: seqs[1]!, data: '{}' }),
        kinesisRecord('inv', 'shardId-000000000002', { seq: seqs[3]!, data: '{}' }),
      ],
    };
    const src = LambdaEventSource.fromEvent(event, SILENT_LOGGER);
    const [poll] = await polls(src);
    await src.commit(poll![0]!.position);
    expect(src.failures()).toEqual([{ itemIdentifier: seqs[2] }, { itemIdentifier: seqs[1] }]);
  });

  it('refuses a commit of a position the event did not carry, and a second open', async () => {
    const seqs = sequences(2);
    const src = LambdaEventSource.fromEvent(kinesisEvent('inv', SHARD, [{ seq: seqs[0]!, data: '{}' }]), SILENT_LOGGER);
    await polls(src);
    await expect(src.commit({ source: 'kinesis', stream: 'inv', shard: SHARD, seq: seqs[1]! })).rejects.toThrow(/did not carry/);
    await expect(polls(src)).rejects.toThrow(/opened once/);
  });
});
