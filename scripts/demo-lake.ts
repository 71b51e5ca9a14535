import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { sqlString } from '../src/catalog/duckdb-sql.js';

/** One raw row as the demo checks it. */
export interface LakeRow {
  readonly eventId: string;
  readonly source: string;
  readonly shard: string;
  readonly sequence: string;
  readonly eventType: string;
  readonly sku: string;
  readonly warehouseId: string;
  readonly eventTime: number;
  readonly enrichmentStatus: string;
  /** When its object was stored (the file's modification time). */
  readonly storedAt: number;
}

export interface DeadLetterRow {
  readonly source: string;
  readonly code: string;
  readonly reason: string;
}

export interface LakeContents {
  readonly rows: readonly LakeRow[];
  /** Objects (files) per source. */
  readonly objects: ReadonlyMap<string, number>;
  /** Hive partition paths below the table, e.g. "dt=2026-11-21/hour=13". */
  readonly partitions: readonly string[];
  readonly deadLetters: readonly DeadLetterRow[];
  readonly dlqObjects: number;
}

async function filesUnder(dir: string, suffix: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries
      .filter((e) => e.isFile() && e.name.endsWith(suffix) && !e.name.startsWith('.'))
      .map((e) => join(e.parentPath, e.name))
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** The source named by an object key ({source}-{stream}-…); see sinks/key.ts. */
const sourceOfObject = (file: string): string => file.slice(file.lastIndexOf(sep) + 1).split('-')[0]!;

async function readRawRows(files: readonly string[]): Promise<LakeRow[]> {
  if (files.length === 0) return [];
  const storedAt = new Map<string, number>();
  await Promise.all(files.map(async (f) => storedAt.set(f, (await stat(f)).mtimeMs)));
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await db.connect();
  try {
    const reader = await conn.runAndReadAll(
      `SELECT event_id, source, shard, sequence, event_type, sku, warehouse_id, epoch_ms(event_time) AS event_ms, enrichment_status, filename
       FROM read_parquet([${files.map(sqlString).join(', ')}], filename = true)`,
    );
    return reader.getRowObjectsJS().map((r) => ({
      eventId: String(r.event_id),
      source: String(r.source),
      shard: String(r.shard),
      sequence: String(r.sequence),
      eventType: String(r.event_type),
      sku: String(r.sku),
      warehouseId: String(r.warehouse_id),
      eventTime: Number(r.event_ms as bigint),
      enrichmentStatus: String(r.enrichment_status),
      storedAt: storedAt.get(String(r.filename)) ?? Number.NaN,
    }));
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

async function readDeadLetters(files: readonly string[]): Promise<DeadLetterRow[]> {
  const out: DeadLetterRow[] = [];
  for (const f of files) {
    const text = gunzipSync(await readFile(f)).toString('utf8');
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const l = JSON.parse(line) as { position?: { source?: string }; code?: string; reason?: string };
      out.push({ source: l.position?.source ?? '?', code: l.code ?? '?', reason: l.reason ?? '' });
    }
  }
  return out;
}

/** Everything the services left in the lake directory: raw rows, objects, partitions, dead letters. */
export async function inspectLake(lakeDir: string, table = 'inventory_changes', dlqPrefix = 'dlq'): Promise<LakeContents> {
  const tableDir = join(lakeDir, table);
  const files = await filesUnder(tableDir, '.parquet');
  const objects = new Map<string, number>();
  for (const f of files) objects.set(sourceOfObject(f), (objects.get(sourceOfObject(f)) ?? 0) + 1);
  const partitions = [...new Set(files.map((f) => relative(tableDir, dirname(f)).split(sep).join('/')))].sort();
  const dlqFiles = await filesUnder(join(lakeDir, dlqPrefix), '.ndjson.gz');
  return { rows: await readRawRows(files), objects, partitions, deadLetters: await readDeadLetters(dlqFiles), dlqObjects: dlqFiles.length };
}
