import type { Enrichment, EnrichmentStatus } from './model.js';

type Attrs = Readonly<Record<string, string | null>>;

/**
 * An enrichment that many changes share (an enricher's cached rows), frozen like any other, with
 * room for two small integers that one consumer derived from it: the Parquet encoder keeps where
 * the object's two maps are staged. Reading them costs a property load per row, where a WeakMap
 * lookup per row cost more than the staging it saved (and gave the garbage collector a table of
 * hundreds of thousands of entries), and a small object holding them cost a cache miss per row.
 *
 * The integers are private fields: not enumerable, not serialized, not copied by spreading, and
 * still writable on the frozen object. They belong to an owner (compared by identity), so two
 * consumers, or one that starts over, never read each other's.
 */
export class SharedEnrichment implements Enrichment {
  readonly status: EnrichmentStatus;
  readonly failed: string[];
  readonly customer: Attrs | null;
  readonly order: Attrs | null;
  #owner: object | undefined = undefined;
  #first = 0;
  #second = 0;

  constructor(status: EnrichmentStatus, failed: readonly string[], customer: Attrs | null, order: Attrs | null) {
    this.status = status;
    this.failed = failed as string[];
    this.customer = customer;
    this.order = order;
    Object.freeze(this);
  }

  /** Whether `e` is shared and holds integers that `owner` set (then read them with first and second). */
  static heldBy(e: Enrichment, owner: object): boolean {
    return #owner in e && (e as SharedEnrichment).#owner === owner;
  }

  /** The first integer; only after heldBy said yes. */
  static first(e: Enrichment): number {
    return (e as SharedEnrichment).#first;
  }

  /** The second integer; only after heldBy said yes. */
  static second(e: Enrichment): number {
    return (e as SharedEnrichment).#second;
  }

  /** Keeps two integers on `e` for `owner`, if `e` is shared; false when it is not (keep them elsewhere or not at all). */
  static hold(e: Enrichment, owner: object, first: number, second: number): boolean {
    if (!(#owner in e)) return false;
    const shared = e as SharedEnrichment;
    shared.#owner = owner;
    shared.#first = first;
    shared.#second = second;
    return true;
  }
}
