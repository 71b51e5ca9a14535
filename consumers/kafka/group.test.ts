import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type KafkaMock, startKafkaMock } from '../../test/stack/kafka-mock.js';
import { committedOffsets, Harness, produce, range, sourceConfig, until } from './test-kit.js';

// Three brokers, so the group coordinator and partition leaders are spread as in a real cluster.
let mock: KafkaMock;
beforeAll(async () => {
  mock = await startKafkaMock({ brokers: 3 });
});
afterAll(async () => {
  await mock?.stop();
});

/**
 * Rebalances on the mock cluster are timing-dependent: on a loaded machine a rejoin can take
 * longer than the test waits. A retry runs on a fresh topic and group, with the previous
 * attempt's members stopped, so it starts from nothing.
 */
const RETRY = { retry: 2 };
let attempt = 0;
const fresh = (name: string) => `${name}-${++attempt}`;
const members: Harness[] = [];
const member = (h: Harness) => (members.push(h), h);
afterEach(async () => {
  await Promise.allSettled(members.splice(0).map((h) => h.stop()));
});

const partitionsOf = (h: Harness) => [...h.source.assignedPartitions];
const partitionOfValue = (v: string) => Number(v.split('-')[1]) % 4;
const duplicatesWithin = (values: readonly string[]) => values.length - new Set(values).size;

describe('KafkaSource consumer group on a 3-broker mock cluster', () => {
  it('two members split the partitions; after one leaves the other takes over; nothing is lost', RETRY, async () => {
    const topic = fresh('split');
    const group = fresh('g-split');
    const cfg = sourceConfig(mock.brokers, topic, group);
    await produce(mock.brokers, topic, range(200, 'a'));
    const a = member(new Harness(mock.brokers, cfg, 'commit-each-poll'));
    await a.waitFor(200);

    const b = member(new Harness(mock.brokers, cfg, 'commit-each-poll'));
    await until(() => partitionsOf(a).length === 2 && partitionsOf(b).length === 2, 'both members to hold 2 partitions');
    const moved = new Set(partitionsOf(b));
    await produce(mock.brokers, topic, range(200, 'b'));
    const all = () => new Set([...a.values(), ...b.values()]);
    await until(() => all().size === 400, 'the second 200 messages');
    expect(b.values().some((v) => v.startsWith('b-'))).toBe(true);

    await b.stop();
    await until(() => partitionsOf(a).length === 4, 'the survivor to take over all partitions');
    await produce(mock.brokers, topic, range(200, 'c'));
    await until(() => all().size === 600, 'the third 200 messages');
    await a.stop();

    expect([...all()].sort()).toEqual([...range(200, 'a'), ...range(200, 'b'), ...range(200, 'c')].sort());
    expect(await committedOffsets(mock.brokers, group, topic)).toEqual({ 0: '150', 1: '150', 2: '150', 3: '150' });
    // No member reads a message twice; a message read by both can only be one whose partition
    // changed hands before its commit got through (at least once across a rebalance).
    expect(duplicatesWithin(a.values())).toBe(0);
    expect(duplicatesWithin(b.values())).toBe(0);
    const bSet = new Set(b.values());
    for (const v of a.values().filter((x) => bSet.has(x))) expect(moved.has(partitionOfValue(v))).toBe(true);
  });

  it('flushes before its partitions are revoked, commits what stays its own after the rejoin, and loses nothing', RETRY, async () => {
    const topic = fresh('revoke');
    const group = fresh('g-revoke');
    const cfg = sourceConfig(mock.brokers, topic, group);
    await produce(mock.brokers, topic, range(200, 'a'));
    // Commits only when the source asks for a flush: the only way offsets can move here.
    const a = member(new Harness(mock.brokers, cfg, 'commit-on-flush'));
    await a.waitFor(200);
    expect(await committedOffsets(mock.brokers, group, topic)).toEqual({ 0: '-1', 1: '-1', 2: '-1', 3: '-1' });

    // A closed gate keeps a batch waiting inside eachBatch, heartbeating: that heartbeat is what
    // reveals the rebalance when the second member joins.
    a.gate.set(false);
    await produce(mock.brokers, topic, range(8, 'b'));
    await until(() => a.source.health().detail?.includes('paused (backpressure)') === true, 'the first member to wait at the gate');

    const b = member(new Harness(mock.brokers, cfg, 'commit-each-poll'));
    await until(() => partitionsOf(a).length === 2 && partitionsOf(b).length === 2, 'both members to hold 2 partitions');
    expect([...(a.flushCalls[0] ?? [])].sort()).toEqual([0, 1, 2, 3].map((p) => `kafka|${topic}|${p}`));
    // The mock cluster (unlike a Kafka broker, which accepts commits of the current generation
    // until the rejoin completes) refuses commits once the group is rejoining, so the flush's
    // commits wait for the new assignment and go out for the partitions that stayed.
    const kept = partitionsOf(a);
    await until(() => a.log.count('commit met a rebalance') > 0 || a.log.count('kafka partitions assigned') > 1, 'the rejoin');
    const expected = (offsets: Record<number, string>) => kept.every((p) => offsets[p] === '50');
    let offsets = await committedOffsets(mock.brokers, group, topic);
    for (let i = 0; i < 50 && !expected(offsets); i++) {
      await new Promise((r) => setTimeout(r, 100));
      offsets = await committedOffsets(mock.brokers, group, topic);
    }
    for (const p of kept) expect(offsets[p]).toBe('50');

    a.gate.set(true);
    await until(() => new Set([...a.values(), ...b.values()]).size === 208, 'the 8 messages produced during the rebalance');
    await b.stop();
    await a.stop();

    expect(new Set([...a.values(), ...b.values()]).size).toBe(208);
    expect(duplicatesWithin(a.values())).toBe(0);
    // What the new member read again comes only from the partitions it took over.
    for (const v of b.values().filter((x) => x.startsWith('a-'))) expect(kept.includes(partitionOfValue(v))).toBe(false);
    expect(await committedOffsets(mock.brokers, group, topic)).toEqual({ 0: '52', 1: '52', 2: '52', 3: '52' });
  });
});
