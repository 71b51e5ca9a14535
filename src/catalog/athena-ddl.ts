import { RAW_COLUMNS } from '../core/columns.js';
import { dataColumns } from './glue-table.js';

/**
 * Athena DDL for the lake, generated from the same column lists the writers use, so the README's
 * statements cannot drift from the files (a test compares docs/athena.md with this output).
 */
export interface HiveColumn {
  readonly name: string;
  readonly type: string;
  readonly comment?: string;
}

/** Columns of the curated tables as deploy/glue/curated.sql produces them (dt is the partition). */
export const CURATED_SCHEMAS: Readonly<Record<string, { columns: readonly HiveColumn[]; partitionedByDt: boolean }>> = {
  inventory_changes_curated: {
    partitionedByDt: true,
    columns: [
      ...['event_id', 'source', 'stream', 'shard', 'sequence', 'event_type', 'sku', 'warehouse_id'].map((name) => ({ name, type: 'string' })),
      { name: 'quantity_before', type: 'bigint' },
      { name: 'quantity_after', type: 'bigint' },
      { name: 'delta', type: 'bigint' },
      { name: 'order_id', type: 'string' },
      { name: 'customer_id', type: 'string', comment: 'customer of the event, else of its order' },
      { name: 'event_time', type: 'timestamp' },
      { name: 'ingest_time', type: 'timestamp' },
      { name: 'enrichment_status', type: 'string' },
      { name: 'order_channel', type: 'string' },
      { name: 'order_status', type: 'string' },
      { name: 'order_total_amount', type: 'double' },
      { name: 'order_placed_at', type: 'timestamp' },
      { name: 'customer_name', type: 'string' },
      { name: 'customer_tier', type: 'string' },
      { name: 'customer_country', type: 'string' },
    ],
  },
  inventory_snapshot: {
    partitionedByDt: false,
    columns: [
      { name: 'sku', type: 'string' },
      { name: 'warehouse_id', type: 'string' },
      { name: 'quantity', type: 'bigint', comment: 'NULL when the last change removed the item' },
      { name: 'as_of', type: 'timestamp' },
      { name: 'last_event_type', type: 'string' },
      { name: 'last_event_id', type: 'string' },
    ],
  },
  inventory_daily: {
    partitionedByDt: true,
    columns: [
      { name: 'warehouse_id', type: 'string' },
      { name: 'sku', type: 'string' },
      { name: 'units_sold', type: 'bigint' },
      { name: 'units_restocked', type: 'bigint' },
      { name: 'units_returned', type: 'bigint' },
      { name: 'net_change', type: 'bigint' },
      { name: 'distinct_customers', type: 'bigint' },
      { name: 'events', type: 'bigint' },
    ],
  },
};

export interface DdlTarget {
  readonly database: string;
  /** s3://bucket/prefix of the lake (the sink's location). */
  readonly lakeRoot: string;
  readonly table?: string;
  /** Partition keys after dt and hour, as the partitioner names them (e.g. warehouse_id). */
  readonly extraKeys?: readonly string[];
}

const slash = (s: string) => (s.endsWith('/') ? s : `${s}/`);
/** Hive DDL string literal; the texts here carry no quotes, and one would be a bug to see at once. */
const quote = (s: string) => {
  if (s.includes("'")) throw new Error(`no quotes in DDL literals: ${s}`);
  return `'${s}'`;
};

function columnsBlock(cols: readonly HiveColumn[]): string {
  const width = Math.max(...cols.map((c) => c.name.length));
  return cols.map((c, i) => `  ${c.name.padEnd(width)} ${c.type}${c.comment ? ` COMMENT ${quote(c.comment)}` : ''}${i < cols.length - 1 ? ',' : ''}`).join('\n');
}

function rawHead(t: DdlTarget): { name: string; keys: string[]; location: string; body: string } {
  const table = t.table ?? 'inventory_changes';
  const keys = ['dt', 'hour', ...(t.extraKeys ?? [])];
  const cols = dataColumns(keys, RAW_COLUMNS).map((c) => ({ name: c.name, type: c.type, comment: c.comment }));
  const location = `${slash(t.lakeRoot)}${table}/`;
  const body = [
    `CREATE EXTERNAL TABLE IF NOT EXISTS ${t.database}.${table} (`,
    columnsBlock(cols),
    ')',
    `PARTITIONED BY (${keys.map((k) => `${k} string`).join(', ')})`,
    'STORED AS PARQUET',
    `LOCATION ${quote(location)}`,
  ].join('\n');
  return { name: `${t.database}.${table}`, keys, location, body };
}

/** The raw table with partitions registered by the integrator (or MSCK REPAIR TABLE). */
export function rawTableDdl(t: DdlTarget): string {
  return `${rawHead(t).body}\nTBLPROPERTIES ('parquet.compression' = 'ZSTD');`;
}

/**
 * The raw table with partition projection: Athena computes the partitions from the query's
 * predicates, so no catalog partitions are needed at all (catalog.type can then be "none").
 */
export function rawTableProjectionDdl(t: DdlTarget, firstDay = '2026-01-01'): string {
  const h = rawHead(t);
  const extra = h.keys.slice(2);
  const props = [
    `'projection.enabled' = 'true'`,
    `'projection.dt.type' = 'date'`,
    `'projection.dt.format' = 'yyyy-MM-dd'`,
    `'projection.dt.range' = '${firstDay},NOW'`,
    `'projection.dt.interval' = '1'`,
    `'projection.dt.interval.unit' = 'DAYS'`,
    `'projection.hour.type' = 'integer'`,
    `'projection.hour.range' = '0,23'`,
    `'projection.hour.digits' = '2'`,
    ...extra.map((k) => `'projection.${k}.type' = 'injected'`),
    `'storage.location.template' = ${quote(`${h.location}${h.keys.map((k) => `${k}=\${${k}}`).join('/')}/`)}`,
  ];
  return `${h.body.replace(`${h.name} (`, `${h.name}_projected (`)}\nTBLPROPERTIES (\n  ${props.join(',\n  ')}\n);`;
}

/** The curated tables the Glue job (or DuckDB) writes under <lake>/curated/. */
export function curatedTableDdl(t: { database: string; curatedRoot: string }, table: keyof typeof CURATED_SCHEMAS & string): string {
  const s = CURATED_SCHEMAS[table]!;
  const location = `${slash(t.curatedRoot)}${table}/`;
  const lines = [`CREATE EXTERNAL TABLE IF NOT EXISTS ${t.database}.${table} (`, columnsBlock(s.columns), ')'];
  if (s.partitionedByDt) lines.push('PARTITIONED BY (dt string)');
  lines.push('STORED AS PARQUET', `LOCATION ${quote(location)}`);
  if (s.partitionedByDt) {
    lines.push(
      'TBLPROPERTIES (',
      `  'projection.enabled' = 'true',`,
      `  'projection.dt.type' = 'date',`,
      `  'projection.dt.format' = 'yyyy-MM-dd',`,
      `  'projection.dt.range' = '2026-01-01,NOW',`,
      `  'projection.dt.interval' = '1',`,
      `  'projection.dt.interval.unit' = 'DAYS',`,
      `  'storage.location.template' = ${quote(`${location}dt=\${dt}/`)}`,
      ');',
    );
  } else {
    lines[lines.length - 1] += ';';
  }
  return lines.join('\n');
}
