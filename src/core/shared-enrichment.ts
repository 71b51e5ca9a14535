import type { Enrichment, EnrichmentStatus } from './model.js';

type Attrs = Readonly<Record<string, string | null>>;

/**
 * An enrichment that many changes share (an enricher's cached rows), frozen like any other, with
 * one slot where a consumer keeps what it derived from it: the Parquet encoder keeps where the
 * object's maps are staged. Reading the slot costs a property load per row, where a WeakMap
 * lookup per row cost more than the staging it saved, and gave the garbage collector a table of
 * hundreds of thousands of entries to trace.
 *
 * The slot is a private field: not enumerable, not serialized, not copied by spreading, and still
 * writable on the frozen object.
 */
export class SharedEnrichment implements Enrichment {
  readonly status: EnrichmentStatus;
  readonly failed: string[];
  readonly customer: Attrs | null;
  readonly order: Attrs | null;
  #derived: unknown = undefined;

  constructor(status: EnrichmentStatus, failed: readonly string[], customer: Attrs | null, order: Attrs | null) {
    this.status = status;
    this.failed = failed as string[];
    this.customer = customer;
    this.order = order;
    Object.freeze(this);
  }

  /** What a consumer derived from `e` (undefined: nothing yet, or `e` is not shared). */
  static derivedOf(e: Enrichment): unknown {
    return #derived in e ? (e as SharedEnrichment).#derived : undefined;
  }

  /** Keeps `value` on `e` if it is shared; false when it is not (the caller keeps it elsewhere or not at all). */
  static setDerived(e: Enrichment, value: unknown): boolean {
    if (!(#derived in e)) return false;
    (e as SharedEnrichment).#derived = value;
    return true;
  }
}
