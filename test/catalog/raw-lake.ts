import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { InventoryChange } from '../../src/core/model.js';
import type { CommittedPartition, PartitionRef } from '../../src/core/ports.js';
import { ParquetEncoder } from '../../sinks/encoding/parquet.js';
import { objectKey } from '../../sinks/key.js';
import { partitionOf } from '../fixtures/changes.js';

/**
 * Writes raw objects with the sinks' own Parquet encoder and key naming, so the catalog and
 * curated SQL are tested on exactly what the pipeline writes:
 * <lake>/<table>/<partition>/<source>-<stream>-<shard>-<firstSeq>-<lastSeq>.parquet
 */
export class RawLakeWriter {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
    private readonly encoder: ParquetEncoder,
    readonly lakeRoot: string,
    readonly table: string,
  ) {}

  static async open(lakeRoot: string, table = 'inventory_changes'): Promise<RawLakeWriter> {
    const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
    return new RawLakeWriter(instance, await DuckDBConnection.create(instance), new ParquetEncoder({ compression: 'zstd' }), lakeRoot, table);
  }

  /** One object: records of one shard and one partition. Returns the committed partition. */
  async writeBatch(records: readonly InventoryChange[], partition: PartitionRef = partitionOf(records[0]!.eventTime)): Promise<CommittedPartition> {
    const first = records[0]!;
    const last = records[records.length - 1]!;
    const position = (r: InventoryChange) => ({ source: r.source, stream: r.stream, shard: r.shard, seq: r.sequence });
    const key = objectKey(this.table, { partition, records, first: position(first), last: position(last), bytes: 0 }, this.encoder.extension);
    const path = join(this.lakeRoot, key);
    await mkdir(dirname(path), { recursive: true });
    await this.encoder.encodeToFile(records, path);
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
    void this.encoder.close();
    this.conn.closeSync();
    this.instance.closeSync();
  }
}
