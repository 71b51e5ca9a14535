import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eventIdOf } from '../../src/core/event-id.js';
import type { Position } from '../../src/core/position.js';
import { canonicalEvents, dynamoDbStreamRecords, malformedLines } from '../fixtures/events.js';
import { type S3Stack, startS3rver } from '../stack/s3rver.js';
import { type Bundles, bundleForTests, type LambdaProcess, startLambda } from './bundled.js';
import { dynamoDbEvent, kinesisEvent, kplAggregate, sequences } from './events.js';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';
import { clearBucket, deadLetters, eventIdCounts, listKeys } from './lake.js';

/**
 * The bundled handler (scripts/bundle-lambda.ts output), run as Lambda runs it — imported once
 * by a Node process that then calls handler(event, context) per invocation — on events shaped
 * as the Kinesis and DynamoDB Streams event source mappings deliver them, writing to s3rver
 * through a proxy that can fail chosen requests.
 */
const BUCKET = 'lake';
let bundles: Bundles;
let s3: S3Stack;
let proxy: FaultProxy;
let client: S3Client;
let fn: LambdaProcess;
const extra: LambdaProcess[] = [];

function lambdaEnv(endpoint: string, format: 'parquet' | 'ndjson'): Record<string, string> {
  const config = {
    // Only the decoding settings of a source matter in Lambda: records larger than this go to the DLQ.
    source: { type: 'kinesis', streamName: 'from-the-event', maxRecordBytes: 8192 },
    sink: {
      type: 's3',
      bucket: BUCKET,
      forcePathStyle: true,
      format,
      aws: { endpoint, region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', maxAttempts: 1 },
    },
  };
  return {
    INTEGRATOR_CONFIG: JSON.stringify(config),
    // The deploy stacks configure through these; they apply on top of the config text.
    INTEGRATOR__LOGGING__LEVEL: 'warn',
    INTEGRATOR_LAMBDA_DEADLINE_MARGIN_MS: '500',
    // As in a function: no HOME, and the handler moves to the writable /tmp for DuckDB.
    AWS_LAMBDA_FUNCTION_NAME: 'inventory-integrator-stream-handler',
    HOME: '',
  };
}

beforeAll(async () => {
  [bundles, s3] = await Promise.all([bundleForTests(), startS3rver(BUCKET)]);
  proxy = await startFaultProxy(s3.endpoint);
  client = s3.client();
  fn = await startLambda(bundles.withDuckDb, lambdaEnv(proxy.endpoint, 'parquet'));
});

afterAll(async () => {
  await Promise.all([fn, ...extra].map((f) => f?.stop()));
  await proxy?.stop();
  await s3?.stop();
  await bundles?.remove();
});

beforeEach(async () => {
  proxy.fail(undefined);
  await clearBucket(client, BUCKET);
});

const SHARD = 'shardId-000000000007';
const kinesisId = (stream: string, seq: string, sub?: number): string =>
  eventIdOf({ source: 'kinesis', stream, shard: SHARD, seq, ...(sub === undefined ? {} : { sub }) } as Position);

/** dt=YYYY-MM-DD/hour=HH of a canonical event, as the partitioner derives it (UTC). */
function partitionOf(eventTime: string | number): string {
  const iso = new Date(eventTime).toISOString();
  return `dt=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}`;
}

describe('Kinesis events', () => {
  it('writes every record of a batch (KPL aggregates split) to the Parquet lake once and reports nothing', async () => {
    const lines = [...canonicalEvents(300)].map((e) => JSON.stringify(e));
    const seqs = sequences(301);
    const aggregated = [...canonicalEvents(5, { seed: 7 })].map((e, i) => ({ partitionKey: `agg-${i}`, data: JSON.stringify(e) }));
    const event = kinesisEvent('inventory-events', SHARD, [
      ...lines.map((data, i) => ({ seq: seqs[i]!, data, partitionKey: `pk-${i % 11}` })),
      { seq: seqs[300]!, data: kplAggregate(aggregated) },
    ]);

    const res = await fn.invoke(event);

    expect(res).toEqual({ batchItemFailures: [] });
    const expected = [...seqs.slice(0, 300).map((s) => kinesisId('inventory-events', s)), ...aggregated.map((_, sub) => kinesisId('inventory-events', seqs[300]!, sub))];
    const counts = await eventIdCounts(client, BUCKET);
    expect([...counts.keys()].sort()).toEqual([...expected].sort());
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    // Deterministic keys: partition, then source-stream-shard-first-last ("-" in names escaped).
    expect((await listKeys(client, BUCKET, 'inventory_changes/')).every((k) => /^inventory_changes\/dt=\d{4}-\d\d-\d\d\/hour=\d\d\/kinesis-inventory%2Devents-shardId-000000000007-\d+(_\d+)?-\d+(_\d+)?\.parquet$/.test(k))).toBe(true);
    // One CloudWatch EMF line per invocation carries the counts.
    expect(fn.output()).toMatch(/"integrator_events_received_total":305[,}]/);
  });

  it('sends poison records to the DLQ with their reasons and does not report them', async () => {
    const bad = malformedLines({ largeBytes: 9000 });
    const good = [...canonicalEvents(40)].map((e) => JSON.stringify(e));
    const seqs = sequences(good.length + bad.length);
    // Poison first, last and in between: none of them may hold the shard back.
    const mixed: Array<{ data: Buffer | string; bad?: (typeof bad)[number] }> = [];
    for (let i = 0, g = 0, b = 0; i < seqs.length; i++) mixed.push(i % 5 === 0 && b < bad.length ? { data: bad[b]!.data, bad: bad[b++] } : g < good.length ? { data: good[g++]! } : { data: bad[b]!.data, bad: bad[b++] });
    const event = kinesisEvent('inventory-events', SHARD, mixed.map((m, i) => ({ seq: seqs[i]!, data: m.data })));

    const res = await fn.invoke(event);

    expect(res).toEqual({ batchItemFailures: [] });
    const letters = await deadLetters(client, BUCKET);
    const expectedLetters = mixed.flatMap((m, i) => (m.bad ? [{ seq: seqs[i]!, code: m.bad.code, mentions: m.bad.reasonMentions }] : []));
    expect(letters.map((l) => ({ seq: l.position.seq, code: l.code })).sort((a, b) => a.seq.localeCompare(b.seq))).toEqual(expectedLetters.map(({ seq, code }) => ({ seq, code })));
    for (const l of letters) expect(l.reason.toLowerCase()).toContain(expectedLetters.find((e) => e.seq === l.position.seq)!.mentions.toLowerCase());
    const counts = await eventIdCounts(client, BUCKET);
    expect([...counts.keys()].sort()).toEqual(mixed.flatMap((m, i) => (m.bad ? [] : [kinesisId('inventory-events', seqs[i]!)])).sort());
  });

  it('reports the lowest record of a partition S3 keeps failing, by the deadline, and the retry from there completes the lake', async () => {
    const events = [...canonicalEvents(200)];
    const seqs = sequences(events.length);
    const parts = events.map((e) => partitionOf(e.eventTime));
    // A partition whose first record is well inside the batch, with healthy records before it.
    const failing = parts.find((p, i) => i >= 20 && parts.indexOf(p) === i)!;
    const first = parts.indexOf(failing);
    const event = kinesisEvent('inventory-events', SHARD, events.map((e, i) => ({ seq: seqs[i]!, data: JSON.stringify(e) })));
    proxy.fail((method, path) => method === 'PUT' && path.startsWith(`/${BUCKET}/inventory_changes/${failing}/`));

    const res = await fn.invoke(event, 4000);

    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: seqs[first] }] });
    expect(proxy.failed).toBeGreaterThan(0);
    const before = await eventIdCounts(client, BUCKET);
    for (let i = 0; i < first; i++) expect(before.get(kinesisId('inventory-events', seqs[i]!))).toBe(1);
    expect(events.some((_, i) => parts[i] === failing && before.has(kinesisId('inventory-events', seqs[i]!)))).toBe(false);

    // S3 recovers; Lambda re-sends the shard from the reported record on (same warm process).
    proxy.fail(undefined);
    const retry = await fn.invoke({ Records: event.Records.slice(first) });

    expect(retry).toEqual({ batchItemFailures: [] });
    const after = await eventIdCounts(client, BUCKET);
    expect([...after.keys()].sort()).toEqual(seqs.map((s) => kinesisId('inventory-events', s)).sort());
    for (let i = 0; i < first; i++) expect(after.get(kinesisId('inventory-events', seqs[i]!))).toBe(1);
  });

  it('fails the invocation, naming the problem, on an event that is not a stream batch', async () => {
    await expect(fn.invoke({ Records: [] })).rejects.toThrow(/malformed Lambda stream event: "Records" is empty/);
    await expect(fn.invoke({ Records: [{ eventSource: 'aws:sqs', body: '{}' }] })).rejects.toThrow(/eventSource "aws:sqs" is not supported/);
    // The warm process is still good for the next event.
    const [seq] = sequences(1);
    await expect(fn.invoke(kinesisEvent('s', SHARD, [{ seq: seq!, data: JSON.stringify([...canonicalEvents(1)][0]) }]))).resolves.toEqual({ batchItemFailures: [] });
  });
});

