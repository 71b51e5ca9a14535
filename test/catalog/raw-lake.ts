import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { RAW_COLUMNS } from '../../src/core/columns.js';
import type { InventoryChange } from '../../src/core/model.js';
import type { CommittedPartition, PartitionRef } from '../../src/core/ports.js';
import { DUCKDB_TYPE, sqlString } from '../../src/catalog/duckdb-sql.js';
import { partitionOf } from '../fixtures/changes.js';

/** One change as a raw row: RAW_COLUMNS names, timestamps as UTC text DuckDB parses. */
function rawRow(r: InventoryChange): Record<string, unknown> {
  const ts = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
  return {
    event_id: r.eventId,
    source: r.source,
    stream: r.stream,
    shard: r.shard,
    sequence: r.sequence,
    event_type: r.eventType,
    sku: r.sku,
    warehouse_id: r.warehouseId,
    quantity_before: r.quantityBefore,
    quantity_after: r.quantityAfter,
    delta: r.delta,
    order_id: r.orderId,
    customer_id: r.customerId,
    event_time: ts(r.eventTime),
    ingest_time: ts(r.ingestTime),
    enrichment_status: r.enrichment.status,
    enrichment_failed: r.enrichment.failed,
    customer: r.enrichment.customer,
    order_info: r.enrichment.order,
  };
}

const COLUMNS_SPEC = `{${RAW_COLUMNS.map((c) => `${c.name}: '${DUCKDB_TYPE[c.type]}'`).join(', ')}}`;

/**
 * Writes raw objects the way the sinks lay them out, with the RAW_COLUMNS Parquet types:
 * <lake>/<table>/<partition>/<source>-<stream>-<shard>-<firstSeq>-<lastSeq>.parquet
 */
export class RawLakeWriter {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
    readonly lakeRoot: string,
    readonly table: string,
  ) {}

  static async open(lakeRoot: string, table = 'inventory_changes'): Promise<RawLakeWriter> {
    const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
    return new RawLakeWriter(instance, await DuckDBConnection.create(instance), lakeRoot, table);
  }

  /** One object: records of one shard and one partition. Returns the committed partition. */
  async writeBatch(records: readonly InventoryChange[], partition: PartitionRef = partitionOf(records[0]!.eventTime)): Promise<CommittedPartition> {
    const first = records[0]!;
    const last = records[records.length - 1]!;
    const name = `${first.source}-${first.stream}-${first.shard}-${first.sequence}-${last.sequence}.parquet`;
    const key = `${this.table}/${partition.path}/${name}`;
    const path = join(this.lakeRoot, key);
    await mkdir(dirname(path), { recursive: true });
    const ndjson = `${path}.ndjson`;
    await writeFile(ndjson, records.map((r) => JSON.stringify(rawRow(r))).join('\n') + '\n');
    try {
      await this.conn.run(
        `COPY (SELECT * FROM read_json(${sqlString(ndjson)}, columns = ${COLUMNS_SPEC}, format = 'newline_delimited')) TO ${sqlString(path)} (FORMAT parquet, COMPRESSION zstd)`,
      );
    } finally {
      await rm(ndjson, { force: true });
    }
    const times = records.map((r) => r.eventTime);
    return {
      table: this.table,
      partition,
      objects: [{ key, records: records.length, bytes: 0, partition }],
      minEventTime: Math.min(...times),
      maxEventTime: Math.max(...times),
    };
  }

  /** Reads a Parquet file or glob back as plain JS objects. */
  async query(sql: string): Promise<Record<string, unknown>[]> {
    return (await this.conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
  }

  close(): void {
    this.conn.closeSync();
    this.instance.closeSync();
  }
}
