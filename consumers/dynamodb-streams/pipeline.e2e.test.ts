import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, type DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSinks, type Sinks } from '../../sinks/create.js';
import { readChangesFromParquet } from '../../sinks/testing/read-parquet.js';
import { DynamoDbCheckpointStore } from '../../src/checkpoints/dynamodb-checkpoint-store.js';
import { DynamoDbLeaseCoordinator } from '../../src/checkpoints/dynamodb-lease-coordinator.js';
import { BatchingConfig, PartitioningConfig } from '../../src/config/schema.js';
import { IntegratorError } from '../../src/core/errors.js';
import { eventIdOf } from '../../src/core/event-id.js';
import { compareSeq } from '../../src/core/position.js';
import { SILENT_LOGGER } from '../../src/core/logger.js';
import { MemoryMetrics } from '../../src/core/metrics.js';
import type { InventoryChange } from '../../src/core/model.js';
import type { LeaseCoordinator } from '../../src/core/ports.js';
import { PassThroughEnricher } from '../../src/enrichment/pass-through.js';
import { buildPipeline } from '../../src/pipeline/build-pipeline.js';
import { decodeDynamoDbRecord } from '../../src/pipeline/decode/dynamodb-record.js';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../test/stack/dynamodb-local.js';
import { type S3Stack, startS3rver } from '../../test/stack/s3rver.js';
import { DynamoDbStreamsSourceConfig } from './config.js';
import { DynamoDbStreamsSource } from './source.js';
import { InventoryTable, createInventoryTable } from './test-support.js';

/** DynamoDB Streams end to end: DynamoDB Local → source → the real pipeline → Parquet on s3rver. */
let ddb: DynamoDbLocal;
let s3: S3Stack;
let tmp: string;
let n = 0;

beforeAll(async () => {
  [ddb, s3] = await Promise.all([startDynamoDbLocal(), startS3rver('lake')]);
  tmp = await mkdtemp(join(tmpdir(), 'ddb-e2e-'));
});
afterAll(async () => {
  await Promise.all([ddb?.stop(), s3?.stop()]);
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** Every position in the stream, read directly (not through the source under test). */
async function streamPositions(streams: Pick<DynamoDBStreamsClient, 'send'>, arn: string): Promise<Array<{ shard: string; seq: string }>> {
  const out: Array<{ shard: string; seq: string }> = [];
  const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: arn }));
  for (const s of StreamDescription?.Shards ?? []) {
    let it = (await streams.send(new GetShardIteratorCommand({ StreamArn: arn, ShardId: s.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    for (;;) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator: it }));
      for (const r of page.Records ?? []) out.push({ shard: s.ShardId!, seq: r.dynamodb!.SequenceNumber! });
      if (!page.NextShardIterator || (page.Records ?? []).length === 0) break;
      it = page.NextShardIterator;
    }
  }
  return out;
}

async function readLake(sinks: Sinks, prefix: string): Promise<InventoryChange[]> {
  const keys = (await sinks.store.list(`inventory_changes/`)).filter((k) => k.endsWith('.parquet'));
  const dir = await mkdtemp(join(tmp, `${prefix}-`));
  const files: string[] = [];
  for (const [i, k] of keys.entries()) {
    const f = join(dir, `${i}.parquet`);
    await writeFile(f, (await sinks.store.get(k))!);
    files.push(f);
  }
  return files.length === 0 ? [] : readChangesFromParquet(files);
}

/** A lease coordinator that can be "killed": it stops renewing, holds nothing and commits nothing more. */
class Killable implements LeaseCoordinator {
  private dead = false;
  constructor(readonly inner: DynamoDbLeaseCoordinator) {}
  kill(): void {
    this.dead = true;
    this.inner.stop();
  }
  syncShards: LeaseCoordinator['syncShards'] = (...a) => this.inner.syncShards(...a);
  claim: LeaseCoordinator['claim'] = async (...a) => (this.dead ? [] : this.inner.claim(...a));
  checkpoint: LeaseCoordinator['checkpoint'] = async (p) => {
    if (this.dead) throw new IntegratorError('LEASE_LOST', 'process killed');
    return this.inner.checkpoint(p);
  };
  finishShard: LeaseCoordinator['finishShard'] = async (...a) => {
    if (this.dead) throw new IntegratorError('LEASE_LOST', 'process killed');
    return this.inner.finishShard(...a);
  };
  holds: LeaseCoordinator['holds'] = (...a) => !this.dead && this.inner.holds(...a);
  releaseAll = () => (this.dead ? Promise.resolve() : this.inner.releaseAll());
}