describe('DynamoDB Streams events', () => {
  const TABLE = 'inventory';
  const LABEL = '2026-11-21T13:00:00.000';
  const ddbId = (seq: string) => eventIdOf({ source: 'dynamodb', stream: TABLE, shard: LABEL, seq });

  it('writes INSERT, MODIFY and REMOVE records under the stream label as shard, and dead-letters a broken one unreported', async () => {
    const records = [...dynamoDbStreamRecords(150, { removeFraction: 0.05 })];
    expect(new Set(records.map((r) => r.eventName))).toEqual(new Set(['INSERT', 'MODIFY', 'REMOVE']));
    // A MODIFY from a stream without old images: undecodable with NEW_AND_OLD_IMAGES semantics.
    const modify = records.findIndex((r) => r.eventName === 'MODIFY');
    const broken = { ...records[modify]!, dynamodb: { ...records[modify]!.dynamodb, OldImage: undefined } };
    const batch = records.map((r, i) => (i === modify ? broken : r));

    const res = await fn.invoke(dynamoDbEvent(TABLE, LABEL, batch));

    expect(res).toEqual({ batchItemFailures: [] });
    const counts = await eventIdCounts(client, BUCKET);
    expect([...counts.keys()].sort()).toEqual(batch.filter((_, i) => i !== modify).map((r) => ddbId(r.dynamodb.SequenceNumber)).sort());
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    const letters = await deadLetters(client, BUCKET);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ position: { source: 'dynamodb', stream: TABLE, shard: LABEL, seq: broken.dynamodb.SequenceNumber }, code: 'RECORD_INVALID', payloadEncoding: 'json' });
    expect(letters[0]!.reason).toMatch(/OldImage/);
  });

  it('reports the DynamoDB SequenceNumber of the first record it could not write', async () => {
    const records = [...dynamoDbStreamRecords(60, { seed: 11 })];
    proxy.fail((method, path) => method === 'PUT' && path.startsWith(`/${BUCKET}/inventory_changes/`));

    const res = await fn.invoke(dynamoDbEvent(TABLE, LABEL, records), 3000);

    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: records[0]!.dynamodb.SequenceNumber }] });
  });
});

