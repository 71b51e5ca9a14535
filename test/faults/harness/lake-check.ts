import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { expect } from 'vitest';
import { buildLakeCurated } from '../../../src/catalog/curated-duckdb.js';
import { eventIdOf } from '../../../src/core/event-id.js';
import type { ErrorCode } from '../../../src/core/errors.js';
import type { Position } from '../../../src/core/position.js';
import { lakeEventIds, parquetFiles } from '../../multi-worker/lake.js';
import { type CaseResult, recordCase } from './summary.js';

export const RAW_TABLE = 'inventory_changes';
const CURATED_TABLE = 'inventory_changes_curated';

export interface Letter {
  readonly eventId: string;
  readonly position: Position;
  readonly code: ErrorCode;
  readonly reason: string;
}

async function files(dir: string, suffix: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.endsWith(suffix)) out.push(p);
    }
  };
  await walk(dir);
  return out.sort();
}

/** Every dead letter under <lake>/<prefix>, keyed by the event id its position gives. */
export async function dlqLetters(lakeDir: string, prefix = 'dlq'): Promise<Map<string, Letter>> {
  const out = new Map<string, Letter>();
  for (const f of await files(join(lakeDir, prefix), '.ndjson.gz')) {
    for (const line of gunzipSync(await readFile(f)).toString('utf8').split('\n')) {
      if (!line) continue;
      const l = JSON.parse(line) as { position: Position; code: ErrorCode; reason: string };
      const eventId = eventIdOf(l.position);
      out.set(eventId, { eventId, position: l.position, code: l.code, reason: l.reason });
    }
  }
  return out;
}

/** Raw rows with chosen columns, for case-specific checks (e.g. enrichment status). */
export async function rawRows(lakeDir: string, columns: readonly string[]): Promise<Record<string, unknown>[]> {
  const list = await parquetFiles(join(lakeDir, RAW_TABLE));
  if (list.length === 0) return [];
  const db = await DuckDBInstance.create(':memory:');
  try {
    const conn = await db.connect();
    const from = `read_parquet([${list.map((f) => `'${f.replaceAll("'", "''")}'`).join(', ')}])`;
    const rows = (await conn.runAndReadAll(`SELECT ${columns.join(', ')} FROM ${from}`)).getRowObjectsJS();
    conn.closeSync();
    return rows as Record<string, unknown>[];
  } finally {
    db.closeSync();
  }
}

export interface LakeContents {
  /** event id → copies in the raw layer. */
  readonly raw: Map<string, number>;
  readonly dlq: Map<string, Letter>;
  /** event id → rows in the curated layer. */
  readonly curated: Map<string, number>;
}

/** Where each produced id is: the raw layer or the DLQ (for polling while a case runs). */
export async function delivered(lakeDir: string): Promise<Set<string>> {
  const [raw, dlq] = await Promise.all([lakeEventIds(join(lakeDir, RAW_TABLE)), dlqLetters(lakeDir)]);
  return new Set([...raw.keys(), ...dlq.keys()]);
}

export async function allDelivered(lakeDir: string, produced: Iterable<string>): Promise<true | undefined> {
  const have = await delivered(lakeDir);
  for (const id of produced) if (!have.has(id)) return undefined;
  return true;
}

/**
 * THE check every fault case ends with: every produced event is in the raw layer or the DLQ
 * (nothing lost, nothing invented, nothing in both), and after the curated build (the same SQL
 * the Glue job runs, here in DuckDB over the lake) each raw event id is in the curated layer
 * exactly once. Records the case's row for the summary table.
 */
export async function finalCheck(name: string, lakeDir: string, producedIds: Iterable<string>, note?: string): Promise<LakeContents> {
  const produced = new Set(producedIds);
  const [raw, dlq] = await Promise.all([lakeEventIds(join(lakeDir, RAW_TABLE)), dlqLetters(lakeDir)]);
  await buildLakeCurated(lakeDir);
  const curated = await lakeEventIds(join(lakeDir, 'curated', CURATED_TABLE));

  const lost = [...produced].filter((id) => !raw.has(id) && !dlq.has(id));
  const invented = [...raw.keys(), ...dlq.keys()].filter((id) => !produced.has(id));
  const inBoth = [...dlq.keys()].filter((id) => raw.has(id));
  const curatedDuplicates = [...curated.values()].filter((n) => n > 1).length;
  const notCurated = [...raw.keys()].filter((id) => !curated.has(id));
  const row: CaseResult = {
    case: name,
    produced: produced.size,
    found: produced.size - lost.length,
    dlq: dlq.size,
    rawRepeats: [...raw.values()].filter((n) => n > 1).length,
    curatedRows: [...curated.values()].reduce((s, n) => s + n, 0),
    curatedDuplicates,
    lost: lost.length,
    ...(note ? { note } : {}),
  };
  recordCase(row);
  expect(lost.slice(0, 10), `${name}: ${lost.length} produced events neither in the raw layer nor in the DLQ`).toEqual([]);
  expect(invented.slice(0, 10), `${name}: events in the lake that were never produced`).toEqual([]);
  expect(inBoth.slice(0, 10), `${name}: events both written and dead-lettered`).toEqual([]);
  expect(curatedDuplicates, `${name}: event ids more than once in the curated layer`).toBe(0);
  expect(notCurated.slice(0, 10), `${name}: raw events missing from the curated layer`).toEqual([]);
  expect(curated.size).toBe(raw.size);
  return { raw, dlq, curated };
}
