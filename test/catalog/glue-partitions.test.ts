import {
  AccessDeniedException,
  BatchCreatePartitionCommand,
  CreateDatabaseCommand,
  CreateTableCommand,
  EntityNotFoundException,
  GetTableCommand,
  ThrottlingException,
  UpdateTableCommand,
} from '@aws-sdk/client-glue';
import { afterEach, describe, expect, it } from 'vitest';
import { RAW_COLUMNS } from '../../src/core/columns.js';
import { METRIC } from '../../src/core/metrics.js';
import { glueCatalog, glueError, hourPartition } from './glue-fixtures.js';

const existingTable = (columns = RAW_COLUMNS.map((c) => ({ Name: c.name, Type: c.type }))) => ({
  Table: {
    Name: 'inventory_changes',
    DatabaseName: 'lake',
    VersionId: '7',
    CreateTime: new Date(),
    TableType: 'EXTERNAL_TABLE',
    Parameters: { classification: 'parquet', owner_note: 'kept' },
    PartitionKeys: [
      { Name: 'dt', Type: 'string' },
      { Name: 'hour', Type: 'string' },
    ],
    StorageDescriptor: {
      Columns: columns,
      Location: 's3://lake-bucket/raw/inventory_changes/',
      InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
      SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
    },
  },
});

