import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileCheckpointStore } from '../../src/checkpoints/file-store.js';
import { compareSeq } from '../../src/core/position.js';
import { eventLines } from '../fixtures/events.js';
import { createStream, type Kinesalite, startKinesalite } from '../stack/kinesalite.js';
import { type S3Stack, startS3rver } from '../stack/s3rver.js';
import { COMPACT_EVENTS, kinesisSource, serviceConfig } from './harness/configs.js';
import { type FaultMode, type HttpFaultProxy, startHttpFaultProxy } from './harness/http-fault-proxy.js';
import { allDelivered, delivered, finalCheck } from './harness/lake-check.js';
import { KinesisProducer } from './harness/producers.js';
import { S3Mirror } from './harness/s3-mirror.js';
import { type Service, startService, until, writeConfig } from './harness/service.js';

/**
 * Case 2: the service writing its lake to S3 (s3rver) through a fault proxy that answers 503
 * SlowDown, then lets requests time out, then recovers. While S3 is failing, the checkpoint file
 * is read again and again and compared with what is really in the bucket: no checkpoint may
 * cover a record that is not written (raw layer or DLQ).
 */
const STREAM = 'faults-s3';
const BUCKET = 'faults-lake';

let kin: Kinesalite;
let s3: S3Stack;
let proxy: HttpFaultProxy;
let dir: string;
let service: Service | undefined;

beforeAll(async () => {
  [kin, s3] = await Promise.all([startKinesalite(), startS3rver(BUCKET)]);
  proxy = await startHttpFaultProxy(s3.endpoint, { hangMs: 1000 });
  dir = await mkdtemp(join(tmpdir(), 'faults-s3-'));
  await createStream(kin.client(), STREAM, 2);
});
afterAll(async () => {
  await service?.stop();
  await proxy?.stop();
  await Promise.all([kin?.stop(), s3?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('fault: S3 failing, then recovering', () => {
  it('503s and timeouts: no checkpoint passes unwritten data; after recovery everything lands once', async () => {
    const checkpointFile = join(dir, 'checkpoints.json');
    const sink = {
      type: 's3',
      bucket: BUCKET,
      forcePathStyle: true,
      aws: { region: 'us-east-1', endpoint: proxy.endpoint, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', maxAttempts: 2 },
    };
    const config = await writeConfig(dir, 'service', serviceConfig({ source: kinesisSource(kin.endpoint, STREAM), sink, checkpointFile }));
    const mirror = new S3Mirror(s3.client(), BUCKET, join(dir, 'mirror'));
    const lines = [...eventLines(600, { seed: 7, ...COMPACT_EVENTS })];
    const producer = new KinesisProducer(kin.client(), STREAM);
    const synced = async () => {
      await mirror.sync();
      return mirror.dir;
    };

    service = await startService(config);
    await producer.put(lines.slice(0, 200));
    await until('the first events in the bucket', 60_000, async () => allDelivered(await synced(), producer.eventIds));
    const store = new FileCheckpointStore(checkpointFile);
    const checked: Record<FaultMode, number> = { pass: 0, '503': 0, timeout: 0 };

    /** Checkpoint first, bucket second: the bucket can only have gained objects in between. */
    const checkpointsCovered = async (mode: FaultMode, outageIds: ReadonlySet<string>) => {
      const cps = await store.list('kinesis', STREAM);
      const inBucket = await delivered(await synced());
      for (const cp of cps) {
        const covered = producer.records.filter((r) => r.shard === cp.shard && compareSeq(r.seq, cp.seq) <= 0);
        const unwritten = covered.filter((r) => !inBucket.has(r.eventId));
        expect(unwritten.map((r) => `${r.shard}@${r.seq}`), `${mode}: checkpoint ${cp.shard}@${cp.seq} covers records not in the bucket`).toEqual([]);
        expect(covered.filter((r) => outageIds.has(r.eventId)), `${mode}: checkpoint moved over records produced during the outage`).toEqual([]);
      }
      checked[mode]++;
    };

    for (const [mode, slice] of [
      ['503', lines.slice(200, 350)],
      ['timeout', lines.slice(350, 500)],
    ] as const) {
      proxy.mode = mode;
      const ids = new Set(await producer.put(slice));
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline) {
        await checkpointsCovered(mode, ids);
        await new Promise((r) => setTimeout(r, 300));
      }
      // The service really tried, and really failed, to write them.
      expect(proxy.faults[mode]).toBeGreaterThan(0);
      const during = await delivered(await synced());
      expect([...ids].filter((id) => during.has(id))).toEqual([]);
      proxy.mode = 'pass';
      await until(`recovery after ${mode}`, 90_000, async () => allDelivered(await synced(), producer.eventIds));
      await checkpointsCovered('pass', new Set());
    }

    await producer.put(lines.slice(500));
    await until('every event in the bucket', 60_000, async () => allDelivered(await synced(), producer.eventIds));
    expect(await service.drain()).toBe(0);
    service = undefined;
    await synced();
    expect(checked['503']).toBeGreaterThan(3);
    expect(checked.timeout).toBeGreaterThan(3);
    await finalCheck('S3 503 + timeouts (Kinesis, s3rver lake)', mirror.dir, producer.eventIds, `503s ${proxy.faults['503']}, timeouts ${proxy.faults.timeout}`);
  }, 300_000);
});
