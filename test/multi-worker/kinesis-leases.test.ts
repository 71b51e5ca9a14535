import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventLines } from '../fixtures/events.js';
import { type DynamoDbLocal, startDynamoDbLocal } from '../stack/dynamodb-local.js';
import { type Kinesalite, createStream, startKinesalite } from '../stack/kinesalite.js';
import type { Started } from '../stack/process.js';
import { Producer, lakeEventIds } from './lake.js';
import { kill, startKinesisWorker, until } from './spawn.js';

/**
 * Three worker processes share a 6-shard stream through DynamoDB leases: they settle 2/2/2, one
 * is killed (SIGKILL: no final checkpoint, no lease hand-back), the other two take its shards
 * within twice the lease duration, and every event produced before, during and after is in the lake.
 */
// Short enough to keep the test quick; long enough that "within two lease durations" still holds
// when the machine is heavily loaded (the takeover itself costs a lease duration plus a few
// claim cycles, and those stretch under CPU contention).
const LEASE_MS = 5000;
const STREAM = 'inventory-mw';
const TABLE = 'leases-mw';

let kin: Kinesalite;
let ddb: DynamoDbLocal;
let dynamodb: DynamoDBClient;
let lake: string;
const workers = new Map<string, Started>();

beforeAll(async () => {
  [kin, ddb] = await Promise.all([startKinesalite(), startDynamoDbLocal()]);
  dynamodb = ddb.dynamodb();
  lake = await mkdtemp(join(tmpdir(), 'mw-lake-'));
  await createStream(kin.client(), STREAM, 6);
}, 90_000);

afterAll(async () => {
  await Promise.all([...workers.values()].map((w) => w.stop()));
  await Promise.all([kin?.stop(), ddb?.stop()]);
  if (lake) await rm(lake, { recursive: true, force: true });
});

async function startWorker(workerId: string): Promise<Started> {
  const w = await startKinesisWorker({
    workerId,
    kinesisEndpoint: kin.endpoint,
    stream: STREAM,
    leases: { dynamoDbEndpoint: ddb.endpoint, table: TABLE, leaseDurationMs: LEASE_MS },
    lakeDir: lake,
    // Short polls keep each worker's event loop turns short, so lease work is not held up.
    maxRecordsPerCall: 1000,
  });
  workers.set(workerId, w);
  return w;
}

/** shard → owner, from the lease table itself. */
async function owners(): Promise<Map<string, string | undefined>> {
  const out = new Map<string, string | undefined>();
  let start: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue> | undefined;
  do {
    const page = await dynamodb.send(new ScanCommand({ TableName: TABLE, ConsistentRead: true, ExclusiveStartKey: start })).catch((err: unknown) => {
      // The workers create the table at their first shard sync.
      if ((err as Error).name === 'ResourceNotFoundException') return { Items: [], LastEvaluatedKey: undefined };
      throw err;
    });
    for (const item of page.Items ?? []) if (item.stream?.S === STREAM && item.shard?.S) out.set(item.shard.S, item.leaseOwner?.S);
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

const countBy = (m: Map<string, string | undefined>) => {
  const c = new Map<string, number>();
  for (const o of m.values()) if (o) c.set(o, (c.get(o) ?? 0) + 1);
  return c;
};

describe('three Kinesis workers sharing shards through DynamoDB leases', () => {
  it('settle 2/2/2, take over a killed worker’s shards within two lease durations, lose nothing', async () => {
    const lines = [...eventLines(2000)];
    const producer = new Producer(kin.client(), STREAM, (i) => lines[i % lines.length]!);
    let producing = true;
    const background = (async () => {
      while (producing) {
        await producer.put(60);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    try {
      await Promise.all(['w1', 'w2', 'w3'].map(startWorker));
      const settled = await until('a 2/2/2 split', 60_000, async () => {
        const o = await owners();
        const c = countBy(o);
        return o.size === 6 && c.size === 3 && [...c.values()].every((n) => n === 2) ? o : undefined;
      });
      const victimShards = [...settled].filter(([, w]) => w === 'w3').map(([s]) => s);
      expect(victimShards).toHaveLength(2);

      // Let the victim read and write for a moment, then crash it.
      await new Promise((r) => setTimeout(r, 1000));
      kill(workers.get('w3')!);
      const killedAt = Date.now();
      workers.delete('w3');

      const takenOver = await until('the victim’s shards to be taken over', 30_000, async () => {
        const o = await owners();
        return victimShards.every((s) => o.get(s) === 'w1' || o.get(s) === 'w2') ? o : undefined;
      });
      const takeoverMs = Date.now() - killedAt;
      expect(takeoverMs).toBeLessThanOrEqual(2 * LEASE_MS);
      expect([...countBy(takenOver).values()].sort()).toEqual([3, 3]);

      await new Promise((r) => setTimeout(r, 1000));
      producing = false;
      await background;
      const produced = producer.eventIds;
      expect(produced.length).toBeGreaterThan(500);

      const inLake = await until('every produced event in the lake', 60_000, async () => {
        const ids = await lakeEventIds(lake);
        return produced.every((id) => ids.has(id)) ? ids : undefined;
      });
      // Nothing in the lake that was not produced; re-reads after the crash may repeat some (at least once).
      const producedSet = new Set(produced);
      expect([...inLake.keys()].filter((id) => !producedSet.has(id))).toEqual([]);
      console.info(`takeover after ${takeoverMs} ms (lease ${LEASE_MS} ms); ${produced.length} events, ${[...inLake.values()].filter((n) => n > 1).length} repeated in the raw layer`);
    } finally {
      producing = false;
      await background;
    }
  }, 180_000);
});
