import type { Dialect, LookupSpec } from './identifiers.js';
import type { Attrs } from './lookup-cache.js';

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

/** Rows as both drivers return them (objects by column alias), turned into lookup rows. */
export function toLookupRows(spec: LookupSpec, rows: readonly Record<string, unknown>[], keyAlias: string, customerAlias: string): LookupRow[] {
  const text = (v: unknown): string | null => (v === null || v === undefined ? null : typeof v === 'string' ? v : String(v));
  return rows.map((r) => {
    const attrs: Record<string, string | null> = {};
    for (const c of spec.columns) attrs[c] = text(r[c]);
    // Frozen: the same object is cached and handed to every change with this key.
    Object.freeze(attrs);
    return { key: text(r[keyAlias]) ?? '', customerId: spec.customerKey ? text(r[customerAlias]) : null, attrs };
  });
}
