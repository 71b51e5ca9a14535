import { describe, expect, it } from 'vitest';
import { SHARD_END } from '../core/ports.js';
import { LocalLeaseCoordinator } from './local-coordinator.js';
import { MemoryCheckpointStore } from './memory-store.js';

const S = 'kinesis' as const;
const STREAM = 'inventory';

describe('LocalLeaseCoordinator', () => {
  it('owns every shard without parents, with its checkpoint', async () => {
    const store = new MemoryCheckpointStore();
    await store.put({ source: S, stream: STREAM, shard: 'a', seq: '42', sub: 3 });
    const c = new LocalLeaseCoordinator(store);
    await c.syncShards(S, STREAM, [
      { shard: 'a', parents: [] },
      { shard: 'b', parents: [] },
    ]);

    const owned = await c.claim(S, STREAM);

    expect(owned).toEqual([{ shard: 'a', checkpoint: { seq: '42', sub: 3 } }, { shard: 'b' }]);
    expect(c.holds()).toBe(true);
  });

  it('holds children back until every parent still in the stream is finished', async () => {
    const c = new LocalLeaseCoordinator(new MemoryCheckpointStore());
    await c.syncShards(S, STREAM, [
      { shard: 'p1', parents: [], closed: true },
      { shard: 'p2', parents: [], closed: true },
      { shard: 'merged', parents: ['p1', 'p2'] },
    ]);
    expect((await c.claim(S, STREAM)).map((o) => o.shard)).toEqual(['p1', 'p2']);

    await c.finishShard(S, STREAM, 'p1');
    expect((await c.claim(S, STREAM)).map((o) => o.shard)).toEqual(['p2']);

    await c.finishShard(S, STREAM, 'p2');
    expect((await c.claim(S, STREAM)).map((o) => o.shard)).toEqual(['merged']);
  });

  it('treats a parent that left the stream (trimmed) as finished', async () => {
    const c = new LocalLeaseCoordinator(new MemoryCheckpointStore());
    await c.syncShards(S, STREAM, [{ shard: 'child', parents: ['expired-parent'] }]);
    expect((await c.claim(S, STREAM)).map((o) => o.shard)).toEqual(['child']);
  });

  it('writes checkpoints and SHARD_END to the store, and never returns a finished shard', async () => {
    const store = new MemoryCheckpointStore();
    const c = new LocalLeaseCoordinator(store);
    await c.syncShards(S, STREAM, [{ shard: 'a', parents: [] }]);
    await c.checkpoint({ source: S, stream: STREAM, shard: 'a', seq: '7' });
    expect((await store.get(S, STREAM, 'a'))?.seq).toBe('7');

    await c.finishShard(S, STREAM, 'a');

    expect((await store.get(S, STREAM, 'a'))?.seq).toBe(SHARD_END);
    expect(await c.claim(S, STREAM)).toEqual([]);
  });

  it('claims nothing for a stream it was never told about', async () => {
    const c = new LocalLeaseCoordinator(new MemoryCheckpointStore());
    expect(await c.claim(S, 'other')).toEqual([]);
  });
});
