import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SILENT_LOGGER } from '../src/core/logger.js';
import { MemoryMetrics, METRIC } from '../src/core/metrics.js';
import { makeBatch, makeChanges } from '../test/fixtures/changes.js';
import { SinkConfig } from './config.js';
import { createSinks } from './create.js';
import { readChangesFromParquet } from './testing/read-parquet.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sinks-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

describe('createSinks with a local directory', () => {
  it('writes Parquet batches into Hive partitions and reads them back row for row', async () => {
    const metrics = new MemoryMetrics();
    const sinks = await createSinks(SinkConfig.parse({ type: 'file', dir }), { log: SILENT_LOGGER, metrics });
    try {
      const a = makeChanges(1000, { firstSeq: 1 });
      const b = makeChanges(500, { firstSeq: 1001, shard: 'shardId-000000000001' });
      const written = await Promise.all([sinks.sink.write(makeBatch(a)), sinks.sink.write(makeBatch(b))]);
      expect(written.map((w) => w.key)).toEqual([
        'inventory_changes/dt=2026-11-21/hour=13/kinesis-inventory-shardId-000000000000-1-1000.parquet',
        'inventory_changes/dt=2026-11-21/hour=13/kinesis-inventory-shardId-000000000001-1001-1500.parquet',
      ]);
      expect(await readChangesFromParquet(join(dir, written[0]!.key))).toEqual(a);
      expect(await readChangesFromParquet(join(dir, written[1]!.key))).toEqual(b);
      expect(await readdir(join(dir, '.tmp'))).toEqual([]);
      expect(metrics.total(METRIC.objectsWritten)).toBe(2);
      // The two writes run concurrently: compare sizes whatever order they finished in.
      expect([...(metrics.observations.get(`${METRIC.batchRecords}{table=inventory_changes}`) ?? [])].sort((a, b) => a - b)).toEqual([1000, 500].sort((a, b) => a - b));
    } finally {
      await sinks.close();
    }
  });

  it('rewrites the same key for the same batch (retry after a crash) instead of adding an object', async () => {
    const sinks = await createSinks(SinkConfig.parse({ type: 'file', dir }), { log: SILENT_LOGGER, metrics: new MemoryMetrics() });
    try {
      const batch = makeBatch(makeChanges(10));
      await sinks.sink.write(batch);
      await sinks.sink.write(batch);
      expect(await sinks.store.list('inventory_changes/')).toHaveLength(1);
    } finally {
      await sinks.close();
    }
  });

  it('writes NDJSON.gz with snake_case fields when asked to', async () => {
    const sinks = await createSinks(SinkConfig.parse({ type: 'file', dir, format: 'ndjson', table: 'raw' }), { log: SILENT_LOGGER, metrics: new MemoryMetrics() });
    try {
      const records = makeChanges(3);
      const w = await sinks.sink.write(makeBatch(records));
      expect(w.key).toMatch(/^raw\/dt=2026-11-21\/hour=13\/.*-1-3\.ndjson\.gz$/);
      const lines = gunzipSync((await sinks.store.get(w.key))!).toString().trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toHaveLength(3);
      expect(Object.keys(lines[0]!)).toEqual(['event_id', 'source', 'stream', 'shard', 'sequence', 'event_type', 'sku', 'warehouse_id', 'quantity_before', 'quantity_after', 'delta', 'order_id', 'customer_id', 'event_time', 'ingest_time', 'enrichment_status', 'enrichment_failed', 'customer', 'order_info']);
      expect(lines[0]).toMatchObject({ event_id: records[0]!.eventId, sequence: '1', event_time: new Date(records[0]!.eventTime).toISOString() });
    } finally {
      await sinks.close();
    }
  });

  it('refuses an empty batch loudly', async () => {
    const sinks = await createSinks(SinkConfig.parse({ type: 'file', dir }), { log: SILENT_LOGGER, metrics: new MemoryMetrics() });
    try {
      const batch = makeBatch(makeChanges(1));
      await expect(sinks.sink.write({ ...batch, records: [] })).rejects.toThrow(/empty batch/);
    } finally {
      await sinks.close();
    }
  });
});
