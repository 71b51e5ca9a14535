import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CURATED_SCHEMAS } from '../../src/catalog/athena-ddl.js';
import { buildCuratedLocally, buildLakeCurated, type LocalCuratedResult } from '../../src/catalog/curated-duckdb.js';
import { CURATED_TABLES, loadCuratedSql } from '../../src/catalog/curated-sql.js';
import { sqlString } from '../../src/catalog/duckdb-sql.js';
import { scanPartitions } from '../../src/catalog/local-state.js';
import { exportReferenceRows } from '../../src/catalog/reference.js';
import { type Dataset, makeDataset } from './curated-dataset.js';
import { expectedCurated, expectedDaily, expectedSnapshot } from './expected.js';
import { RawLakeWriter } from './raw-lake.js';

/** Sorts rows by their JSON text, so both sides compare as sets. */
const sorted = <T>(rows: readonly T[]): T[] => [...rows].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

describe('curated SQL (deploy/glue/curated.sql) run by DuckDB on a raw lake with duplicates and late events', () => {
  let lake: string;
  let ds: Dataset;
  let raw: RawLakeWriter;
  let result: LocalCuratedResult;
  const curatedGlob = (table: string) => sqlString(join(lake, 'curated', table, '**', '*.parquet'));

  beforeAll(async () => {
    // Arrange: the raw layer as the sinks lay it out, reference tables as the demo exports them.
    lake = await mkdtemp(join(tmpdir(), 'curated-sql-'));
    ds = makeDataset();
    raw = await RawLakeWriter.open(lake);
    for (const b of ds.batches) await raw.writeBatch(b.records);
    await exportReferenceRows(lake, 'orders', ds.orders);
    await exportReferenceRows(lake, 'customers', ds.customers);
    // Act
    const partitions = (await scanPartitions(join(lake, 'inventory_changes'))).map((p) => p.path);
    result = await buildCuratedLocally({
      rawTableDir: join(lake, 'inventory_changes'),
      partitions,
      referenceDir: join(lake, 'reference'),
      outputDir: join(lake, 'curated'),
      statements: loadCuratedSql(),
    });
  });

  afterAll(async () => {
    raw?.close();
    await rm(lake, { recursive: true, force: true });
  });

  it('reads a raw layer that really holds duplicates and late events', async () => {
    const [counts] = await raw.query(
      `SELECT COUNT(*)::INTEGER AS n, COUNT(DISTINCT event_id)::INTEGER AS ids FROM read_parquet(${sqlString(join(lake, 'inventory_changes', '**', '*.parquet'))})`,
    );
    expect(counts!.ids).toBe(ds.unique.length);
    expect(counts!.n).toBeGreaterThan(ds.unique.length + 200);
    expect(result.rawRows).toBe(counts!.n);
    expect(ds.batches.some((b) => b.kind === 'late')).toBe(true);
    expect(result.missingReference).toEqual([]);
  });

  it('holds each event id exactly once in inventory_changes_curated, left-joined with orders and customers', async () => {
    const rows = await raw.query(
      `SELECT event_id, customer_id, order_status, order_channel, customer_name, strftime(dt, '%Y-%m-%d') AS dt FROM read_parquet(${curatedGlob('inventory_changes_curated')}, hive_partitioning = true)`,
    );
    const ids = rows.map((r) => r.event_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(result.tables.inventory_changes_curated).toBe(ds.unique.length);
    expect(sorted(rows)).toEqual(sorted(expectedCurated(ds.unique, ds.orders, ds.customers)));
    // The left joins kept events whose order or customer the database does not know.
    expect(rows.some((r) => r.order_status === null && r.customer_id !== null)).toBe(true);
    expect(rows.some((r) => r.customer_name === null && r.customer_id !== null)).toBe(true);
  });

  it('writes inventory_snapshot equal to the latest quantity per SKU and warehouse computed from the input', async () => {
    const rows = await raw.query(
      `SELECT sku, warehouse_id, CAST(quantity AS INTEGER) AS quantity, strftime(as_of, '%Y-%m-%dT%H:%M:%S.%gZ') AS as_of, last_event_id FROM read_parquet(${curatedGlob('inventory_snapshot')})`,
    );
    expect(sorted(rows)).toEqual(sorted(expectedSnapshot(ds.unique)));
  });

  it('writes inventory_daily equal to units sold, restocked, returned, net change and distinct customers computed from the input', async () => {
    const rows = await raw.query(
      `SELECT strftime(dt, '%Y-%m-%d') AS dt, warehouse_id, sku,
              CAST(units_sold AS INTEGER) AS units_sold, CAST(units_restocked AS INTEGER) AS units_restocked,
              CAST(units_returned AS INTEGER) AS units_returned, CAST(net_change AS INTEGER) AS net_change,
              CAST(distinct_customers AS INTEGER) AS distinct_customers, CAST(events AS INTEGER) AS events
       FROM read_parquet(${curatedGlob('inventory_daily')}, hive_partitioning = true)`,
    );
    const expected = expectedDaily(ds.unique, ds.orders);
    expect(new Set(expected.map((r) => r.dt)).size).toBeGreaterThan(1); // the data crosses midnight UTC
    expect(sorted(rows)).toEqual(sorted(expected));
  });

  it('lays the tables out as the Glue job does: per-day tables partitioned by dt, the snapshot as one table', async () => {
    expect((await readdir(join(lake, 'curated'))).sort()).toEqual([...CURATED_TABLES].sort());
    const days = [...new Set(ds.unique.map((e) => `dt=${new Date(e.eventTime).toISOString().slice(0, 10)}`))].sort();
    expect(days).toEqual(['dt=2026-11-21', 'dt=2026-11-22', 'dt=2026-11-23']);
    expect((await readdir(join(lake, 'curated', 'inventory_changes_curated'))).sort()).toEqual(days);
    expect((await readdir(join(lake, 'curated', 'inventory_daily'))).sort()).toEqual(days);
    expect(await readdir(join(lake, 'curated', 'inventory_snapshot'))).toEqual(['part-00000.parquet']);
  });

  it('writes the columns and types the Athena DDL declares', async () => {
    const hive: Record<string, string> = { VARCHAR: 'string', BIGINT: 'bigint', DOUBLE: 'double', TIMESTAMP: 'timestamp', DATE: 'date' };
    for (const table of CURATED_TABLES) {
      const described = await raw.query(`DESCRIBE SELECT * FROM read_parquet(${curatedGlob(table)}, hive_partitioning = true)`);
      const schema = CURATED_SCHEMAS[table]!;
      const want = [...schema.columns.map((c) => [c.name, c.type]), ...(schema.partitionedByDt ? [['dt', 'date']] : [])];
      expect(described.map((d) => [d.column_name, hive[String(d.column_type)] ?? d.column_type])).toEqual(want);
    }
  });

  it('is idempotent: a second build over the same lake (found by scanning it) gives the same tables', async () => {
    const again = await buildLakeCurated(lake);
    expect(again.tables).toEqual(result.tables);
    const [n] = await raw.query(`SELECT COUNT(*)::INTEGER AS n FROM read_parquet(${curatedGlob('inventory_changes_curated')})`);
    expect(n!.n).toBe(ds.unique.length);
  });
});
