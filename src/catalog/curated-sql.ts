import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { IntegratorError } from '../core/errors.js';

/** The curated tables, in the order the SQL builds them. */
export const CURATED_TABLES = ['inventory_changes_curated', 'inventory_snapshot', 'inventory_daily'] as const;
export type CuratedTable = (typeof CURATED_TABLES)[number];

export interface CuratedStatement {
  readonly table: string;
  /** One SELECT, without a trailing semicolon. */
  readonly select: string;
}

const MARKER = /^--\s*@table\s+([a-z_][a-z0-9_]*)\s*$/;

/**
 * Splits the curated SQL into its SELECTs at the "-- @table <name>" lines. The Glue job
 * (deploy/glue/curated_job.py, split_statements) follows the same rule, so both engines run
 * exactly the same statements.
 */
export function splitCuratedSql(text: string): CuratedStatement[] {
  const out: { table: string; lines: string[] }[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = MARKER.exec(line.trim());
    if (m) out.push({ table: m[1]!, lines: [] });
    else out[out.length - 1]?.lines.push(line);
  }
  const statements = out.map(({ table, lines }) => ({ table, select: lines.join('\n').trim().replace(/;\s*$/, '').trim() }));
  const empty = statements.find((s) => !/\bselect\b/i.test(s.select));
  if (statements.length === 0 || empty) {
    throw new IntegratorError('CONFIG_INVALID', `curated SQL has ${empty ? `no SELECT for table "${empty.table}"` : 'no "-- @table <name>" sections'}`);
  }
  return statements;
}

/** Where deploy/glue/curated.sql is, from src/catalog (tsx) or dist/src/catalog (compiled). */
export function defaultCuratedSqlPath(): string {
  const candidates = ['../../deploy/glue/curated.sql', '../../../deploy/glue/curated.sql'].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new IntegratorError('CONFIG_INVALID', `deploy/glue/curated.sql not found (looked at ${candidates.join(', ')}); set catalog.curated.sqlFile`);
  return found;
}

export function loadCuratedSql(path: string = defaultCuratedSqlPath()): CuratedStatement[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new IntegratorError('CONFIG_INVALID', `cannot read curated SQL "${path}": ${(err as Error).message}`, { cause: err });
  }
  return splitCuratedSql(text);
}
