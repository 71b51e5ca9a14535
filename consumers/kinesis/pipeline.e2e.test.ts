import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sinks, createSinks } from '../../sinks/create.js';
import { FileCheckpointStore } from '../../src/checkpoints/file-store.js';
import { LocalLeaseCoordinator } from '../../src/checkpoints/local-coordinator.js';
import { MemoryCheckpointStore } from '../../src/checkpoints/memory-store.js';
import { BatchingConfig, PartitioningConfig } from '../../src/config/schema.js';
import { SILENT_LOGGER } from '../../src/core/logger.js';
import { MemoryMetrics } from '../../src/core/metrics.js';
import type { LeaseCoordinator } from '../../src/core/ports.js';
import { PassThroughEnricher } from '../../src/enrichment/pass-through.js';
import { buildPipeline } from '../../src/pipeline/build-pipeline.js';
import { eventLines } from '../../test/fixtures/events.js';
import { Producer, lakeEventIds, parquetFiles } from '../../test/multi-worker/lake.js';
import { kill, startKinesisWorker, until } from '../../test/multi-worker/spawn.js';
import { type Kinesalite, createStream, startKinesalite } from '../../test/stack/kinesalite.js';
import type { Started } from '../../test/stack/process.js';
import { type S3Stack, startS3rver } from '../../test/stack/s3rver.js';
import { KinesisSourceConfig } from './config.js';
import { KinesisSource } from './source.js';
import { merge, splitInHalf } from './test-support.js';

/**
 * Kinesis end to end: kinesalite → KinesisSource → the real pipeline → a Parquet lake on s3rver or
 * in a temp dir; the lake is read back with DuckDB.
 */
let kin: Kinesalite;
let s3: S3Stack;
let client: KinesisClient;
let tmp: string;
let n = 0;
const processes: Started[] = [];

beforeAll(async () => {
  [kin, s3] = await Promise.all([startKinesalite(), startS3rver()]);
  client = kin.client();
  tmp = await mkdtemp(join(tmpdir(), 'kinesis-e2e-'));
});
afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
  await Promise.all([kin?.stop(), s3?.stop()]);
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const lines = [...eventLines(3000)];

async function setup(shards: number) {
  const stream = `e2e-${++n}`;
  await createStream(client, stream, shards);
  return { stream, lake: join(tmp, stream) };
}

/** The service's pipeline in this process, as the container wires it (pass-through enrichment). */
async function runPipeline(stream: string, lake: string | { s3Prefix: string }, coordinator: LeaseCoordinator, over: Partial<KinesisSourceConfig> = {}) {
  const metrics = new MemoryMetrics();
  const config = KinesisSourceConfig.parse({ type: 'kinesis', streamName: stream, idleTimeBetweenReadsMs: 200, shardSyncIntervalMs: 1000, leaseClaimIntervalMs: 300, ...over });
  const source = new KinesisSource({ client, coordinator, config, log: SILENT_LOGGER, metrics });
  const common = { format: 'parquet', compression: 'zstd', table: 'inventory_changes', dlqPrefix: 'dlq' } as const;
  const sinks =
    typeof lake === 'string'
      ? await createSinks({ type: 'file', dir: lake, ...common }, { log: SILENT_LOGGER, metrics })
      : await createSinks(
          { type: 's3', bucket: s3.bucket, prefix: lake.s3Prefix, forcePathStyle: true, partSizeBytes: 5 * 1024 * 1024, aws: { region: 'us-east-1', maxAttempts: 3 }, ...common },
          { s3: s3.client(), log: SILENT_LOGGER, metrics, tmpDir: join(tmp, `${stream}-staging`) },
        );
  const running = buildPipeline(
    { source, enricher: new PassThroughEnricher(), sink: sinks.sink, dlq: sinks.dlq, catalog: { partitionsCommitted: async () => undefined, close: async () => undefined }, log: SILENT_LOGGER, metrics },
    { table: 'inventory_changes', batching: BatchingConfig.parse({ maxAgeMs: 200, maxRecords: 2000 }), partitioning: PartitioningConfig.parse({}), maxRecordBytes: 4096 },
  ).start();
  return {
    running,
    sinks,
    stop: async () => {
      const summary = await running.stop();
      await sinks.close();
      return summary;
    },
  };
}

/** Copies the lake's Parquet objects out of its store (s3rver here) into a directory DuckDB can read. */
async function download(sinks: Sinks, dir: string): Promise<void> {
  const keys = (await sinks.store.list('inventory_changes/')).filter((k) => k.endsWith('.parquet'));
  await mkdir(join(dir, 'inventory_changes'), { recursive: true });
  for (const [i, k] of keys.entries()) await writeFile(join(dir, 'inventory_changes', `${i}.parquet`), (await sinks.store.get(k))!);
}

async function query(lake: string, sql: (from: string) => string): Promise<Record<string, unknown>[]> {
  const files = await parquetFiles(join(lake, 'inventory_changes'));
  const db = await DuckDBInstance.create(':memory:');
  try {
    const conn = await db.connect();
    const rows = (await conn.runAndReadAll(sql(`read_parquet([${files.map((f) => `'${f}'`).join(', ')}])`))).getRowObjectsJS();
    conn.closeSync();
    return rows;
  } finally {
    db.closeSync();
  }
}

