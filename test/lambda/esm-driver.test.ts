import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eventIdOf } from '../../src/core/event-id.js';
import { compareSeq } from '../../src/core/position.js';
import { canonicalEvents } from '../fixtures/events.js';
import { createStream, type Kinesalite, startKinesalite } from '../stack/kinesalite.js';
import { type S3Stack, startS3rver } from '../stack/s3rver.js';
import { type Bundles, bundleForTests, type LambdaProcess, startLambda } from './bundled.js';
import { EventSourceMappingDriver } from './esm-driver.js';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';
import { clearBucket, eventIdCounts } from './lake.js';

/**
 * kinesalite → a local event source mapping (esm-driver.ts) → the bundled handler in its own
 * process → s3rver: Lambda's polling, batching and retry-from-the-lowest-failure loop, end to end.
 */
const BUCKET = 'lake';
let bundles: Bundles;
let s3: S3Stack;
let proxy: FaultProxy;
let kin: Kinesalite;
let kinesis: KinesisClient;
let s3Client: S3Client;
let fn: LambdaProcess;
let n = 0;

beforeAll(async () => {
  [bundles, s3, kin] = await Promise.all([bundleForTests(), startS3rver(BUCKET), startKinesalite({ inProcess: true })]);
  proxy = await startFaultProxy(s3.endpoint);
  kinesis = kin.client();
  s3Client = s3.client();
  const config = {
    sink: {
      type: 's3',
      bucket: BUCKET,
      forcePathStyle: true,
      format: 'parquet',
      aws: { endpoint: proxy.endpoint, region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', maxAttempts: 1 },
    },
    logging: { level: 'warn' },
  };
  fn = await startLambda(bundles.withDuckDb, { INTEGRATOR_CONFIG: JSON.stringify(config), INTEGRATOR_LAMBDA_DEADLINE_MARGIN_MS: '500', INTEGRATOR_LAMBDA_METRICS: 'off' });
});

afterAll(async () => {
  await fn?.stop();
  await proxy?.stop();
  await kin?.stop();
  await s3?.stop();
  await bundles?.remove();
});

beforeEach(async () => {
  proxy.fail(undefined);
  await clearBucket(s3Client, BUCKET);
});

interface Put {
  readonly shard: string;
  readonly seq: string;
  readonly eventId: string;
  /** dt=…/hour=… the record's event time falls in. */
  readonly partition: string;
}

/** Puts canonical events with spread partition keys; remembers where each landed. */
async function produce(stream: string, count: number, seed: number): Promise<Put[]> {
  const events = [...canonicalEvents(count, { seed })];
  const out: Put[] = [];
  for (let i = 0; i < events.length; i += 250) {
    const chunk = events.slice(i, i + 250);
    const res = await kinesis.send(
      new PutRecordsCommand({ StreamName: stream, Records: chunk.map((e, j) => ({ PartitionKey: `pk-${i + j}`, Data: Buffer.from(JSON.stringify(e)) })) }),
    );
    res.Records!.forEach((r, j) => {
      if (r.ErrorCode || !r.ShardId || !r.SequenceNumber) throw new Error(`PutRecords failed for record ${i + j}: ${r.ErrorCode}`);
      const iso = new Date(chunk[j]!.eventTime).toISOString();
      out.push({
        shard: r.ShardId,
        seq: r.SequenceNumber,
        eventId: eventIdOf({ source: 'kinesis', stream, shard: r.ShardId, seq: r.SequenceNumber }),
        partition: `dt=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}`,
      });
    });
  }
  return out;
}

async function newStream(shards: number): Promise<string> {
  const stream = `lambda-esm-${++n}`;
  await createStream(kinesis, stream, shards);
  return stream;
}

describe('local event source mapping over kinesalite', () => {
  it('delivers every event of every shard to the lake exactly once', async () => {
    const stream = await newStream(3);
    const puts = await produce(stream, 900, 1);
    expect(new Set(puts.map((p) => p.shard)).size).toBe(3);
    const driver = new EventSourceMappingDriver({ kinesis, stream, batchSize: 100, invoke: (event) => fn.invoke(event, 30_000) });

    await driver.drain();

    expect(driver.invocations.every((i) => i.failedAt === undefined)).toBe(true);
    const counts = await eventIdCounts(s3Client, BUCKET);
    expect([...counts.keys()].sort()).toEqual(puts.map((p) => p.eventId).sort());
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
  });

  it('honours batchItemFailures: re-reads a shard from the lowest reported record, and every event ends in the lake', async () => {
    const stream = await newStream(2);
    const puts = await produce(stream, 500, 2);
    // S3 refuses one hour partition until the handler has reported a failure once.
    const failing = puts[60]!.partition;
    proxy.fail((method, path) => method === 'PUT' && path.startsWith(`/${BUCKET}/inventory_changes/${failing}/`));
    const driver = new EventSourceMappingDriver({
      kinesis,
      stream,
      batchSize: 100,
      invoke: (event) => fn.invoke(event, 4000),
      onInvoked: (info) => {
        if (info.failedAt !== undefined) proxy.fail(undefined);
      },
    });

    await driver.drain();

    const failures = driver.invocations.filter((i) => i.failedAt !== undefined);
    expect(failures).toHaveLength(1);
    const failed = failures[0]!;
    // The reported record is the first record of the failing partition in that batch...
    const firstFailing = failed.sequences.find((seq) => puts.find((p) => p.shard === failed.shard && p.seq === seq)!.partition === failing);
    expect(failed.failedAt).toBe(firstFailing);
    // ...and the shard's next batch starts exactly there.
    const next = driver.invocations[driver.invocations.indexOf(failed) + 1 + driver.invocations.slice(driver.invocations.indexOf(failed) + 1).findIndex((i) => i.shard === failed.shard)]!;
    expect(next.sequences[0]).toBe(failed.failedAt);

    const counts = await eventIdCounts(s3Client, BUCKET);
    expect([...counts.keys()].sort()).toEqual(puts.map((p) => p.eventId).sort());
    // At least once in the raw layer: only records Lambda re-sent after the failure (same shard,
    // from the reported record to the end of that batch) may be there twice; by eventId, once.
    const lastOfFailed = failed.sequences[failed.sequences.length - 1]!;
    for (const p of puts) {
      const c = counts.get(p.eventId)!;
      if (c > 1) {
        expect(c).toBe(2);
        expect(p.shard).toBe(failed.shard);
        expect(compareSeq(p.seq, failed.failedAt!)).toBeGreaterThan(0);
        expect(compareSeq(p.seq, lastOfFailed)).toBeLessThanOrEqual(0);
      }
    }
  });
});
