import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CatalogConfig, DuckDbCatalogConfig } from '../../src/catalog/config.js';
import { NO_CATALOG, createCatalog } from '../../src/catalog/create.js';
import { LocalDuckDbCatalog } from '../../src/catalog/duckdb-catalog.js';
import { sqlString } from '../../src/catalog/duckdb-sql.js';
import type { LocalCatalogState } from '../../src/catalog/local-state.js';
import { exportReferenceRows } from '../../src/catalog/reference.js';
import { IntegratorError } from '../../src/core/errors.js';
import { METRIC, MemoryMetrics } from '../../src/core/metrics.js';
import type { CommittedPartition } from '../../src/core/ports.js';
import { type Dataset, makeDataset } from './curated-dataset.js';
import { MemoryLog } from './memory-log.js';
import { RawLakeWriter } from './raw-lake.js';

const local = (lake: string, config: Record<string, unknown> = {}) => {
  const log = new MemoryLog();
  const metrics = new MemoryMetrics();
  const catalog = new LocalDuckDbCatalog(DuckDbCatalogConfig.parse({ type: 'duckdb', ...config }), { log, metrics, lakeRoot: lake, table: 'inventory_changes' });
  return { catalog, log, metrics };
};

describe('local DuckDB catalog', () => {
  let lake: string;
  let ds: Dataset;
  let raw: RawLakeWriter;
  const committed: { part: CommittedPartition; kind: string }[] = [];
  const countCurated = async () =>
    (await raw.query(`SELECT COUNT(*)::INTEGER AS n, COUNT(DISTINCT event_id)::INTEGER AS ids FROM read_parquet(${sqlString(join(lake, 'curated', 'inventory_changes_curated', '**', '*.parquet'))})`))[0]!;

  beforeAll(async () => {
    lake = await mkdtemp(join(tmpdir(), 'duckdb-catalog-'));
    ds = makeDataset({ perShard: 120, seed: 11 });
    raw = await RawLakeWriter.open(lake);
    for (const b of ds.batches) committed.push({ part: await raw.writeBatch(b.records), kind: b.kind });
    await exportReferenceRows(lake, 'orders', ds.orders);
    await exportReferenceRows(lake, 'customers', ds.customers);
  });

  afterAll(async () => {
    raw?.close();
    await rm(lake, { recursive: true, force: true });
  });

  it('records partitions as they commit, builds the curated layer once the watermark releases them, and catches up with late events', async () => {
    const { catalog, metrics } = local(lake);
    // Before the watermark passes the first hour, nothing is built.
    const first = committed[0]!.part;
    await catalog.partitionsCommitted([first], first.minEventTime);
    await catalog.idle();
    expect(metrics.total(METRIC.curatedRuns)).toBe(0);

    // On time: the watermark follows the data, one batch at a time.
    let watermark = 0;
    for (const { part } of committed.filter((c) => c.kind !== 'late')) {
      watermark = Math.max(watermark, part.minEventTime);
      await catalog.partitionsCommitted([part], watermark);
    }
    await catalog.idle();
    expect(metrics.counters.get(`${METRIC.curatedRuns}{catalog=duckdb,state=SUCCEEDED}`)).toBeGreaterThanOrEqual(1);
    const onTime = new Set(committed.filter((c) => c.kind !== 'late').flatMap((c) => c.part.partition.path));
    expect(onTime.size).toBeGreaterThan(5);

    // Late events land in hours long released: due at once, rebuilt.
    for (const { part } of committed.filter((c) => c.kind === 'late')) await catalog.partitionsCommitted([part], watermark);
    await catalog.close();

    const { n, ids } = await countCurated();
    expect(ids).toBe(ds.unique.length);
    expect(n).toBe(ds.unique.length);
    expect(catalog.lastBuild?.tables.inventory_changes_curated).toBe(ds.unique.length);
    expect(metrics.total(METRIC.catalogFailures)).toBe(0);

    const state = JSON.parse(await readFile(join(lake, '_catalog.json'), 'utf8')) as LocalCatalogState;
    const table = state.tables.inventory_changes!;
    expect(table.partitionKeys).toEqual(['dt', 'hour']);
    expect(Object.keys(table.partitions).sort()).toEqual([...new Set(committed.map((c) => c.part.partition.path))].sort());
    const objects = Object.values(table.partitions).reduce((s, p) => s + p.objects.length, 0);
    // A replayed batch with the same boundaries rewrote the same key: one object, counted once.
    expect(objects).toBe(new Set(committed.map((c) => c.part.objects[0]!.key)).size);
    expect(state.curated?.tables.inventory_changes_curated).toBe(ds.unique.length);
  });

  it('rebuilds its partition list from the lake when the catalog file is missing (like MSCK REPAIR TABLE)', async () => {
    await rm(join(lake, '_catalog.json'), { force: true });
    const { catalog } = local(lake);
    const table = await catalog.describe();
    expect(Object.keys(table.partitions).sort()).toEqual([...new Set(committed.map((c) => c.part.partition.path))].sort());
    const result = await catalog.refreshCurated();
    expect(result?.tables.inventory_changes_curated).toBe(ds.unique.length);
    await catalog.close();
  });

  it('joins as empty, and says so, when the reference tables were not exported', async () => {
    const other = await mkdtemp(join(tmpdir(), 'duckdb-catalog-noref-'));
    try {
      const w = await RawLakeWriter.open(other);
      const part = await w.writeBatch(ds.batches[0]!.records);
      w.close();
      const { catalog, log } = local(other, { curated: { refresh: 'close' } });
      await catalog.partitionsCommitted([part], Number.MAX_SAFE_INTEGER);
      await catalog.idle();
      expect(catalog.lastBuild).toBeUndefined(); // refresh: close
      await catalog.close();
      expect(catalog.lastBuild?.missingReference).toEqual(['orders', 'customers']);
      expect(catalog.lastBuild?.tables.inventory_changes_curated).toBe(ds.batches[0]!.records.length);
      expect(log.messages('warn')).toContain('reference tables missing: curated joins leave their columns NULL');
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('reports a curated build that fails without throwing into the pipeline', async () => {
    const bad = join(lake, 'bad.sql');
    await writeFile(bad, 'SELECT 1;\n');
    const { catalog, metrics, log } = local(lake, { stateFile: join(lake, 'other-catalog.json'), curated: { sqlFile: bad } });
    await expect(catalog.partitionsCommitted([committed[0]!.part], Number.MAX_SAFE_INTEGER)).resolves.toBeUndefined();
    await catalog.close();
    expect(metrics.counters.get(`${METRIC.curatedRuns}{catalog=duckdb,state=FAILED}`)).toBeGreaterThanOrEqual(1);
    expect(metrics.counters.get(`${METRIC.catalogFailures}{catalog=duckdb,op=curated}`)).toBeGreaterThanOrEqual(1);
    expect(log.entries.find((e) => e.level === 'error')?.obj.error).toMatch(/no "-- @table <name>" sections/);
  });
});

describe('createCatalog', () => {
  const deps = { log: new MemoryLog(), metrics: new MemoryMetrics() };

  it('builds each configured kind and refuses combinations that cannot work, naming them', async () => {
    expect(await createCatalog(CatalogConfig.parse({ type: 'none' }), { ...deps, lakeRoot: '/tmp/lake' })).toBe(NO_CATALOG);
    expect(await createCatalog(CatalogConfig.parse({ type: 'duckdb' }), { ...deps, lakeRoot: '/tmp/lake' })).toBeInstanceOf(LocalDuckDbCatalog);
    const s3 = () => createCatalog(CatalogConfig.parse({ type: 'duckdb' }), { ...deps, lakeRoot: 's3://bucket/raw' });
    await expect(s3()).rejects.toThrow(IntegratorError);
    await expect(s3()).rejects.toThrow(/needs a local lake directory/);
    await expect(createCatalog(CatalogConfig.parse({ type: 'glue', database: 'lake' }), { ...deps, lakeRoot: '/tmp/lake' })).rejects.toThrow(/needs the lake on S3/);
    await expect(createCatalog(CatalogConfig.parse({ type: 'duckdb' }), { ...deps, lakeRoot: '/tmp/lake', format: 'ndjson' })).rejects.toThrow(/set sink.format to parquet/);
  });

  it('rejects unknown keys and bad values in the catalog config', () => {
    expect(CatalogConfig.safeParse({ type: 'glue', database: 'Lake-DB' }).success).toBe(false);
    expect(CatalogConfig.safeParse({ type: 'duckdb', curated: { refresh: 'sometimes' } }).success).toBe(false);
    expect(CatalogConfig.safeParse({ type: 'glue', database: 'lake', crawlr: {} }).success).toBe(false);
  });
});
