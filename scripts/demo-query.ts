import { DuckDBInstance } from '@duckdb/node-api';

/**
 * Runs SQL over the demo's lake with DuckDB (the project's own @duckdb/node-api, so no DuckDB CLI
 * is needed):
 *
 *   npx tsx scripts/demo-query.ts "SELECT count(*) FROM read_parquet('.demo/lake/inventory_changes/**\/*.parquet')"
 *
 * Paths in the SQL are relative to the current directory.
 */
export async function runLakeQuery(sql: string): Promise<Array<Record<string, unknown>>> {
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await db.connect();
  try {
    try {
      await conn.run(`SET TimeZone = 'UTC'`);
    } catch {
      /* no ICU: timestamps are UTC already */
    }
    return (await conn.runAndReadAll(sql)).getRowObjectsJson() as Array<Record<string, unknown>>;
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

/** Rows as an aligned text table. */
export function formatRows(rows: ReadonlyArray<Record<string, unknown>>, maxRows = 20): string {
  if (rows.length === 0) return '(no rows)';
  const cols = Object.keys(rows[0]!);
  const shown = rows.slice(0, maxRows).map((r) => cols.map((c) => (r[c] === null || r[c] === undefined ? '' : String(r[c]))));
  const widths = cols.map((c, i) => Math.max(c.length, ...shown.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  const more = rows.length > maxRows ? `\n… ${rows.length - maxRows} more rows` : '';
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...shown.map(line)].join('\n') + more;
}

if (process.argv[1]?.endsWith('demo-query.ts')) {
  const sql = process.argv.slice(2).join(' ').trim();
  if (!sql) {
    process.stderr.write('usage: npx tsx scripts/demo-query.ts "<SQL over read_parquet(\'.demo/lake/...\')>"\n');
    process.exit(2);
  }
  try {
    process.stdout.write(`${formatRows(await runLakeQuery(sql), 200)}\n`);
  } catch (err) {
    process.stderr.write(`query failed: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
