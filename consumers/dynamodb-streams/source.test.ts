import { CreateTableCommand, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import { type DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand, type GetShardIteratorCommandInput } from '@aws-sdk/client-dynamodb-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbLeaseCoordinator } from '../../src/checkpoints/dynamodb-lease-coordinator.js';
import { LocalLeaseCoordinator } from '../../src/checkpoints/local-coordinator.js';
import { MemoryCheckpointStore } from '../../src/checkpoints/memory-store.js';
import { MemoryMetrics, METRIC } from '../../src/core/metrics.js';
import { SHARD_END, type LeaseCoordinator } from '../../src/core/ports.js';
import { SILENT_LOGGER } from '../../src/core/logger.js';
import { decodeDynamoDbRecord } from '../../src/pipeline/decode/dynamodb-record.js';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../test/stack/dynamodb-local.js';
import { FieldMapping } from './config.js';
import { awsError } from './errors.js';
import { type DynamoDbStreamsSettings, DynamoDbStreamsSource } from './source.js';
import { type Applied, Drain, InventoryTable, createInventoryTable } from './test-support.js';

const mapping = FieldMapping.parse({});
type Send = Pick<DynamoDBStreamsClient, 'send'>;

describe('DynamoDbStreamsSource on DynamoDB Local', () => {
  let local: DynamoDbLocal;
  let n = 0;
  beforeAll(async () => {
    local = await startDynamoDbLocal();
  });
  afterAll(async () => {
    await local?.stop();
  });

  const settings = (tableName: string, over: Partial<DynamoDbStreamsSettings> = {}): DynamoDbStreamsSettings => ({
    tableName,
    startAt: 'TRIM_HORIZON',
    maxRecordsPerCall: 1000,
    idleTimeBetweenReadsMs: 100,
    shardSyncIntervalMs: 1000,
    leaseClaimIntervalMs: 100,
    ...over,
  });

  function source(tableName: string, coordinator: LeaseCoordinator, over: Partial<DynamoDbStreamsSettings> = {}, streams: Send = local.streams(), metrics = new MemoryMetrics()) {
    return new DynamoDbStreamsSource({ streams, dynamodb: local.dynamodb(), coordinator, config: settings(tableName, over), log: SILENT_LOGGER, metrics });
  }

  async function table(): Promise<InventoryTable> {
    const name = `inventory-${++n}`;
    await createInventoryTable(local.dynamodb(), name);
    return new InventoryTable(local.dynamodb(), name);
  }

  /** A shop day: inserts, sales and returns on them, and a few deletions. */
  async function shopDay(t: InventoryTable, items = 8, prefix = 'SKU'): Promise<void> {
    for (let i = 0; i < items; i++) await t.insert(`${prefix}-${i}`, `WH-${i % 2}`, 100 + i);
    for (let i = 0; i < items; i++) await t.change(`${prefix}-${i}`, `WH-${i % 2}`, -(i + 1), 'sale', `ORD-${i}`);
    for (let i = 0; i < items; i += 2) await t.change(`${prefix}-${i}`, `WH-${i % 2}`, 1, 'return');
    for (let i = 0; i < items; i += 3) await t.remove(`${prefix}-${i}`, `WH-${i % 2}`);
  }

  const decoded = (d: Drain) =>
    d.received.map((e) => {
      if (e.payload.kind !== 'dynamodb') throw new Error('expected a DynamoDB payload');
      const r = decodeDynamoDbRecord(e.payload.record, mapping);
      if (!r.ok) throw new Error(r.reason);
      return r.fields;
    });
  const asApplied = (d: Drain): Applied[] =>
    decoded(d).map((f) => ({
      op: f.eventType === 'remove' ? 'REMOVE' : f.quantityBefore === null ? 'INSERT' : 'MODIFY',
      sku: f.sku,
      warehouseId: f.warehouseId,
      before: f.quantityBefore,
      after: f.quantityAfter,
    }));

  it('reads inserts, updates and deletes in order with correct before/after quantities', async () => {
    const t = await table();
    await shopDay(t);
    const metrics = new MemoryMetrics();
    const src = source(t.tableName, new LocalLeaseCoordinator(new MemoryCheckpointStore()), {}, local.streams(), metrics);
    const drain = new Drain(src).start();

    await drain.until(() => drain.received.length >= t.applied.length, 'every change');
    await drain.stop();

    expect(asApplied(drain)).toEqual(t.applied);
    const fields = decoded(drain);
    expect(fields.map((f) => f.delta)).toEqual(t.applied.map((a) => (a.after ?? 0) - (a.before ?? 0)));
    expect(fields.filter((f) => f.eventType === 'sale').map((f) => f.orderId)).toEqual(Array.from({ length: 8 }, (_, i) => `ORD-${i}`));
    const positions = drain.received.map((e) => e.position);
    expect(new Set(positions.map((p) => `${p.source}|${p.stream}`))).toEqual(new Set([`dynamodb|${t.tableName}`]));
    expect(positions.map((p) => p.seq)).toEqual([...positions.map((p) => p.seq)].sort());
    expect(drain.completed).toBe(true);
    expect([...metrics.gauges.keys()].some((k) => k.startsWith(METRIC.iteratorAgeMs))).toBe(true);
  });

  it('resumes after a kill from the last checkpoint: nothing lost, nothing committed read again', async () => {
    const t = await table();
    await shopDay(t, 10);
    const store = new MemoryCheckpointStore();
    const half = Math.floor(t.applied.length / 2);
    // Pages of 4; the pipeline delivers (commits) only what came before `half`.
    const first = new Drain(source(t.tableName, new LocalLeaseCoordinator(store), { maxRecordsPerCall: 4 }), { commit: (_e, i) => i < half }).start();
    await first.until(() => first.received.length >= t.applied.length, 'the first run');
    await first.settled();
    await first.stop(); // a kill: no final commit
    const committed = Number((await store.list('dynamodb', t.tableName))[0]!.seq);
    await shopDay(t, 4, 'LATE');

    const second = new Drain(source(t.tableName, new LocalLeaseCoordinator(store))).start();
    const resumeAt = first.received.findIndex((e) => Number(e.position.seq) > committed);
    const expected = t.applied.length - resumeAt;
    await second.until(() => second.received.length >= expected, 'the resumed run');
    await second.stop();

    expect(resumeAt).toBeGreaterThan(0);
    expect(resumeAt).toBeLessThanOrEqual(half);
    expect(second.received[0]!.position.seq).toBe(first.received[resumeAt]!.position.seq);
    expect([...asApplied(first).slice(0, resumeAt), ...asApplied(second)]).toEqual(t.applied);
  });

  it('gets a new iterator after the last record read on expiry, throttling and trimming: no gap, no repeat', async () => {
    const t = await table();
    await shopDay(t, 6);
    const real = local.streams();
    const iteratorCalls: GetShardIteratorCommandInput[] = [];
    let getRecords = 0;
    const faults: Record<number, string> = { 2: 'ExpiredIteratorException', 4: 'LimitExceededException', 6: 'TrimmedDataAccessException', 7: 'ProvisionedThroughputExceededException' };
    const faulty = {
      async send(cmd: unknown, opts?: unknown) {
        if (cmd instanceof GetShardIteratorCommand) iteratorCalls.push(cmd.input);
        if (cmd instanceof GetRecordsCommand) {
          const fault = faults[++getRecords];
          if (fault) throw awsError(fault, `injected ${fault}`);
        }
        return (real.send as (c: unknown, o?: unknown) => Promise<unknown>)(cmd, opts);
      },
    } as unknown as Send;
    const drain = new Drain(source(t.tableName, new LocalLeaseCoordinator(new MemoryCheckpointStore()), { maxRecordsPerCall: 3 }, faulty)).start();

    await drain.until(() => drain.received.length >= t.applied.length, 'every change despite the faults');
    await drain.stop();

    expect(asApplied(drain)).toEqual(t.applied);
    expect(iteratorCalls[0]?.ShardIteratorType).toBe('TRIM_HORIZON');
    const renewed = iteratorCalls.slice(1);
    expect(renewed).toHaveLength(4);
    for (const c of renewed) expect(c.ShardIteratorType).toBe('AFTER_SEQUENCE_NUMBER');
    expect(renewed[0]!.SequenceNumber).toBe(drain.received[2]!.position.seq); // one page of 3 read before the expiry
  });

  it('finishes a closed shard only once its last record is committed, then stops reading it', async () => {
    const t = await table();
    await shopDay(t, 3);
    await local.dynamodb().send(new UpdateTableCommand({ TableName: t.tableName, StreamSpecification: { StreamEnabled: false } })); // closes the shard
    const store = new MemoryCheckpointStore();
    const src = source(t.tableName, new LocalLeaseCoordinator(store));
    const drain = new Drain(src, { commit: () => false }).start();
    await drain.until(() => drain.received.length >= t.applied.length, 'the closed shard');
    const shard = drain.received[0]!.position.shard;
    expect(await store.get('dynamodb', t.tableName, shard)).toBeUndefined();

    await src.commit(drain.received[drain.received.length - 2]!.position);
    expect((await store.get('dynamodb', t.tableName, shard))?.seq).toBe(drain.received[drain.received.length - 2]!.position.seq);
    await src.commit(drain.received[drain.received.length - 1]!.position); // the pipeline delivers the last record

    expect((await store.get('dynamodb', t.tableName, shard))?.seq).toBe(SHARD_END);
    await drain.stop();
    expect(drain.received).toHaveLength(t.applied.length);
  });

  it('fails with a configuration error naming a table that has no stream', async () => {
    const name = `nostream-${++n}`;
    await local.dynamodb().send(
      new CreateTableCommand({ TableName: name, AttributeDefinitions: [{ AttributeName: 'sku', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'sku', KeyType: 'HASH' }], BillingMode: 'PAY_PER_REQUEST' }),
    );
    const drain = new Drain(source(name, new LocalLeaseCoordinator(new MemoryCheckpointStore()))).start();
    await drain.until(() => drain.error !== undefined, 'the error').catch(() => undefined);
    expect(drain.error).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining(`table ${name} has no stream`) });
    await drain.stop();
  });

  it('with DynamoDB leases: a second worker waits while the first holds the shard, then takes over from its checkpoint after a kill', async () => {
    const t = await table();
    await shopDay(t, 4);
    const leaseTable = `leases-src-${++n}`;
    const coordinator = (id: string) => new DynamoDbLeaseCoordinator({ client: local.dynamodb(), tableName: leaseTable, workerId: id, leaseDurationMs: 2000 });
    const ca = coordinator('a');
    const a = new Drain(source(t.tableName, ca)).start();
    await a.until(() => a.received.length >= t.applied.length, 'worker a');
    const cb = coordinator('b');
    const b = new Drain(source(t.tableName, cb)).start();
    await shopDay(t, 2, 'MORE');
    await a.until(() => a.received.length >= t.applied.length, 'worker a, second batch');
    await a.settled();
    expect(b.received).toHaveLength(0); // a renews its lease: b never took the shard

    ca.stop(); // kill a: its lease is no longer renewed, nothing more is committed
    await a.stop();
    const readByA = t.applied.length;
    await shopDay(t, 2, 'LAST');
    await b.until(() => b.received.length >= t.applied.length - readByA, 'worker b to take over after expiry', 20_000);
    await b.stop();
    await cb.releaseAll();

    // a committed everything it read: b resumes right after it, and together they read every change once.
    expect([...asApplied(a), ...asApplied(b)]).toEqual(t.applied);
  });
});
