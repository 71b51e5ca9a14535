import { readdir, mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { RAW_COLUMNS } from '../core/columns.js';
import { type CuratedStatement, loadCuratedSql } from './curated-sql.js';
import { DUCKDB_TYPE, sqlString } from './duckdb-sql.js';
import { scanPartitions } from './local-state.js';
import { REFERENCE_TABLES, type ReferenceColumn } from './reference.js';

export interface LocalCuratedInput {
  /** <lake>/<table>: the raw table's directory. */
  readonly rawTableDir: string;
  /** Hive paths of the raw partitions to read, e.g. "dt=2026-11-21/hour=13". */
  readonly partitions: readonly string[];
  /** <lake>/reference: holds orders/ and customers/. */
  readonly referenceDir: string;
  /** <lake>/curated: each table goes to <outputDir>/<table>/. */
  readonly outputDir: string;
  readonly statements: readonly CuratedStatement[];
  readonly threads?: number;
}

export interface LocalCuratedResult {
  /** Rows per curated table. */
  readonly tables: Readonly<Record<string, number>>;
  readonly rawFiles: number;
  readonly rawRows: number;
  /** Reference tables that had no Parquet, joined as empty (their columns come out NULL). */
  readonly missingReference: readonly string[];
}

async function parquetFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isFile() && e.name.endsWith('.parquet') && !e.name.startsWith('.'))
      .map((e) => join(dir, e.name))
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

const fileList = (files: readonly string[]): string => `[${files.map(sqlString).join(', ')}]`;

/**
 * A view with exactly the wanted columns: those the files lack (older files, before a column was
 * added) come out NULL, so a schema change never breaks reading old partitions.
 */
async function defineView(conn: DuckDBConnection, view: string, files: readonly string[], cols: readonly { name: string; type: string }[]): Promise<void> {
  let have = new Set<string>();
  if (files.length > 0) {
    const described = await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${fileList(files)}, union_by_name = true)`);
    have = new Set(described.getRowObjectsJS().map((r) => String(r.column_name)));
  }
  const select = cols.map((c) => (have.has(c.name) ? `CAST(${c.name} AS ${c.type}) AS ${c.name}` : `CAST(NULL AS ${c.type}) AS ${c.name}`)).join(', ');
  const from = files.length > 0 ? ` FROM read_parquet(${fileList(files)}, union_by_name = true)` : ' LIMIT 0';
  await conn.run(`CREATE OR REPLACE TEMP VIEW ${view} AS SELECT ${select}${from}`);
}

/**
 * Runs the curated SQL over the local lake with DuckDB and writes each curated table as Parquet
 * (tables with a dt column partitioned by it, as the Glue job writes them). Every run rebuilds
 * the tables from all raw partitions, so it is idempotent; each table's directory is replaced
 * only once its new files are complete.
 */
export async function buildCuratedLocally(input: LocalCuratedInput): Promise<LocalCuratedResult> {
  const instance = await DuckDBInstance.create(':memory:', { threads: String(input.threads ?? 1) });
  const conn = await DuckDBConnection.create(instance);
  const staged: { table: string; tmp: string }[] = [];
  try {
    try {
      await conn.run(`SET TimeZone = 'UTC'`);
    } catch {
      /* without ICU there is no time zone to set: timestamps are UTC already */
    }
    const rawFiles = (await Promise.all([...new Set(input.partitions)].sort().map((p) => parquetFiles(join(input.rawTableDir, p))))).flat();
    await defineView(conn, 'raw_inventory_changes', rawFiles, RAW_COLUMNS.map((c) => ({ name: c.name, type: DUCKDB_TYPE[c.type]! })));
    const missingReference: string[] = [];
    for (const [name, cols] of Object.entries(REFERENCE_TABLES) as [string, readonly ReferenceColumn[]][]) {
      const files = await parquetFiles(join(input.referenceDir, name));
      if (files.length === 0) missingReference.push(name);
      await defineView(conn, name, files, cols);
    }
    const rawRows = Number((await conn.runAndReadAll('SELECT COUNT(*) AS n FROM raw_inventory_changes')).getRowObjectsJS()[0]?.n ?? 0);

    const tables: Record<string, number> = {};
    const stamp = `${process.pid}-${Date.now()}`;
    for (const st of input.statements) {
      await conn.run(`CREATE OR REPLACE TEMP TABLE ${st.table} AS ${st.select}`);
      tables[st.table] = Number((await conn.runAndReadAll(`SELECT COUNT(*) AS n FROM ${st.table}`)).getRowObjectsJS()[0]?.n ?? 0);
      const cols = (await conn.runAndReadAll(`DESCRIBE ${st.table}`)).getRowObjectsJS().map((r) => String(r.column_name));
      const tmp = join(input.outputDir, `.${st.table}.tmp-${stamp}`);
      await mkdir(tmp, { recursive: true });
      staged.push({ table: st.table, tmp });
      if (cols.includes('dt')) {
        await conn.run(`COPY ${st.table} TO ${sqlString(tmp)} (FORMAT parquet, PARTITION_BY (dt), OVERWRITE_OR_IGNORE)`);
      } else {
        await conn.run(`COPY ${st.table} TO ${sqlString(join(tmp, 'part-00000.parquet'))} (FORMAT parquet)`);
      }
    }
    // All tables computed: only now replace the previous ones, so a failed run changes nothing.
    for (const { table, tmp } of staged) {
      const final = join(input.outputDir, table);
      const old = join(input.outputDir, `.${table}.old-${stamp}`);
      await rename(final, old).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      await rename(tmp, final);
      await rm(old, { recursive: true, force: true });
    }
    staged.length = 0;
    return { tables, rawFiles: rawFiles.length, rawRows, missingReference };
  } finally {
    for (const { tmp } of staged) await rm(tmp, { recursive: true, force: true });
    conn.closeSync();
    instance.closeSync();
  }
}

/**
 * Builds the curated tables of a local lake from every raw partition found in it, reading the
 * reference tables from <lake>/reference; for the demo and tools, after a run. Throws on failure.
 */
export async function buildLakeCurated(
  lakeRoot: string,
  opts: { table?: string; statements?: readonly CuratedStatement[]; referenceDir?: string; outputDir?: string } = {},
): Promise<LocalCuratedResult> {
  const rawTableDir = join(lakeRoot, opts.table ?? 'inventory_changes');
  return buildCuratedLocally({
    rawTableDir,
    partitions: (await scanPartitions(rawTableDir)).map((p) => p.path),
    referenceDir: join(lakeRoot, opts.referenceDir ?? 'reference'),
    outputDir: join(lakeRoot, opts.outputDir ?? 'curated'),
    statements: opts.statements ?? loadCuratedSql(),
  });
}