async function runPipeline(tableName: string, prefix: string, coordinator: LeaseCoordinator) {
  const metrics = new MemoryMetrics();
  const config = DynamoDbStreamsSourceConfig.parse({ type: 'dynamodb', tableName, maxRecordsPerCall: 40, idleTimeBetweenReadsMs: 100, shardSyncIntervalMs: 1000, leaseClaimIntervalMs: 200 });
  const source = new DynamoDbStreamsSource({ streams: ddb.streams(), dynamodb: ddb.dynamodb(), coordinator, config, log: SILENT_LOGGER, metrics });
  const sinks = await createSinks({ type: 's3', bucket: s3.bucket, prefix, forcePathStyle: true, partSizeBytes: 5 * 1024 * 1024, format: 'parquet', compression: 'zstd', table: 'inventory_changes', dlqPrefix: 'dlq', aws: { region: 'us-east-1', maxAttempts: 3 } }, { s3: s3.client(), log: SILENT_LOGGER, metrics, tmpDir: join(tmp, `${prefix}-staging`) });
  const running = buildPipeline(
    { source, enricher: new PassThroughEnricher(), sink: sinks.sink, dlq: sinks.dlq, catalog: { partitionsCommitted: async () => undefined, close: async () => undefined }, log: SILENT_LOGGER, metrics },
    {
      table: 'inventory_changes',
      batching: BatchingConfig.parse({ maxAgeMs: 150, maxRecords: 50 }),
      partitioning: PartitioningConfig.parse({}),
      maxRecordBytes: 64 * 1024,
      decodeDynamoDb: (r) => decodeDynamoDbRecord(r, config.mapping),
    },
  ).start();
  return { running, sinks, stop: async () => ((await running.stop()), await sinks.close()) };
}

