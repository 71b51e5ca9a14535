import { IntegratorError } from '../core/errors.js';
import { IDENTIFIER } from './config.js';

export type Dialect = 'postgres' | 'mysql';

/**
 * Quotes a validated identifier (or schema.table) for the dialect. The config schema already
 * restricts names to [A-Za-z0-9_]; this checks again because a name that reaches SQL unchecked
 * is an injection, whatever path it came by.
 */
export function quoteName(name: string, dialect: Dialect): string {
  const parts = name.split('.');
  if (parts.length > 2 || !parts.every((p) => IDENTIFIER.test(p))) {
    throw new IntegratorError('CONFIG_INVALID', `not a plain SQL identifier: ${JSON.stringify(name.slice(0, 80))}`);
  }
  const q = dialect === 'postgres' ? '"' : '`';
  return parts.map((p) => `${q}${p}${q}`).join('.');
}

/** What one lookup table query selects: the key, optionally a foreign key, and the carried columns. */
export interface LookupSpec {
  /** Lookup name used in `enrichment.failed` and metric labels: "customer" or "order". */
  readonly name: 'customer' | 'order';
  readonly table: string;
  readonly key: string;
  /** Orders: the column naming the order's customer. */
  readonly customerKey?: string | null;
  readonly columns: readonly string[];
}

/** Result column aliases: fixed, so carried column names can never collide with them. */
export const KEY_ALIAS = '__k';
export const CUSTOMER_ALIAS = '__c';

/**
 * SELECT list and FROM clause, every value cast to text by the database itself so numbers,
 * decimals and timestamps arrive formatted the way the database prints them.
 */
export function selectClause(spec: LookupSpec, dialect: Dialect): string {
  const text = (col: string) => (dialect === 'postgres' ? `${quoteName(col, dialect)}::text` : `CAST(${quoteName(col, dialect)} AS CHAR)`);
  if (spec.columns.some((c) => c === KEY_ALIAS || c === CUSTOMER_ALIAS)) {
    throw new IntegratorError('CONFIG_INVALID', `${spec.name} columns may not be named ${KEY_ALIAS} or ${CUSTOMER_ALIAS}`);
  }
  const cols = [`${text(spec.key)} AS ${quoteName(KEY_ALIAS, dialect)}`];
  if (spec.customerKey) cols.push(`${text(spec.customerKey)} AS ${quoteName(CUSTOMER_ALIAS, dialect)}`);
  for (const c of spec.columns) cols.push(`${text(c)} AS ${quoteName(c, dialect)}`);
  return `SELECT ${cols.join(', ')} FROM ${quoteName(spec.table, dialect)}`;
}
