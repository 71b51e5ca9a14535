import type { Dialect, LookupSpec } from './identifiers.js';
import type { Attrs } from './lookup-cache.js';
import { ValueInterner } from './value-interner.js';

export interface LookupRow {
  readonly key: string;
  /** Orders: the order's customer, when the spec names a customerKey column. */
  readonly customerId: string | null;
  readonly attrs: Attrs;
}

/**
 * One database behind the enricher: runs one parameterized SELECT for a set of keys. Errors are
 * the driver's own; the caller classifies them, retries and counts.
 */
export interface LookupClient {
  readonly dialect: Dialect;
  /** host:port/database for logs. */
  readonly label: string;
  /** The most keys one query may carry; the caller splits larger sets. */
  readonly maxKeysPerQuery: number;
  select(spec: LookupSpec, keys: readonly string[]): Promise<LookupRow[]>;
  close(): Promise<void>;
}

const text = (v: unknown): string | null => (v === null || v === undefined ? null : typeof v === 'string' ? v : String(v));

/** Per lookup, per carried column: its values shared (see ValueInterner). */
export class RowValues {
  private readonly byLookup = new Map<string, ValueInterner[]>();

  of(spec: LookupSpec): ValueInterner[] {
    let interners = this.byLookup.get(spec.name);
    if (interners === undefined || interners.length !== spec.columns.length) {
      interners = spec.columns.map(() => new ValueInterner());
      this.byLookup.set(spec.name, interners);
    }
    return interners;
  }
}

/** Rows as arrays in the order selectClause lists the columns: key, customer key if any, columns. */
export function arrayRowsToLookupRows(spec: LookupSpec, rows: readonly (readonly unknown[])[], values: RowValues): LookupRow[] {
  const first = spec.customerKey ? 2 : 1;
  const cols = spec.columns;
  const interners = values.of(spec);
  const out: LookupRow[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const attrs: Record<string, string | null> = {};
    for (let j = 0; j < cols.length; j++) attrs[cols[j]!] = interners[j]!.intern(text(r[first + j]));
    // Frozen: the same object is cached and handed to every change with this key.
    out[i] = { key: text(r[0]) ?? '', customerId: first === 2 ? text(r[1]) : null, attrs: Object.freeze(attrs) };
  }
  return out;
}

/** Rows as objects by column alias (mysql2), turned into lookup rows. */
export function toLookupRows(spec: LookupSpec, rows: readonly Record<string, unknown>[], keyAlias: string, customerAlias: string, values: RowValues): LookupRow[] {
  const interners = values.of(spec);
  return rows.map((r) => {
    const attrs: Record<string, string | null> = {};
    spec.columns.forEach((c, j) => (attrs[c] = interners[j]!.intern(text(r[c]))));
    // Frozen: the same object is cached and handed to every change with this key.
    Object.freeze(attrs);
    return { key: text(r[keyAlias]) ?? '', customerId: spec.customerKey ? text(r[customerAlias]) : null, attrs };
  });
}
