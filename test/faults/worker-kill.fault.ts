import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventLines } from '../fixtures/events.js';
import { type DynamoDbLocal, startDynamoDbLocal } from '../stack/dynamodb-local.js';
import { createStream, type Kinesalite, startKinesalite } from '../stack/kinesalite.js';
import { COMPACT_EVENTS, kinesisSource, LOCAL_AWS, serviceConfig } from './harness/configs.js';
import { allDelivered, finalCheck } from './harness/lake-check.js';
import { KinesisProducer } from './harness/producers.js';
import { type Service, startService, until, writeConfig } from './harness/service.js';

/**
 * Case 5: three service processes share a 6-shard Kinesis stream through the DynamoDB lease
 * table (`checkpoints.type: dynamodb`), writing one lake; one of them is killed (SIGKILL: no
 * final checkpoint, no lease hand-back) while events keep arriving. The other two take its
 * shards once its leases expire, and every event lands (raw at least once, curated once).
 * test/multi-worker covers the lease mechanics with its own worker script; this is the same
 * story through the real CLI and configuration, ending with the shared lake check.
 */
const STREAM = 'faults-leases';
const LEASES = 'faults-leases-table';
const LEASE_MS = 4000;

let kin: Kinesalite;
let ddb: DynamoDbLocal;
let dir: string;
const workers = new Map<string, Service>();

beforeAll(async () => {
  [kin, ddb] = await Promise.all([startKinesalite(), startDynamoDbLocal()]);
  dir = await mkdtemp(join(tmpdir(), 'faults-leases-'));
  await createStream(kin.client(), STREAM, 6);
}, 120_000);
afterAll(async () => {
  await Promise.all([...workers.values()].map((w) => w.stop()));
  await Promise.all([kin?.stop(), ddb?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** shard → lease owner, read from the lease table. */
async function owners(): Promise<Map<string, string | undefined>> {
  const out = new Map<string, string | undefined>();
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await ddb
      .dynamodb()
      .send(new ScanCommand({ TableName: LEASES, ConsistentRead: true, ExclusiveStartKey: start }))
      .catch((err: unknown) => {
        if ((err as Error).name === 'ResourceNotFoundException') return { Items: [], LastEvaluatedKey: undefined };
        throw err;
      });
    for (const item of page.Items ?? []) if (item.stream?.S === STREAM && item.shard?.S) out.set(item.shard.S, item.leaseOwner?.S);
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

describe('fault: a worker of three killed', () => {
  it('its shards are taken over from their checkpoints; every event lands, once in curated', async () => {
    const lake = join(dir, 'lake');
    const configFor = (workerId: string) =>
      writeConfig(
        dir,
        workerId,
        serviceConfig({
          source: kinesisSource(kin.endpoint, STREAM, { leaseClaimIntervalMs: 400 }),
          lakeDir: lake,
          checkpoints: { type: 'dynamodb', tableName: LEASES, workerId, leaseDurationMs: LEASE_MS, aws: { ...LOCAL_AWS, endpoint: ddb.endpoint } },
        }),
      );
    const lines = [...eventLines(500, { seed: 5, ...COMPACT_EVENTS })];
    const producer = new KinesisProducer(kin.client(), STREAM);
    let producing = true;
    let n = 0;
    const background = (async () => {
      while (producing) {
        await producer.put(Array.from({ length: 30 }, () => lines[n++ % lines.length]!));
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    try {
      await Promise.all(
        ['w1', 'w2', 'w3'].map(async (id) => {
          workers.set(id, await startService(await configFor(id), { name: id }));
        }),
      );
      const settled = await until('all three workers holding leases', 90_000, async () => {
        const o = await owners();
        const holders = new Set(o.values());
        return o.size === 6 && ['w1', 'w2', 'w3'].every((w) => holders.has(w)) ? o : undefined;
      });
      const victimShards = [...settled].filter(([, w]) => w === 'w3').map(([s]) => s);
      await new Promise((r) => setTimeout(r, 1000));
      await workers.get('w3')!.crash();
      workers.delete('w3');

      await until('the victim’s shards taken over', 60_000, async () => {
        const o = await owners();
        return victimShards.every((s) => o.get(s) === 'w1' || o.get(s) === 'w2') ? true : undefined;
      });
      await new Promise((r) => setTimeout(r, 1000));
      producing = false;
      await background;
      await until('every produced event in the lake', 90_000, () => allDelivered(lake, producer.eventIds));
      for (const [id, w] of workers) expect(await w.drain(), `${id} exit code`).toBe(0);
      workers.clear();
    } finally {
      producing = false;
      await background;
    }
    await finalCheck('worker of 3 killed (Kinesis, DynamoDB leases)', lake, producer.eventIds);
  });
});
