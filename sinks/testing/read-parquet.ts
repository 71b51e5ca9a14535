import { DuckDBInstance } from '@duckdb/node-api';
import type { InventoryChange } from '../../src/core/model.js';

/**
 * Reads lake Parquet back into InventoryChange objects with DuckDB, for tests that compare what
 * was written row for row with what went in. `paths` may be a file, a glob or a list.
 */
export async function readChangesFromParquet(paths: string | readonly string[]): Promise<InventoryChange[]> {
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await db.connect();
  try {
    const list = (typeof paths === 'string' ? [paths] : paths).map((p) => `'${p.replaceAll("'", "''")}'`).join(', ');
    const reader = await con.runAndReadAll(`SELECT * REPLACE (epoch_ms(event_time) AS event_time, epoch_ms(ingest_time) AS ingest_time) FROM read_parquet([${list}])`);
    return reader.getRowObjectsJS().map((row) => toChange(row as Record<string, unknown>));
  } finally {
    con.closeSync();
    db.closeSync();
  }
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v as bigint));

function toMap(v: unknown): Record<string, string | null> | null {
  if (v === null || v === undefined) return null;
  const out: Record<string, string | null> = {};
  for (const e of v as Array<{ key: string; value: string | null }>) out[e.key] = e.value;
  return out;
}

function toChange(r: Record<string, unknown>): InventoryChange {
  return {
    eventId: r.event_id as string,
    source: r.source as InventoryChange['source'],
    stream: r.stream as string,
    shard: r.shard as string,
    sequence: r.sequence as string,
    eventType: r.event_type as InventoryChange['eventType'],
    sku: r.sku as string,
    warehouseId: r.warehouse_id as string,
    quantityBefore: num(r.quantity_before),
    quantityAfter: num(r.quantity_after),
    delta: num(r.delta)!,
    orderId: r.order_id as string | null,
    customerId: r.customer_id as string | null,
    eventTime: num(r.event_time)!,
    ingestTime: num(r.ingest_time)!,
    enrichment: {
      status: r.enrichment_status as InventoryChange['enrichment']['status'],
      failed: r.enrichment_failed as string[],
      customer: toMap(r.customer),
      order: toMap(r.order_info),
    },
  };
}

/** Column names and DuckDB types of a Parquet file, in file order. */
export async function parquetColumns(path: string): Promise<Array<{ name: string; type: string }>> {
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await db.connect();
  try {
    const reader = await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${path.replaceAll("'", "''")}')`);
    return reader.getRowObjectsJS().map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
  } finally {
    con.closeSync();
    db.closeSync();
  }
}
