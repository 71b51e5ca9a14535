import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KafkaMock, startKafkaMock } from '../../test/stack/kafka-mock.js';
import { committedOffsets, Harness, produce, range, sourceConfig, until } from './test-kit.js';

let mock: KafkaMock;
beforeAll(async () => {
  mock = await startKafkaMock({ brokers: 1 });
});
afterAll(async () => {
  await mock?.stop();
});

describe('KafkaSource on the mock cluster', () => {
  it('consumes every message of 4 partitions exactly once and commits the next offsets', async () => {
    const values = range(400);
    await produce(mock.brokers, 'exact', values);

    const h = new Harness(mock.brokers, sourceConfig(mock.brokers, 'exact', 'g-exact'), 'commit-each-poll');
    await h.waitFor(400);
    await h.stop();

    expect(h.values().sort()).toEqual([...values].sort());
    expect(new Set(h.envelopes.map((e) => e.position.shard))).toEqual(new Set(['0', '1', '2', '3']));
    const first = h.envelopes.find((e) => e.position.shard === '2' && e.position.seq === '0')!;
    expect(first.position).toEqual({ source: 'kafka', stream: 'exact', shard: '2', seq: '0' });
    expect(first.payload).toEqual({ kind: 'bytes', data: Buffer.from('m-2') });
    expect(first.size).toBe(3);
    expect(first.arrivedAt).toEqual(expect.any(Number));
    expect(await committedOffsets(mock.brokers, 'g-exact', 'exact')).toEqual({ 0: '100', 1: '100', 2: '100', 3: '100' });
    expect(h.completed).toBe(true);
  });

  it('commits nothing on its own: a consumer stopped without commits leaves the group offsets where they were', async () => {
    const first = range(200, 'a');
    const second = range(100, 'b');
    await produce(mock.brokers, 'nocommit', first);
    const a = new Harness(mock.brokers, sourceConfig(mock.brokers, 'nocommit', 'g-nocommit'), 'commit-each-poll');
    await a.waitFor(200);
    await a.stop();
    expect(await committedOffsets(mock.brokers, 'g-nocommit', 'nocommit')).toEqual({ 0: '50', 1: '50', 2: '50', 3: '50' });

    // This one reads the next 100 but never delivers them (a pipeline that dies before writing).
    await produce(mock.brokers, 'nocommit', second);
    const b = new Harness(mock.brokers, sourceConfig(mock.brokers, 'nocommit', 'g-nocommit'), 'never');
    await b.waitFor(100);
    await b.stop();
    expect(b.values().sort()).toEqual([...second].sort());
    expect(await committedOffsets(mock.brokers, 'g-nocommit', 'nocommit')).toEqual({ 0: '50', 1: '50', 2: '50', 3: '50' });

    // A new member of the group reads them again: nothing lost.
    const c = new Harness(mock.brokers, sourceConfig(mock.brokers, 'nocommit', 'g-nocommit'), 'commit-each-poll');
    await c.waitFor(100);
    await c.stop();
    expect(c.values().sort()).toEqual([...second].sort());
    expect(await committedOffsets(mock.brokers, 'g-nocommit', 'nocommit')).toEqual({ 0: '75', 1: '75', 2: '75', 3: '75' });
  });

  it('stop() flushes the pipeline and commits what was handed on before leaving the group', async () => {
    await produce(mock.brokers, 'graceful', range(100));
    const h = new Harness(mock.brokers, sourceConfig(mock.brokers, 'graceful', 'g-graceful'), 'commit-on-flush');
    await h.waitFor(100);
    expect(await committedOffsets(mock.brokers, 'g-graceful', 'graceful')).toEqual({ 0: '-1', 1: '-1', 2: '-1', 3: '-1' });
    await h.stop();
    expect(h.flushCalls).toEqual([undefined]);
    expect(await committedOffsets(mock.brokers, 'g-graceful', 'graceful')).toEqual({ 0: '25', 1: '25', 2: '25', 3: '25' });
    await expect(h.source.commit({ source: 'kafka', stream: 'graceful', shard: '0', seq: '30' })).resolves.toBeUndefined();
    expect(await committedOffsets(mock.brokers, 'g-graceful', 'graceful')).toEqual({ 0: '25', 1: '25', 2: '25', 3: '25' });
  });

  it('turns a tombstone (null value) into an envelope with an empty payload, so it reaches the DLQ', async () => {
    await produce(mock.brokers, 'tombstone', [null, 'x'], 1);
    const h = new Harness(mock.brokers, sourceConfig(mock.brokers, 'tombstone', 'g-tombstone'), 'commit-each-poll');
    await h.waitFor(2);
    await h.stop();
    const [t, x] = h.envelopes;
    expect(t!.position).toEqual({ source: 'kafka', stream: 'tombstone', shard: '0', seq: '0' });
    expect(t!.payload).toEqual({ kind: 'bytes', data: Buffer.alloc(0) });
    expect(t!.size).toBe(0);
    expect(x!.position.seq).toBe('1');
  });

  it('pauses under a closed gate, heartbeats through a wait longer than the session timeout, and resumes', async () => {
    const values = range(40);
    const cfg = sourceConfig(mock.brokers, 'gate', 'g-gate', { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500 });
    const h = new Harness(mock.brokers, cfg, 'commit-each-poll');
    h.gate.set(false);
    await produce(mock.brokers, 'gate', values);

    await until(() => h.source.health().detail?.includes('paused (backpressure)') === true, 'the source to pause');
    await new Promise((r) => setTimeout(r, 7500));
    expect(h.envelopes).toHaveLength(0);
    expect(h.source.health().detail).toContain('paused (backpressure)');

    h.gate.set(true);
    await h.waitFor(40);
    await h.stop();
    expect(h.values().sort()).toEqual([...values].sort());
    // One join only: the member never lost its session while it waited.
    expect(h.log.count('kafka partitions assigned')).toBe(1);
    expect(await committedOffsets(mock.brokers, 'g-gate', 'gate')).toEqual({ 0: '10', 1: '10', 2: '10', 3: '10' });
  });

  it('refuses to commit a position it never emitted', async () => {
    const h = new Harness(mock.brokers, sourceConfig(mock.brokers, 'refuse', 'g-refuse'), 'never');
    await expect(h.source.commit({ source: 'kinesis', stream: 'refuse', shard: '0', seq: '1' })).rejects.toThrow(/never emitted/);
    await expect(h.source.commit({ source: 'kafka', stream: 'other', shard: '0', seq: '1' })).rejects.toThrow(/never emitted/);
    await expect(h.source.commit({ source: 'kafka', stream: 'refuse', shard: 'x', seq: '1' })).rejects.toThrow(/never emitted/);
    await h.stop();
  });
});
