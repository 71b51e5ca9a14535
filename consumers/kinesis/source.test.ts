import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalLeaseCoordinator } from '../../src/checkpoints/local-coordinator.js';
import { MemoryCheckpointStore } from '../../src/checkpoints/memory-store.js';
import { IntegratorError } from '../../src/core/errors.js';
import { SILENT_LOGGER } from '../../src/core/logger.js';
import { METRIC, MemoryMetrics } from '../../src/core/metrics.js';
import { type LeaseCoordinator, SHARD_END } from '../../src/core/ports.js';
import { type Kinesalite, createStream, startKinesalite } from '../../test/stack/kinesalite.js';
import { KinesisSourceConfig } from './config.js';
import { awsError } from './errors.js';
import { KinesisSource } from './source.js';
import { Drain, merge, openShards, putAll, splitInHalf } from './test-support.js';

const require = createRequire(import.meta.url);
const { RecordAggregator } = require('aws-kinesis-agg') as {
  RecordAggregator: new () => { addUserRecord(r: { partitionKey: string; data: Buffer }): void; build(): { data: Buffer } };
};

let kin: Kinesalite;
let client: KinesisClient;
let streams = 0;

beforeAll(async () => {
  kin = await startKinesalite();
  client = kin.client();
});
afterAll(async () => {
  await kin?.stop();
});

async function newStream(shards: number): Promise<string> {
  const name = `s${++streams}-${process.pid}`;
  await createStream(client, name, shards);
  return name;
}

function source(stream: string, coordinator: LeaseCoordinator, over: Partial<KinesisSourceConfig> = {}, send?: Pick<KinesisClient, 'send'>, metrics = new MemoryMetrics()) {
  const config = KinesisSourceConfig.parse({ type: 'kinesis', streamName: stream, shardSyncIntervalMs: 1000, leaseClaimIntervalMs: 200, idleTimeBetweenReadsMs: 200, ...over });
  return new KinesisSource({ client: send ?? client, coordinator, config, log: SILENT_LOGGER, metrics });
}

const events = (n: number, keys: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({ pk: `k${(from + i) % keys}`, data: JSON.stringify({ id: from + i }) }));
const ids = (d: Drain) => d.texts().map((t) => (JSON.parse(t) as { id: number }).id);
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

