import type { Column, PartitionInput, StorageDescriptor, Table, TableInput } from '@aws-sdk/client-glue';
import { RAW_COLUMNS, type LakeColumn } from '../core/columns.js';
import { IntegratorError } from '../core/errors.js';
import type { PartitionRef } from '../core/ports.js';

/** Storage of the raw objects as Hive and Athena name it; the sink writes Parquet or NDJSON.gz. */
export type LakeFormat = 'parquet' | 'ndjson';

const FORMATS: Record<LakeFormat, Omit<StorageDescriptor, 'Columns' | 'Location'>> = {
  parquet: {
    InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
    OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
    SerdeInfo: {
      SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
      Parameters: { 'serialization.format': '1' },
    },
    Compressed: false,
    StoredAsSubDirectories: false,
  },
  ndjson: {
    InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
    OutputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
    SerdeInfo: {
      SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
      Parameters: { 'serialization.format': '1', 'ignore.malformed.json': 'false' },
    },
    Compressed: true,
    StoredAsSubDirectories: false,
  },
};

export const glueColumns = (cols: readonly LakeColumn[] = RAW_COLUMNS): Column[] =>
  cols.map((c) => ({ Name: c.name, Type: c.type, Comment: c.comment }));

/** Partition keys are strings: their values come from Hive paths, and projection matches on text. */
export const gluePartitionKeys = (keys: readonly string[]): Column[] =>
  keys.map((k) => ({ Name: k, Type: 'string', Comment: k === 'dt' ? 'event date, UTC (YYYY-MM-DD)' : k === 'hour' ? 'event hour, UTC (00-23)' : `partition key ${k}` }));

export function withSlash(location: string): string {
  return location.endsWith('/') ? location : `${location}/`;
}

/**
 * The table's data columns: the raw columns except those that are also partition keys. Extra
 * partition keys (warehouse_id, event_type, source) repeat a column the files hold, and Athena
 * refuses a column that is both; the partition value (the same value, from the catalog) serves.
 */
export function dataColumns(partitionKeys: readonly string[], cols: readonly LakeColumn[] = RAW_COLUMNS): LakeColumn[] {
  return cols.filter((c) => !partitionKeys.includes(c.name));
}

export interface RawTableSpec {
  readonly name: string;
  /** s3://bucket/prefix/table/ */
  readonly location: string;
  readonly format: LakeFormat;
  readonly partitionKeys: readonly string[];
  readonly columns?: readonly LakeColumn[];
}

export function rawTableInput(spec: RawTableSpec): TableInput {
  const columns = dataColumns(spec.partitionKeys, spec.columns);
  return {
    Name: spec.name,
    Description: 'Raw inventory changes written by inventory-integrator (at least once; curated tables deduplicate)',
    TableType: 'EXTERNAL_TABLE',
    Parameters: {
      EXTERNAL: 'TRUE',
      classification: spec.format === 'parquet' ? 'parquet' : 'json',
      ...(spec.format === 'ndjson' ? { compressionType: 'gzip' } : {}),
      'inventory_integrator.managed': 'true',
    },
    PartitionKeys: gluePartitionKeys(spec.partitionKeys),
    StorageDescriptor: { ...FORMATS[spec.format], Columns: glueColumns(columns), Location: withSlash(spec.location) },
  };
}

/** One partition: the table's storage with the partition's own location and the current columns. */
export function partitionInput(table: TableInput, keys: readonly string[], part: PartitionRef): PartitionInput {
  const values = keys.map((k) => {
    const v = part.values[k];
    if (v === undefined) {
      throw new IntegratorError('CATALOG_FAILED', `partition "${part.path}" has no value for key "${k}" (table keys: ${keys.join(', ')})`, {
        details: { partition: part.path },
      });
    }
    return v;
  });
  const extra = Object.keys(part.values).filter((k) => !keys.includes(k));
  if (extra.length > 0) {
    throw new IntegratorError('CATALOG_FAILED', `partition "${part.path}" has keys ${extra.join(', ')} the table does not (table keys: ${keys.join(', ')})`, {
      details: { partition: part.path },
    });
  }
  const sd = table.StorageDescriptor ?? {};
  return {
    Values: values,
    StorageDescriptor: { ...sd, Location: `${withSlash(sd.Location ?? '')}${part.path}/` },
    Parameters: {},
  };
}

export interface SchemaPlan {
  /** Columns of the table after the change (existing first, in their order; new ones appended). */
  readonly columns: Column[];
  readonly added: readonly string[];
  /** Columns whose type differs: never changed in place, since old partitions hold the old type. */
  readonly conflicts: readonly { name: string; glueType: string; rawType: string }[];
}

/**
 * Merges the raw schema into an existing table without breaking older partitions: columns are only
 * appended (Parquet and the JSON SerDe resolve columns by name, so old files read them as NULL);
 * nothing is dropped, renamed or retyped.
 */
export function planSchema(existing: readonly Column[], wanted: readonly LakeColumn[] = RAW_COLUMNS): SchemaPlan {
  const byName = new Map(existing.map((c) => [(c.Name ?? '').toLowerCase(), c]));
  const added: string[] = [];
  const conflicts: { name: string; glueType: string; rawType: string }[] = [];
  const columns = existing.map((c) => ({ ...c }));
  for (const w of wanted) {
    const have = byName.get(w.name);
    if (!have) {
      columns.push({ Name: w.name, Type: w.type, Comment: w.comment });
      added.push(w.name);
    } else if (normalizeType(have.Type) !== normalizeType(w.type)) {
      conflicts.push({ name: w.name, glueType: have.Type ?? '?', rawType: w.type });
    }
  }
  return { columns, added, conflicts };
}

const normalizeType = (t: string | undefined): string => (t ?? '').toLowerCase().replace(/\s+/g, '');

/** The writable part of a Table, as UpdateTable wants it back (read-only fields removed). */
export function tableInputOf(t: Table): TableInput {
  return {
    Name: t.Name,
    Description: t.Description,
    Owner: t.Owner,
    Retention: t.Retention,
    StorageDescriptor: t.StorageDescriptor,
    PartitionKeys: t.PartitionKeys,
    TableType: t.TableType,
    Parameters: t.Parameters,
    ViewOriginalText: t.ViewOriginalText,
    ViewExpandedText: t.ViewExpandedText,
    TargetTable: t.TargetTable,
  };
}