describe('Glue catalog, partitions mode', () => {
  let env: ReturnType<typeof glueCatalog>;
  afterEach(() => env.glue.restore());

  it('creates the missing table from RAW_COLUMNS (Parquet SerDe, partition keys, location), then adds partitions in chunks of at most 100', async () => {
    env = glueCatalog();
    env.glue.on(GetTableCommand).rejects(glueError(EntityNotFoundException, 'Table inventory_changes not found'));
    env.glue.on(CreateTableCommand).resolves({});
    env.glue.on(BatchCreatePartitionCommand).resolves({ Errors: [] });
    const parts = Array.from({ length: 250 }, (_, i) => hourPartition(i));

    await env.catalog.partitionsCommitted(parts, 0);

    const create = env.glue.commandCalls(CreateTableCommand)[0]!.args[0].input;
    const t = create.TableInput!;
    expect(create.DatabaseName).toBe('lake');
    expect(t.Name).toBe('inventory_changes');
    expect(t.TableType).toBe('EXTERNAL_TABLE');
    expect(t.PartitionKeys).toEqual([expect.objectContaining({ Name: 'dt', Type: 'string' }), expect.objectContaining({ Name: 'hour', Type: 'string' })]);
    expect(t.StorageDescriptor!.Columns!.map((c) => [c.Name, c.Type])).toEqual(RAW_COLUMNS.map((c) => [c.name, c.type]));
    expect(t.StorageDescriptor!.Location).toBe('s3://lake-bucket/raw/inventory_changes/');
    expect(t.StorageDescriptor!.SerdeInfo!.SerializationLibrary).toBe('org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe');
    expect(t.StorageDescriptor!.InputFormat).toBe('org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat');
    expect(t.StorageDescriptor!.OutputFormat).toBe('org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat');

    const batches = env.glue.commandCalls(BatchCreatePartitionCommand).map((c) => c.args[0].input.PartitionInputList!);
    expect(batches.map((b) => b.length)).toEqual([100, 100, 50]);
    const first = batches[0]![0]!;
    expect(first.Values).toEqual(['2026-11-21', '00']);
    expect(first.StorageDescriptor!.Location).toBe('s3://lake-bucket/raw/inventory_changes/dt=2026-11-21/hour=00/');
    expect(env.metrics.total(METRIC.catalogFailures)).toBe(0);

    // Registered partitions are remembered: committing them again costs no call.
    await env.catalog.partitionsCommitted(parts.slice(0, 10), 0);
    expect(env.glue.commandCalls(BatchCreatePartitionCommand)).toHaveLength(3);
    expect(env.glue.commandCalls(GetTableCommand)).toHaveLength(1);
  });

  it('leaves extra partition keys out of the data columns, since Athena refuses a column that is both', async () => {
    env = glueCatalog();
    env.glue.on(GetTableCommand).rejects(glueError(EntityNotFoundException));
    env.glue.on(CreateTableCommand).resolves({});
    env.glue.on(BatchCreatePartitionCommand).resolves({});

    await env.catalog.partitionsCommitted([hourPartition(3, { warehouse_id: 'WH 1/x' })], 0);

    const t = env.glue.commandCalls(CreateTableCommand)[0]!.args[0].input.TableInput!;
    expect(t.PartitionKeys!.map((k) => k.Name)).toEqual(['dt', 'hour', 'warehouse_id']);
    expect(t.StorageDescriptor!.Columns!.map((c) => c.Name)).not.toContain('warehouse_id');
    const p = env.glue.commandCalls(BatchCreatePartitionCommand)[0]!.args[0].input.PartitionInputList![0]!;
    expect(p.Values).toEqual(['2026-11-21', '03', 'WH 1/x']);
  });

  it('creates the database too when it is missing and createDatabase is on', async () => {
    env = glueCatalog({ createDatabase: true });
    env.glue.on(GetTableCommand).rejects(glueError(EntityNotFoundException));
    env.glue.on(CreateTableCommand).rejectsOnce(glueError(EntityNotFoundException, 'Database lake not found')).resolves({});
    env.glue.on(CreateDatabaseCommand).resolves({});
    env.glue.on(BatchCreatePartitionCommand).resolves({});

    await env.catalog.partitionsCommitted([hourPartition(0)], 0);

    expect(env.glue.commandCalls(CreateDatabaseCommand)[0]!.args[0].input.DatabaseInput!.Name).toBe('lake');
    expect(env.glue.commandCalls(CreateTableCommand)).toHaveLength(2);
    expect(env.glue.commandCalls(BatchCreatePartitionCommand)).toHaveLength(1);
  });

  it('treats partitions that already exist as registered', async () => {
    env = glueCatalog();
    env.glue.on(GetTableCommand).resolves(existingTable());
    env.glue.on(BatchCreatePartitionCommand).resolves({
      Errors: [
        { PartitionValues: ['2026-11-21', '00'], ErrorDetail: { ErrorCode: 'AlreadyExistsException', ErrorMessage: 'Partition already exists.' } },
        { PartitionValues: ['2026-11-21', '01'], ErrorDetail: { ErrorCode: 'AlreadyExistsException', ErrorMessage: 'Partition already exists.' } },
      ],
    });

    await env.catalog.partitionsCommitted([hourPartition(0), hourPartition(1), hourPartition(2)], 0);
    await env.catalog.partitionsCommitted([hourPartition(0), hourPartition(1), hourPartition(2)], 0);

    expect(env.glue.commandCalls(BatchCreatePartitionCommand)).toHaveLength(1);
    expect(env.glue.commandCalls(CreateTableCommand)).toHaveLength(0);
    expect(env.glue.commandCalls(UpdateTableCommand)).toHaveLength(0);
    expect(env.metrics.total(METRIC.catalogFailures)).toBe(0);
    expect(env.log.messages('error')).toEqual([]);
  });

  it('retries throttled calls and throttled partition entries with backoff, without counting a failure', async () => {
    env = glueCatalog();
    env.glue.on(GetTableCommand).rejectsOnce(glueError(ThrottlingException, 'Rate exceeded')).resolves(existingTable());
    env.glue
      .on(BatchCreatePartitionCommand)
      .rejectsOnce(glueError(ThrottlingException, 'Rate exceeded'))
      .resolvesOnce({ Errors: [{ PartitionValues: ['2026-11-21', '01'], ErrorDetail: { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' } }] })
      .resolves({});

    await env.catalog.partitionsCommitted([hourPartition(0), hourPartition(1)], 0);

    const calls = env.glue.commandCalls(BatchCreatePartitionCommand).map((c) => c.args[0].input.PartitionInputList!.map((p) => p.Values![1]));
    expect(calls).toEqual([
      ['00', '01'],
      ['00', '01'],
      ['01'],
    ]);
    expect(env.metrics.total(METRIC.catalogCalls)).toBe(5); // 2 GetTable + 3 BatchCreatePartition
    expect(env.metrics.total(METRIC.catalogFailures)).toBe(0);
    expect(env.log.messages('warn')).toContain('glue call failed; retrying');
  });

  it('never throws when Glue keeps failing: counts and logs the failure, keeps the partitions and registers them on a later commit', async () => {
    env = glueCatalog();
    env.glue.on(GetTableCommand).resolves(existingTable());
    env.glue.on(BatchCreatePartitionCommand).rejectsOnce(glueError(AccessDeniedException, 'not authorized')).resolves({});

    await expect(env.catalog.partitionsCommitted([hourPartition(0)], 0)).resolves.toBeUndefined();
    expect(env.metrics.counters.get(`${METRIC.catalogFailures}{catalog=glue,op=BatchCreatePartition}`)).toBe(1);
    expect(env.log.entries.find((e) => e.level === 'error')?.obj).toMatchObject({ op: 'BatchCreatePartition', error: 'AccessDeniedException' });
    expect(env.catalog.registrar!.pendingCount).toBe(1);

    await env.catalog.partitionsCommitted([hourPartition(1)], 0);
    const second = env.glue.commandCalls(BatchCreatePartitionCommand)[1]!.args[0].input.PartitionInputList!;
    expect(second.map((p) => p.Values![1])).toEqual(['00', '01']);
    expect(env.catalog.registrar!.pendingCount).toBe(0);
  });

  it('gives up on throttling after the configured attempts, still without throwing', async () => {
    env = glueCatalog();
    env.glue.on(GetTableCommand).resolves(existingTable());
    env.glue.on(BatchCreatePartitionCommand).rejects(glueError(ThrottlingException));

    await env.catalog.partitionsCommitted([hourPartition(0)], 0);

    expect(env.glue.commandCalls(BatchCreatePartitionCommand)).toHaveLength(4);
    expect(env.metrics.total(METRIC.catalogFailures)).toBe(1);
    expect(env.catalog.registrar!.pendingCount).toBe(1);
  });

  it('adds new raw columns to an existing table with UpdateTable, keeping its columns, keys and parameters', async () => {
    env = glueCatalog();
    const older = RAW_COLUMNS.filter((c) => c.name !== 'enrichment_failed' && c.name !== 'order_info').map((c) => ({ Name: c.name, Type: c.type }));
    older.push({ Name: 'legacy_note', Type: 'string' });
    env.glue.on(GetTableCommand).resolves(existingTable(older));
    env.glue.on(UpdateTableCommand).resolves({});
    env.glue.on(BatchCreatePartitionCommand).resolves({});

    await env.catalog.partitionsCommitted([hourPartition(0)], 0);

    const update = env.glue.commandCalls(UpdateTableCommand)[0]!.args[0].input;
    const cols = update.TableInput!.StorageDescriptor!.Columns!.map((c) => c.Name);
    expect(cols.slice(0, older.length)).toEqual(older.map((c) => c.Name)); // old order untouched
    expect(cols.slice(older.length)).toEqual(['enrichment_failed', 'order_info']); // appended
    expect(update.VersionId).toBe('7');
    expect(update.TableInput!.PartitionKeys!.map((k) => k.Name)).toEqual(['dt', 'hour']);
    expect(update.TableInput!.Parameters).toMatchObject({ owner_note: 'kept' });
    expect(update.TableInput).not.toHaveProperty('DatabaseName');
    expect(update.TableInput).not.toHaveProperty('CreateTime');
    // New partitions describe the files they hold: the full current schema.
    const p = env.glue.commandCalls(BatchCreatePartitionCommand)[0]!.args[0].input.PartitionInputList![0]!;
    expect(p.StorageDescriptor!.Columns!.map((c) => c.Name)).toEqual(cols);
  });

  it('reports a column whose type changed instead of retyping it under older partitions', async () => {
    env = glueCatalog();
    const cols = RAW_COLUMNS.map((c) => ({ Name: c.name, Type: c.name === 'delta' ? 'int' : c.type }));
    env.glue.on(GetTableCommand).resolves(existingTable(cols));
    env.glue.on(BatchCreatePartitionCommand).resolves({});

    await env.catalog.partitionsCommitted([hourPartition(0)], 0);

    expect(env.glue.commandCalls(UpdateTableCommand)).toHaveLength(0);
    expect(env.metrics.counters.get(`${METRIC.catalogFailures}{catalog=glue,op=SchemaConflict}`)).toBe(1);
    expect(env.log.entries.find((e) => e.obj.op === 'SchemaConflict')?.obj.conflicts).toEqual([{ name: 'delta', glueType: 'int', rawType: 'bigint' }]);
    expect(env.glue.commandCalls(BatchCreatePartitionCommand)).toHaveLength(1);
  });

  it('refuses, loudly, a partition whose keys do not match the table', async () => {
    env = glueCatalog();
    env.glue.on(GetTableCommand).resolves(existingTable());
    env.glue.on(BatchCreatePartitionCommand).resolves({});

    await env.catalog.partitionsCommitted([hourPartition(0, { source: 'kafka' }), hourPartition(1)], 0);

    expect(env.glue.commandCalls(BatchCreatePartitionCommand)[0]!.args[0].input.PartitionInputList).toHaveLength(1);
    const err = env.log.entries.find((e) => e.obj.op === 'PartitionInput');
    expect(err?.obj.message).toMatch(/has keys source the table does not/);
  });

  it('re-creates the table when it vanished between calls', async () => {
    env = glueCatalog();
    env.glue.on(GetTableCommand).resolvesOnce(existingTable()).rejects(glueError(EntityNotFoundException));
    env.glue.on(CreateTableCommand).resolves({});
    env.glue.on(BatchCreatePartitionCommand).rejectsOnce(glueError(EntityNotFoundException, 'Table not found')).resolves({});

    await env.catalog.partitionsCommitted([hourPartition(0)], 0);

    expect(env.glue.commandCalls(CreateTableCommand)).toHaveLength(1);
    expect(env.glue.commandCalls(BatchCreatePartitionCommand)).toHaveLength(2);
    expect(env.catalog.registrar!.pendingCount).toBe(0);
  });
});