describe('KinesisSource on kinesalite', () => {
  it('reads every record of a 4-shard stream exactly once, with positions, arrival time, size and lag', async () => {
    const stream = await newStream(4);
    await putAll(client, stream, events(2000, 97));
    const metrics = new MemoryMetrics();
    const src = source(stream, new LocalLeaseCoordinator(new MemoryCheckpointStore()), {}, undefined, metrics);
    const drain = new Drain(src).start();
    await drain.until(() => drain.received.length >= 2000, '2000 records');
    await drain.stop();
    expect(sorted(ids(drain))).toEqual(range(2000));
    expect(new Set(drain.received.map((e) => e.position.shard)).size).toBe(4);
    const e = drain.received[0]!;
    expect(e.position).toMatchObject({ source: 'kinesis', stream });
    expect(e.position.seq).toMatch(/^\d+$/);
    expect(e.position.sub).toBeUndefined();
    expect(e.size).toBe(e.payload.kind === 'bytes' ? e.payload.data.length : -1);
    expect(e.arrivedAt).toBeGreaterThan(Date.now() - 600_000);
    expect([...metrics.gauges.keys()].filter((k) => k.startsWith(METRIC.iteratorAgeMs))).toHaveLength(4);
    expect(drain.completed).toBe(true);
    expect(src.health().connected).toBe(true);
  });

  it('after a kill resumes from the checkpoint: nothing lost, nothing before it read again', async () => {
    const stream = await newStream(4);
    await putAll(client, stream, events(1200, 31));
    const store = new MemoryCheckpointStore();
    // First run: only the first half of what arrives is committed, then the process "dies".
    const first = new Drain(source(stream, new LocalLeaseCoordinator(store)), { commit: (_, i) => i < 600 }).start();
    await first.until(() => first.received.length >= 1200, 'first run');
    await first.stop();
    const checkpoints = await store.list('kinesis', stream);
    expect(checkpoints.length).toBeGreaterThan(0);

    await putAll(client, stream, events(300, 31, 1200));
    const expected = 1500 - countCommitted(first, checkpoints);
    const second = new Drain(source(stream, new LocalLeaseCoordinator(store))).start();
    await second.until(() => second.received.length >= expected, 'second run');
    await new Promise((r) => setTimeout(r, 500)); // anything extra would show up now
    await second.stop();

    // Everything is seen; the second run re-reads exactly what was not checkpointed.
    expect(new Set([...ids(first), ...ids(second)]).size).toBe(1500);
    for (const cp of checkpoints) {
      const resumed = second.received.filter((e) => e.position.shard === cp.shard);
      expect(resumed.every((e) => BigInt(e.position.seq) > BigInt(cp.seq))).toBe(true);
    }
    expect(second.received.length).toBe(expected);
  });

  it('keeps per-key order and loses nothing across a split and a merge in the middle of a run', async () => {
    const stream = await newStream(2);
    const keys = 40;
    const counters = new Map<string, number>();
    const batch = (n: number) =>
      Array.from({ length: n }, () => {
        const k = `key-${Math.floor(Math.random() * keys)}`;
        const c = (counters.get(k) ?? 0) + 1;
        counters.set(k, c);
        return { pk: k, data: JSON.stringify({ k, c }) };
      });
    const drain = new Drain(source(stream, new LocalLeaseCoordinator(new MemoryCheckpointStore()), { maxRecordsPerCall: 50 })).start();
    await putAll(client, stream, batch(400));
    await drain.until(() => drain.received.length >= 100, 'some records');
    await splitInHalf(client, stream, 'shardId-000000000000'); // -> 2 and 3
    await putAll(client, stream, batch(400));
    await merge(client, stream, 'shardId-000000000003', 'shardId-000000000001'); // -> 4
    await putAll(client, stream, batch(400));
    expect(await openShards(client, stream)).toEqual(['shardId-000000000002', 'shardId-000000000004']);
    await drain.until(() => drain.received.length >= 1200, 'all records');
    await new Promise((r) => setTimeout(r, 300));
    await drain.stop();

    const seen = new Map<string, number>();
    for (const t of drain.texts()) {
      const { k, c } = JSON.parse(t) as { k: string; c: number };
      expect(c, `key ${k}`).toBe((seen.get(k) ?? 0) + 1); // in order, no gap, no repeat
      seen.set(k, c);
    }
    expect(seen).toEqual(counters);
    expect(new Set(drain.received.map((e) => e.position.shard))).toEqual(
      new Set(['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002', 'shardId-000000000003', 'shardId-000000000004']),
    );
  });

  it('marks a closed shard finished in the checkpoint store once its last record is committed', async () => {
    const stream = await newStream(1);
    await putAll(client, stream, events(50, 5));
    await splitInHalf(client, stream, 'shardId-000000000000');
    await putAll(client, stream, events(50, 5, 50));
    const store = new MemoryCheckpointStore();
    const drain = new Drain(source(stream, new LocalLeaseCoordinator(store))).start();
    await drain.until(() => drain.received.length >= 100, 'all');
    let parent: string | undefined;
    for (let i = 0; i < 100 && parent !== SHARD_END; i++) {
      parent = (await store.get('kinesis', stream, 'shardId-000000000000'))?.seq;
      await new Promise((r) => setTimeout(r, 50));
    }
    await drain.stop();
    expect(parent).toBe(SHARD_END);
    expect(sorted(ids(drain))).toEqual(range(100));
  });

  it('starts AT_TIMESTAMP: only records that arrived at or after it', async () => {
    const stream = await newStream(2);
    await putAll(client, stream, events(100, 7));
    await new Promise((r) => setTimeout(r, 1100));
    const t = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 50));
    await putAll(client, stream, events(100, 7, 100));
    const drain = new Drain(source(stream, new LocalLeaseCoordinator(new MemoryCheckpointStore()), { startAt: 'AT_TIMESTAMP', startTimestamp: t })).start();
    await drain.until(() => drain.received.length >= 100, 'records after the timestamp');
    await new Promise((r) => setTimeout(r, 400));
    await drain.stop();
    expect(sorted(ids(drain))).toEqual(range(100, 100));
  });

  it('de-aggregates KPL records (sub = index), passes a corrupt aggregate on whole, resumes inside an aggregate', async () => {
    const stream = await newStream(1);
    const agg = new RecordAggregator();
    for (let i = 0; i < 10; i++) agg.addUserRecord({ partitionKey: `p${i % 3}`, data: Buffer.from(JSON.stringify({ id: 100 + i })) });
    const aggregate = agg.build().data;
    const corrupt = Buffer.concat([aggregate.subarray(0, 20), Buffer.from('garbage'), aggregate.subarray(aggregate.length - 16)]);
    await putAll(client, stream, [
      { pk: 'a', data: JSON.stringify({ id: 1 }) },
      { pk: 'a', data: aggregate },
      { pk: 'a', data: corrupt },
      { pk: 'a', data: JSON.stringify({ id: 2 }) },
    ]);
    const store = new MemoryCheckpointStore();
    // Commit only up to sub-record 4 of the aggregate, then "die".
    const first = new Drain(source(stream, new LocalLeaseCoordinator(store)), { commit: () => false }).start();
    await first.until(() => first.received.length >= 13, 'all records');
    await first.stop();
    const subs = first.received.filter((e) => e.position.sub !== undefined);
    expect(subs.map((e) => e.position.sub)).toEqual(range(10));
    expect(new Set(subs.map((e) => e.position.seq)).size).toBe(1);
    expect(subs.map((e) => (JSON.parse(e.payload.kind === 'bytes' ? e.payload.data.toString() : '') as { id: number }).id)).toEqual(range(10, 100));
    const raw = first.received[11]!;
    expect(raw.position.sub).toBeUndefined();
    expect(raw.payload.kind === 'bytes' && raw.payload.data.equals(corrupt)).toBe(true);
    expect(first.received[12]!.payload.kind === 'bytes' && first.received[12]!.payload.data.toString()).toBe('{"id":2}');

    const coordinator = new LocalLeaseCoordinator(store);
    await coordinator.checkpoint(subs[4]!.position);
    const second = new Drain(source(stream, coordinator)).start();
    await second.until(() => second.received.length >= 7, 'the rest');
    await new Promise((r) => setTimeout(r, 400));
    await second.stop();
    expect(second.received.map((e) => e.position.sub)).toEqual([5, 6, 7, 8, 9, undefined, undefined]);
  });

  it('gets a new iterator after the last record read when the iterator expires', async () => {
    const stream = await newStream(1);
    await putAll(client, stream, events(300, 3));
    const iteratorCalls: unknown[] = [];
    let getRecords = 0;
    const faulty: Pick<KinesisClient, 'send'> = {
      send: (async (cmd: unknown, opts?: unknown) => {
        if (cmd instanceof GetShardIteratorCommand) iteratorCalls.push({ type: cmd.input.ShardIteratorType, seq: cmd.input.StartingSequenceNumber });
        if (cmd instanceof GetRecordsCommand && ++getRecords === 3) throw awsError('ExpiredIteratorException', 'Iterator expired');
        return client.send(cmd as never, opts as never);
      }) as KinesisClient['send'],
    };
    const drain = new Drain(source(stream, new LocalLeaseCoordinator(new MemoryCheckpointStore()), { maxRecordsPerCall: 100 }, faulty)).start();
    await drain.until(() => drain.received.length >= 300, 'all records');
    await new Promise((r) => setTimeout(r, 400));
    await drain.stop();
    expect(sorted(ids(drain))).toEqual(range(300));
    expect(drain.received).toHaveLength(300);
    expect(iteratorCalls).toEqual([
      { type: 'TRIM_HORIZON', seq: undefined },
      { type: 'AFTER_SEQUENCE_NUMBER', seq: drain.received[199]!.position.seq },
    ]);
  });

  it('backs off on throttling and still reads everything once', async () => {
    const stream = await newStream(1);
    await putAll(client, stream, events(50, 3));
    let throttled = 0;
    const faulty: Pick<KinesisClient, 'send'> = {
      send: (async (cmd: unknown, opts?: unknown) => {
        if (cmd instanceof GetRecordsCommand && throttled < 2) {
          throttled++;
          throw awsError('ProvisionedThroughputExceededException');
        }
        return client.send(cmd as never, opts as never);
      }) as KinesisClient['send'],
    };
    const drain = new Drain(source(stream, new LocalLeaseCoordinator(new MemoryCheckpointStore()), {}, faulty)).start();
    await drain.until(() => drain.received.length >= 50, 'all records');
    await drain.stop();
    expect(throttled).toBe(2);
    expect(sorted(ids(drain))).toEqual(range(50));
  });

  it('stops reading a shard whose lease is lost on commit', async () => {
    const stream = await newStream(1);
    await putAll(client, stream, events(20, 3));
    const inner = new LocalLeaseCoordinator(new MemoryCheckpointStore());
    let held = true;
    const coordinator: LeaseCoordinator = {
      syncShards: (...a) => inner.syncShards(...a),
      claim: async (...a) => (held ? inner.claim(...a) : []),
      checkpoint: async () => {
        held = false;
        throw new IntegratorError('LEASE_LOST', 'another worker holds it');
      },
      finishShard: (...a) => inner.finishShard(...a),
      holds: () => held,
      releaseAll: () => inner.releaseAll(),
    };
    const src = source(stream, coordinator);
    const drain = new Drain(src).start();
    await drain.until(() => drain.received.length >= 20, 'first records');
    await new Promise((r) => setTimeout(r, 300));
    await putAll(client, stream, events(20, 3, 20));
    await new Promise((r) => setTimeout(r, 700));
    expect(src.health().shards).toBe(0);
    await drain.stop();
    expect(drain.error).toBeUndefined();
    expect(drain.received).toHaveLength(20);
  });

  it('fails fast, naming the stream, when the stream does not exist', async () => {
    const drain = new Drain(source('no-such-stream', new LocalLeaseCoordinator(new MemoryCheckpointStore()))).start();
    await drain.until(() => drain.error !== undefined, 'an error').catch(() => undefined);
    expect(drain.error).toBeInstanceOf(IntegratorError);
    expect((drain.error as IntegratorError).code).toBe('SOURCE_READ_FAILED');
    expect((drain.error as Error).message).toContain('no-such-stream');
  });
});

/** How many of the first run's records the checkpoints cover. */
function countCommitted(first: Drain, checkpoints: readonly { shard: string; seq: string }[]): number {
  return first.received.filter((e) => checkpoints.some((c) => c.shard === e.position.shard && BigInt(e.position.seq) <= BigInt(c.seq))).length;
}
