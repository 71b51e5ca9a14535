import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { DuckDBInstance } from '@duckdb/node-api';
import { eventIdOf } from '../../src/core/event-id.js';
import { putRecordsPlaced } from '../stack/kinesis-put.js';

/** Every Parquet object under `dir` (the lake), skipping staging files. */
export async function parquetFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = join(d, e.name);
      if (e.name.startsWith('.')) continue; // staging files (.tmp) come and go
      if (e.isDirectory()) await walk(p);
      else if (e.name.endsWith('.parquet')) out.push(p);
    }
  };
  await walk(dir);
  return out.sort();
}

/** The event ids in the lake's Parquet objects, with how often each occurs. */
export async function lakeEventIds(dir: string): Promise<Map<string, number>> {
  const files = await parquetFiles(dir);
  const counts = new Map<string, number>();
  if (files.length === 0) return counts;
  const db = await DuckDBInstance.create(':memory:');
  try {
    const conn = await db.connect();
    const list = files.map((f) => `'${f.replaceAll("'", "''")}'`).join(', ');
    const rows = (await conn.runAndReadAll(`SELECT event_id, count(*) AS n FROM read_parquet([${list}]) GROUP BY event_id`)).getRowObjectsJS();
    for (const r of rows) counts.set(String(r.event_id), Number(r.n));
    conn.closeSync();
  } finally {
    db.closeSync();
  }
  return counts;
}

/**
 * Puts records and remembers the event id each will get (it follows from the shard and sequence
 * number PutRecords reports), so a test can ask the lake for exactly those.
 */
export class Producer {
  readonly eventIds: string[] = [];
  private n = 0;

  constructor(
    private readonly client: Pick<KinesisClient, 'send'>,
    private readonly stream: string,
    /** The i-th record: its data, or its data and partition key (default `pk-<i>`). */
    private readonly line: (i: number) => string | { readonly pk: string; readonly data: string },
  ) {}

  async put(count: number): Promise<void> {
    for (let left = count; left > 0; left -= 500) await this.putBatch(Math.min(500, left));
  }

  private async putBatch(count: number): Promise<void> {
    const entries = Array.from({ length: count }, () => {
      const i = this.n++;
      const r = this.line(i);
      return typeof r === 'string' ? { PartitionKey: `pk-${i}`, Data: Buffer.from(r) } : { PartitionKey: r.pk, Data: Buffer.from(r.data) };
    });
    for (const r of await putRecordsPlaced(this.client, this.stream, entries)) {
      this.eventIds.push(eventIdOf({ source: 'kinesis', stream: this.stream, shard: r.shard, seq: r.seq }));
    }
  }
}