describe('without DuckDB beside the bundle', () => {
  it('runs sink.format ndjson, and refuses parquet at start-up naming the key', async () => {
    const ndjson = await startLambda(bundles.withoutDuckDb, lambdaEnv(s3.endpoint, 'ndjson'));
    const parquet = await startLambda(bundles.withoutDuckDb, lambdaEnv(s3.endpoint, 'parquet'));
    extra.push(ndjson, parquet);
    const lines = [...canonicalEvents(50)].map((e) => JSON.stringify(e));
    const seqs = sequences(lines.length);
    const event = kinesisEvent('inventory-events', SHARD, lines.map((data, i) => ({ seq: seqs[i]!, data })));

    await expect(ndjson.invoke(event)).resolves.toEqual({ batchItemFailures: [] });
    expect((await listKeys(client, BUCKET, 'inventory_changes/')).every((k) => k.endsWith('.ndjson.gz'))).toBe(true);
    expect([...(await eventIdCounts(client, BUCKET)).keys()].sort()).toEqual(seqs.map((s) => kinesisId('inventory-events', s)).sort());

    const refused = parquet.invoke(event);
    await expect(refused).rejects.toThrow(/key "sink\.format": value "parquet" needs DuckDB .*Cannot find module '@duckdb\/node-api'.*set sink\.format: ndjson/s);
    await expect(refused).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
