import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBConnection, DuckDBInstance, timestampValue } from '@duckdb/node-api';
import { IntegratorError } from '../core/errors.js';
import { sqlString } from './duckdb-sql.js';

/**
 * The reference tables the curated SQL joins with, as the lake holds them: Parquet under
 * <lake>/reference/<table>/. Locally the demo exports them from the operational database; in AWS
 * the Glue job reads the same layout from S3 (or catalog tables, see curated_job.py).
 */
export type ReferenceType = 'VARCHAR' | 'DOUBLE' | 'TIMESTAMP';
export interface ReferenceColumn {
  readonly name: string;
  readonly type: ReferenceType;
  /** The join key: a row without it is refused. */
  readonly key?: boolean;
}

export const REFERENCE_TABLES = {
  orders: [
    { name: 'order_id', type: 'VARCHAR', key: true },
    { name: 'customer_id', type: 'VARCHAR' },
    { name: 'channel', type: 'VARCHAR' },
    { name: 'status', type: 'VARCHAR' },
    { name: 'total_amount', type: 'DOUBLE' },
    { name: 'placed_at', type: 'TIMESTAMP' },
  ],
  customers: [
    { name: 'customer_id', type: 'VARCHAR', key: true },
    { name: 'name', type: 'VARCHAR' },
    { name: 'tier', type: 'VARCHAR' },
    { name: 'country', type: 'VARCHAR' },
  ],
} as const satisfies Record<string, readonly ReferenceColumn[]>;
export type ReferenceTable = keyof typeof REFERENCE_TABLES;

export const referenceDirOf = (lakeRoot: string, table: ReferenceTable, referenceDir = 'reference'): string => join(lakeRoot, referenceDir, table);

export interface ExportOptions {
  /** Reference column ← source column, for sources that name them otherwise, e.g. { order_id: 'id' }. */
  readonly columns?: Readonly<Record<string, string>>;
  readonly referenceDir?: string;
}

/** A pg QueryResult ({ rows }), a mysql2 result ([rows, fields]), or the rows themselves. */
export type RowsLike = readonly object[] | { readonly rows: readonly object[] } | readonly [readonly object[], unknown];

export function rowsOf(result: RowsLike): readonly object[] {
  if (!Array.isArray(result)) return (result as { rows: readonly object[] }).rows;
  // mysql2's [rows, fields]: an array whose first element is itself the array of rows.
  if (result.length === 2 && Array.isArray(result[0]) && (result[1] === undefined || Array.isArray(result[1]))) return result[0] as readonly object[];
  return result as readonly object[];
}

/**
 * Writes rows (a pg or mysql2 query result, or plain objects) as the reference table's
 * Parquet, replacing what was there. Columns the table does not define are ignored; values are
 * converted to the column type, and a value that cannot be is an error naming row and column.
 */
export async function exportReferenceRows(
  lakeRoot: string,
  table: ReferenceTable,
  result: RowsLike,
  opts: ExportOptions = {},
): Promise<{ path: string; rows: number }> {
  const rows = rowsOf(result);
  const cols: readonly ReferenceColumn[] = REFERENCE_TABLES[table];
  if (!cols) throw new IntegratorError('CONFIG_INVALID', `unknown reference table "${String(table)}" (known: ${Object.keys(REFERENCE_TABLES).join(', ')})`);
  const dir = referenceDirOf(lakeRoot, table, opts.referenceDir);
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await DuckDBConnection.create(instance);
  try {
    await conn.run(`CREATE TABLE ref (${cols.map((c) => `${c.name} ${c.type}`).join(', ')})`);
    const appender = await conn.createAppender('ref');
    rows.forEach((row, i) => {
      for (const c of cols) appendValue(appender, c, (row as Record<string, unknown>)[opts.columns?.[c.name] ?? c.name], table, i);
      appender.endRow();
    });
    appender.closeSync();
    await mkdir(tmp, { recursive: true });
    await conn.run(`COPY ref TO ${sqlString(join(tmp, 'part-00000.parquet'))} (FORMAT parquet)`);
    await rm(dir, { recursive: true, force: true });
    await mkdir(join(dir, '..'), { recursive: true });
    await rename(tmp, dir);
    return { path: dir, rows: rows.length };
  } finally {
    conn.closeSync();
    instance.closeSync();
    await rm(tmp, { recursive: true, force: true });
  }
}

type Appender = Awaited<ReturnType<DuckDBConnection['createAppender']>>;

function appendValue(a: Appender, col: ReferenceColumn, v: unknown, table: string, row: number): void {
  const bad = (why: string) =>
    new IntegratorError('RECORD_INVALID', `reference ${table} row ${row}: column ${col.name} ${why} (value ${JSON.stringify(String(v)).slice(0, 80)})`);
  if (v === null || v === undefined) {
    if (col.key) throw bad('is the join key and must not be empty');
    a.appendNull();
    return;
  }
  switch (col.type) {
    case 'VARCHAR':
      a.appendVarchar(v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v));
      return;
    case 'DOUBLE': {
      const n = typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      if (!Number.isFinite(n)) throw bad('is not a number');
      a.appendDouble(n);
      return;
    }
    case 'TIMESTAMP': {
      const ms = v instanceof Date ? v.getTime() : typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : NaN;
      if (!Number.isFinite(ms)) throw bad('is not a timestamp');
      a.appendTimestamp(timestampValue(BigInt(Math.round(ms)) * 1000n));
      return;
    }
  }
}