describe('Kinesis → pipeline → lake', () => {
  it('writes every event to S3 exactly once and dead-letters undecodable and oversized records', async () => {
    const { stream, lake } = await setup(4);
    const producer = new Producer(client, stream, (i) => lines[i % lines.length]!);
    await producer.put(2500);
    const bad = new Producer(client, stream, (i) => (i === 0 ? '{"not json' : JSON.stringify({ pad: 'x'.repeat(5000) })));
    await bad.put(2);
    const p = await runPipeline(stream, { s3Prefix: stream }, new LocalLeaseCoordinator(new MemoryCheckpointStore()));
    await until('everything delivered', 60_000, async () => (p.running.stats().written + p.running.stats().deadLettered >= 2502 ? true : undefined));
    const summary = await p.stop();
    await download(p.sinks, lake);
    expect((await p.sinks.store.list('dlq/')).length).toBeGreaterThan(0);

    const ids = await lakeEventIds(join(lake, 'inventory_changes'));
    expect(ids.size).toBe(2500);
    expect(producer.eventIds.every((id) => ids.get(id) === 1)).toBe(true);
    expect(summary).toMatchObject({ written: 2500, deadLettered: 2 });
    const rows = await query(lake, (from) => `SELECT DISTINCT source, stream FROM ${from}`);
    expect(rows).toEqual([{ source: 'kinesis', stream }]);
  });

  it('keeps per-key order and loses nothing when shards split and merge mid-run', async () => {
    const { stream, lake } = await setup(2);
    const counters = new Map<string, number>();
    const t0 = Date.UTC(2026, 10, 21, 10);
    const producer = new Producer(client, stream, () => {
      const sku = `SKU-${Math.floor(Math.random() * 30)}`;
      const c = (counters.get(sku) ?? 0) + 1;
      counters.set(sku, c);
      const data = JSON.stringify({ eventType: 'adjustment', sku, warehouseId: 'WH-1', quantityBefore: c - 1, quantityAfter: c, orderId: null, customerId: null, eventTime: t0 + c * 1000 });
      return { pk: sku, data };
    });
    const p = await runPipeline(stream, lake, new LocalLeaseCoordinator(new MemoryCheckpointStore()), { maxRecordsPerCall: 50 });
    await producer.put(300);
    await until('a first delivery', 30_000, async () => (p.running.stats().written > 0 ? true : undefined));
    await splitInHalf(client, stream, 'shardId-000000000000');
    await producer.put(300);
    await merge(client, stream, 'shardId-000000000003', 'shardId-000000000001');
    await producer.put(300);
    await until('everything delivered', 60_000, async () => (p.running.stats().written >= 900 ? true : undefined));
    await p.stop();

    const ids = await lakeEventIds(join(lake, 'inventory_changes'));
    expect(producer.eventIds.every((id) => ids.get(id) === 1)).toBe(true);
    // Per sku (the partition key), the read order (ingest time) follows the producer's counter across parents and children.
    const rows = await query(lake, (from) => `SELECT sku, quantity_after AS c, epoch_ms(ingest_time) AS t, shard FROM ${from} ORDER BY sku, c`);
    expect(rows).toHaveLength(900);
    let prev: { sku: unknown; t: number } | undefined;
    for (const r of rows) {
      if (prev && prev.sku === r.sku) expect(Number(r.t), `sku ${String(r.sku)} #${String(r.c)}`).toBeGreaterThanOrEqual(prev.t);
      prev = { sku: r.sku, t: Number(r.t) };
    }
    expect(new Set(rows.map((r) => r.shard)).size).toBe(5);
  });

  it('killed mid-run (SIGKILL) and restarted: nothing lost, resumed from the checkpoint', async () => {
    const { stream, lake } = await setup(4);
    const checkpointFile = join(tmp, `${stream}-checkpoints.json`);
    const producer = new Producer(client, stream, (i) => lines[i % lines.length]!);
    await producer.put(3000);
    const settings = { kinesisEndpoint: kin.endpoint, stream, lakeDir: lake, leases: { checkpointFile }, maxRecordsPerCall: 100 };
    const first = await startKinesisWorker({ ...settings, workerId: 'first' });
    processes.push(first);
    await until('part of the stream in the lake', 60_000, async () => ((await lakeEventIds(join(lake, 'inventory_changes'))).size >= 800 ? true : undefined));
    kill(first);
    await new Promise((r) => first.child.once('exit', r));
    const atKill = new Map((await new FileCheckpointStore(checkpointFile).list('kinesis', stream)).map((c) => [c.shard, c.seq]));
    expect(atKill.size).toBeGreaterThan(0);
    const before = await lakeEventIds(join(lake, 'inventory_changes'));
    expect(before.size).toBeLessThan(3000);

    await producer.put(500);
    const second = await startKinesisWorker({ ...settings, workerId: 'second', maxRecordsPerCall: 10_000 });
    processes.push(second);
    await until('every event in the lake', 60_000, async () => {
      const ids = await lakeEventIds(join(lake, 'inventory_changes'));
      return producer.eventIds.every((id) => ids.has(id)) ? true : undefined;
    });
    await second.stop();

    // Repeats are only what was written but not yet checkpointed when the first process died.
    const repeated = await query(lake, (from) => `SELECT shard, sequence FROM ${from} GROUP BY event_id, shard, sequence HAVING count(*) > 1`);
    for (const r of repeated) {
      const cp = atKill.get(String(r.shard));
      if (cp !== undefined) expect(BigInt(String(r.sequence))).toBeGreaterThan(BigInt(cp));
    }
    expect((await lakeEventIds(join(lake, 'inventory_changes'))).size).toBe(3500);
  });
});
