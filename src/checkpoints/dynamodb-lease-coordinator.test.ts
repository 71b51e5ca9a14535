import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntegratorError } from '../core/errors.js';
import { SHARD_END } from '../core/ports.js';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../test/stack/dynamodb-local.js';
import { DynamoDbCheckpointStore } from './dynamodb-checkpoint-store.js';
import { DynamoDbLeaseCoordinator } from './dynamodb-lease-coordinator.js';
import { scanLeases } from './lease-table.js';

const SRC = 'kinesis' as const;
const LEASE_MS = 10_000;
const SIX = ['s0', 's1', 's2', 's3', 's4', 's5'].map((shard) => ({ shard, parents: [] as string[] }));

describe('DynamoDbLeaseCoordinator on DynamoDB Local', () => {
  let local: DynamoDbLocal;
  let tableNo = 0;
  let clock = 1_000_000;
  const now = () => clock;

  beforeAll(async () => {
    local = await startDynamoDbLocal();
  });
  afterAll(async () => {
    await local?.stop();
  });

  /** A fresh table per test so that tests never see each other's leases. */
  function workers(n: number, table = `leases-${++tableNo}`) {
    const client = local.dynamodb();
    const make = (i: number) =>
      new DynamoDbLeaseCoordinator({ client, tableName: table, workerId: `w${i}`, leaseDurationMs: LEASE_MS, renewIntervalMs: 0, now, random: () => 0.5 });
    return { table, client, ws: Array.from({ length: n }, (_, i) => make(i + 1)), make };
  }

  async function rounds(ws: DynamoDbLeaseCoordinator[], stream: string, count: number) {
    for (let r = 0; r < count; r++) for (const w of ws) await w.claim(SRC, stream);
  }

  it('three workers on six shards settle 2/2/2 with every shard held exactly once', async () => {
    const { ws } = workers(3);
    for (const w of ws) await w.syncShards(SRC, 'six', SIX);

    await rounds(ws, 'six', 6);

    const held = ws.map((w) => w.heldShards(SRC, 'six'));
    expect(held.map((h) => h.length)).toEqual([2, 2, 2]);
    expect(held.flat().sort()).toEqual(SIX.map((s) => s.shard));
    for (const [i, w] of ws.entries()) for (const s of held[i]!) expect(w.holds(SRC, 'six', s)).toBe(true);
  });

  it('takes a stopped worker’s leases only after they expire', async () => {
    const { ws } = workers(3);
    for (const w of ws) await w.syncShards(SRC, 'six', SIX);
    await rounds(ws, 'six', 6);
    const [a, b, dead] = ws as [DynamoDbLeaseCoordinator, DynamoDbLeaseCoordinator, DynamoDbLeaseCoordinator];
    const orphaned = dead.heldShards(SRC, 'six');
    dead.stop();

    await rounds([a, b], 'six', 1);
    clock += LEASE_MS - 1;
    await rounds([a, b], 'six', 2);
    expect([...a.heldShards(SRC, 'six'), ...b.heldShards(SRC, 'six')]).not.toContain(orphaned[0]);

    clock += 2;
    await rounds([a, b], 'six', 2);

    expect([a.heldShards(SRC, 'six').length, b.heldShards(SRC, 'six').length]).toEqual([3, 3]);
    expect([...a.heldShards(SRC, 'six'), ...b.heldShards(SRC, 'six')].sort()).toEqual(SIX.map((s) => s.shard));
    expect(dead.holds(SRC, 'six', orphaned[0]!)).toBe(false); // its own clock says the lease ran out
  });

  it('never takes a lease whose owner keeps renewing, however long', async () => {
    const { ws } = workers(2);
    const [a, b] = ws as [DynamoDbLeaseCoordinator, DynamoDbLeaseCoordinator];
    await a.syncShards(SRC, 'one', [{ shard: 'x', parents: [] }]);
    await a.claim(SRC, 'one');
    await b.claim(SRC, 'one');

    for (let i = 0; i < 4; i++) {
      clock += LEASE_MS / 2;
      await a.renew();
      await b.claim(SRC, 'one');
    }

    expect(a.heldShards(SRC, 'one')).toEqual(['x']);
    expect(b.heldShards(SRC, 'one')).toEqual([]);
  });

  it('rejects a checkpoint from a worker that no longer owns the shard (LEASE_LOST), and keeps the owner’s', async () => {
    const { ws, client, table } = workers(2);
    const [a, b] = ws as [DynamoDbLeaseCoordinator, DynamoDbLeaseCoordinator];
    await a.syncShards(SRC, 'one', [{ shard: 'x', parents: [] }]);
    await a.claim(SRC, 'one');
    await a.checkpoint({ source: SRC, stream: 'one', shard: 'x', seq: '10' });
    await b.claim(SRC, 'one');
    clock += LEASE_MS; // a stops renewing (a long GC pause, say); b takes over
    expect((await b.claim(SRC, 'one')).map((o) => o.shard)).toEqual(['x']);
    await b.checkpoint({ source: SRC, stream: 'one', shard: 'x', seq: '20' });

    const err = await a.checkpoint({ source: SRC, stream: 'one', shard: 'x', seq: '15' }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(IntegratorError);
    expect((err as IntegratorError).code).toBe('LEASE_LOST');
    expect(a.holds(SRC, 'one', 'x')).toBe(false);
    const [lease] = await scanLeases(client, table, SRC, 'one');
    expect(lease).toMatchObject({ owner: 'w2', checkpoint: '20' });
    // a worker that never held the shard is refused too
    await expect(a.checkpoint({ source: SRC, stream: 'one', shard: 'x', seq: '99' })).rejects.toMatchObject({ code: 'LEASE_LOST' });
  });

  it('releaseAll hands leases back after the final checkpoint; another worker resumes from it at once', async () => {
    const { ws, client, table } = workers(2);
    const [a, b] = ws as [DynamoDbLeaseCoordinator, DynamoDbLeaseCoordinator];
    await a.syncShards(SRC, 'two', [
      { shard: 'x', parents: [] },
      { shard: 'y', parents: [] },
    ]);
    await a.claim(SRC, 'two');
    await b.claim(SRC, 'two'); // b steals one: 1/1
    const [mine] = a.heldShards(SRC, 'two') as [string];
    await a.checkpoint({ source: SRC, stream: 'two', shard: mine, seq: '42', sub: 3 });

    await a.releaseAll();

    const leases = await scanLeases(client, table, SRC, 'two');
    expect(leases.find((l) => l.shard === mine)?.owner).toBeUndefined();
    expect(a.heldShards(SRC, 'two')).toEqual([]);
    const owned = await b.claim(SRC, 'two'); // no expiry wait: released leases are free
    expect(owned.find((o) => o.shard === mine)).toEqual({ shard: mine, checkpoint: { seq: '42', sub: 3 } });
    expect(owned.map((o) => o.shard).sort()).toEqual(['x', 'y']);
  });

  it('leases a child only after every parent is finished, and never a finished shard again', async () => {
    const { ws } = workers(1);
    const w = ws[0]!;
    const shards = [
      { shard: 'p1', parents: [], closed: true },
      { shard: 'p2', parents: [], closed: true },
      { shard: 'merged', parents: ['p1', 'p2'] },
      { shard: 'orphan', parents: ['trimmed-away'] },
    ];
    await w.syncShards(SRC, 'tree', shards);
    expect((await w.claim(SRC, 'tree')).map((o) => o.shard).sort()).toEqual(['orphan', 'p1', 'p2']);
    expect(w.holds(SRC, 'tree', 'merged')).toBe(false);

    await w.finishShard(SRC, 'tree', 'p1');
    expect((await w.claim(SRC, 'tree')).map((o) => o.shard).sort()).toEqual(['orphan', 'p2']);

    await w.finishShard(SRC, 'tree', 'p2');
    await w.finishShard(SRC, 'tree', 'p2'); // idempotent
    await w.syncShards(SRC, 'tree', shards);
    expect((await w.claim(SRC, 'tree')).map((o) => o.shard).sort()).toEqual(['merged', 'orphan']);
  });

  it('re-adopts its own leases at once after a restart under the same worker id', async () => {
    const { ws, make } = workers(1);
    await ws[0]!.syncShards(SRC, 'one', [{ shard: 'x', parents: [] }]);
    await ws[0]!.claim(SRC, 'one');
    await ws[0]!.checkpoint({ source: SRC, stream: 'one', shard: 'x', seq: '5' });
    ws[0]!.stop(); // crash

    const again = make(1);
    await again.syncShards(SRC, 'one', [{ shard: 'x', parents: [] }]);

    expect(await again.claim(SRC, 'one')).toEqual([{ shard: 'x', checkpoint: { seq: '5' } }]);
  });

  it('refuses to start on a missing table when creation is off, naming the table', async () => {
    const c = new DynamoDbLeaseCoordinator({ client: local.dynamodb(), tableName: 'no-such-table', workerId: 'w', leaseDurationMs: LEASE_MS, createTable: false, renewIntervalMs: 0 });
    await expect(c.claim(SRC, 's')).rejects.toThrow(/no-such-table does not exist/);
  });

  it('DynamoDbCheckpointStore reads, sets and deletes checkpoints on the same table without touching leases', async () => {
    const { ws, client, table } = workers(1);
    await ws[0]!.syncShards(SRC, 'cli', [{ shard: 'x', parents: [] }]);
    await ws[0]!.claim(SRC, 'cli');
    await ws[0]!.checkpoint({ source: SRC, stream: 'cli', shard: 'x', seq: '7' });
    const store = new DynamoDbCheckpointStore({ client, tableName: table, now });

    expect(await store.get(SRC, 'cli', 'x')).toMatchObject({ seq: '7' });
    await store.put({ source: SRC, stream: 'cli', shard: 'x', seq: '3', sub: 1 });
    await store.put({ source: 'dynamodb', stream: 'other', shard: 'z', seq: SHARD_END });

    expect(await store.get(SRC, 'cli', 'x')).toEqual({ source: SRC, stream: 'cli', shard: 'x', seq: '3', sub: 1, updatedAt: clock });
    expect((await store.list()).map((c) => c.shard).sort()).toEqual(['x', 'z']);
    expect((await store.list('dynamodb')).map((c) => c.shard)).toEqual(['z']);
    expect((await scanLeases(client, table, SRC, 'cli'))[0]?.owner).toBe('w1');

    await store.delete(SRC, 'cli', 'x');
    expect(await store.get(SRC, 'cli', 'x')).toBeUndefined();
  });
});