async function until(what: string, timeoutMs: number, pred: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function shop(t: InventoryTable, items: number, tag: string): Promise<void> {
  for (let i = 0; i < items; i++) await t.insert(`${tag}-${i}`, `WH-${i % 3}`, 50 + i);
  for (let i = 0; i < items; i++) await t.change(`${tag}-${i}`, `WH-${i % 3}`, -((i % 5) + 1), 'sale', `ORD-${tag}-${i}`);
  for (let i = 0; i < items; i += 2) await t.change(`${tag}-${i}`, `WH-${i % 3}`, 2, 'return');
  for (let i = 0; i < items; i += 4) await t.remove(`${tag}-${i}`, `WH-${i % 3}`);
}

const leases = (id: string, table: string) => new DynamoDbLeaseCoordinator({ client: ddb.dynamodb(), tableName: table, workerId: id, leaseDurationMs: 2000 });

describe('DynamoDB Streams → pipeline → S3 lake (s3rver)', () => {
  it('lands every change exactly once with correct before/after quantities, and bad items in the DLQ', async () => {
    const tableName = `e2e-${++n}`;
    const arn = await createInventoryTable(ddb.dynamodb(), tableName);
    const t = new InventoryTable(ddb.dynamodb(), tableName);
    await shop(t, 40, 'A');
    // Two items the decoder must refuse: a non-numeric quantity and an unknown change type.
    await ddb.dynamodb().send(new PutItemCommand({ TableName: tableName, Item: { sku: { S: 'BAD-1' }, warehouseId: { S: 'WH-0' }, quantity: { S: 'ten' } } }));
    await ddb.dynamodb().send(new PutItemCommand({ TableName: tableName, Item: { sku: { S: 'BAD-2' }, warehouseId: { S: 'WH-0' }, quantity: { N: '1' }, lastChangeType: { S: 'theft' } } }));
    const positions = await streamPositions(ddb.streams(), arn);
    expect(positions).toHaveLength(t.applied.length + 2);

    const p = await runPipeline(tableName, `run-${n}`, leases('solo', `leases-${n}`));
    await until('everything delivered', 60_000, () => p.running.stats().written + p.running.stats().deadLettered >= positions.length);
    await p.stop();

    const rows = await readLake(p.sinks, `lake-${n}`);
    const expectedIds = positions.slice(0, t.applied.length).map((q) => eventIdOf({ source: 'dynamodb', stream: tableName, ...q }));
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(r.eventId, (counts.get(r.eventId) ?? 0) + 1);
    expect(rows).toHaveLength(t.applied.length);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    expect(new Set(counts.keys())).toEqual(new Set(expectedIds));
    const bySeq = [...rows].sort((a, b) => compareSeq(a.sequence, b.sequence));
    expect(bySeq.map((r) => ({ sku: r.sku, before: r.quantityBefore, after: r.quantityAfter, delta: r.delta }))).toEqual(
      t.applied.map((a) => ({ sku: a.sku, before: a.before, after: a.after, delta: (a.after ?? 0) - (a.before ?? 0) })),
    );
    expect(new Set(bySeq.map((r) => r.eventType))).toEqual(new Set(['restock', 'sale', 'return', 'remove']));
    const letters = await p.sinks.store.list('dlq/');
    expect(letters.length).toBeGreaterThan(0);
    expect(p.running.stats().deadLettered).toBe(2);
  });

  it('killed mid-run and restarted on another worker: nothing lost, resumed from the checkpoint', async () => {
    const tableName = `e2e-${++n}`;
    const leaseTable = `leases-${n}`;
    const arn = await createInventoryTable(ddb.dynamodb(), tableName);
    const t = new InventoryTable(ddb.dynamodb(), tableName);
    await shop(t, 60, 'A');

    const first = new Killable(leases('first', leaseTable));
    const p1 = await runPipeline(tableName, `run-${n}`, first);
    // Written is counted before the checkpoint of those records reaches DynamoDB: wait for one
    // commit too, or a kill in between leaves no checkpoint to resume from.
    await until('part of the stream delivered and checkpointed', 60_000, () => p1.running.stats().written >= 60 && p1.running.stats().commits >= 1);
    first.kill();
    await p1.stop(); // what was written but not checkpointed may be written again: at least once
    const store = new DynamoDbCheckpointStore({ client: ddb.dynamodb(), tableName: leaseTable });
    const atKill = await store.list('dynamodb', tableName);
    expect(atKill).toHaveLength(1);
    await shop(t, 10, 'B');

    const p2 = await runPipeline(tableName, `run-${n}`, leases('second', leaseTable));
    const positions = await streamPositions(ddb.streams(), arn);
    const checkpointed = atKill[0]!.seq;
    const afterCheckpoint = (seq: string) => compareSeq(seq, checkpointed) > 0;
    await until('the rest of the stream delivered', 60_000, () => p2.running.stats().written >= positions.filter((q) => afterCheckpoint(q.seq)).length);
    await p2.stop();

    const rows = await readLake(p2.sinks, `lake-${n}`);
    const ids = new Set(rows.map((r) => r.eventId));
    const expected = positions.map((q) => eventIdOf({ source: 'dynamodb', stream: tableName, ...q }));
    expect(ids).toEqual(new Set(expected));
    const seen = new Map<string, number>();
    for (const r of rows) seen.set(r.eventId, (seen.get(r.eventId) ?? 0) + 1);
    // Repeats come only from after the checkpoint the killed worker left.
    for (const r of rows) if (seen.get(r.eventId)! > 1) expect(afterCheckpoint(r.sequence), `repeated ${r.sequence}`).toBe(true);
    expect(rows.filter((r) => !afterCheckpoint(r.sequence))).toHaveLength(positions.filter((q) => !afterCheckpoint(q.seq)).length);
    expect(p2.running.stats().written).toBe(positions.filter((q) => afterCheckpoint(q.seq)).length); // resumed right after the checkpoint
  });
});
