import type { Enrichment } from '../core/model.js';
import type { CacheConfig } from './config.js';

/** A row as carried into the change: column name → text value (or null). */
export type Attrs = Readonly<Record<string, string | null>>;

/**
 * What a lookup learned about one key: the row, or that there is none (`row` null). The same
 * object is cached and shared by every change naming the key until it expires; it carries the
 * cache's bookkeeping itself, one object a key fewer to reach on every hit.
 */
export interface Found {
  readonly row: Attrs | null;
  /** Orders: the order's customer, when the spec names a customerKey column. */
  readonly customerId: string | null;
  /**
   * The enricher's memo of the enrichment built from this row, so changes alike share one
   * object (see SqlEnricher): for an order, with the customer entry it was built with (two
   * fields, not an object: one object less per cached row for the garbage collector); for a
   * customer, on its own (a change without an order).
   */
  memo: Enrichment | undefined;
  memoCustomer: Found | undefined;
  alone: Enrichment | undefined;
  /** LookupCache: when the entry expires. */
  expiresAt: number;
  /** LookupCache: when the entry last moved to the recent end (a count of inserts and moves). */
  touched: number;
  /** The enricher's last lookup pass that counted this entry as a cache hit. */
  pass: number;
  /** Orders: the cached entry of the order's own customer, once looked up (the enricher's shortcut). */
  customer: Found | undefined;
}

/** A new entry: a row (with the order's customer id, if any), or `null` for a key found missing. */
export const found = (row: Attrs | null, customerId: string | null = null): Found => ({ row, customerId, memo: undefined, memoCustomer: undefined, alone: undefined, expiresAt: 0, touched: 0, pass: 0, customer: undefined });

/**
 * Bounded by entries, with a TTL for rows found and a shorter one for keys found missing
 * (negative caching), so a burst of events for an unknown customer costs one query, not one per
 * batch, while a customer created a moment later is seen soon.
 *
 * Eviction is least recently used, to within half the capacity: a Map keeps entries in the order
 * they were last moved to its end, and a hit moves an entry only when it sits in the older half,
 * so a hit on the hot keys of a skewed workload costs one Map lookup, not a delete and re-insert.
 * (lru-cache read the clock and kept its lists up to date on every hit: a third of the
 * enricher's time.) The clock is read by the caller, once per batch.
 */
export class LookupCache {
  private readonly map = new Map<string, Found>();
  private ticks = 0;
  private readonly half: number;

  constructor(
    private readonly config: CacheConfig,
    private readonly clock: { now(): number } = Date,
  ) {
    this.half = config.maxEntries >> 1;
  }

  now(): number {
    return this.clock.now();
  }

  get(key: string, now = this.clock.now()): Found | undefined {
    const f = this.map.get(key);
    return f === undefined ? undefined : this.check(key, f, now);
  }

  /**
   * The entry cached under `key` as it stands, fresh or not: for a caller that looks many keys up
   * first and checks each (check) after, so that the lookups' memory accesses overlap.
   */
  peek(key: string): Found | undefined {
    return this.map.get(key);
  }

  /** `f` (what peek gave for `key`) if it is still fresh, else undefined (and it is dropped); as get. */
  check(key: string, f: Found, now: number): Found | undefined {
    if (f.expiresAt <= now) {
      this.map.delete(key);
      return undefined;
    }
    if (this.ticks - f.touched >= this.half) {
      this.map.delete(key);
      this.map.set(key, f);
      f.touched = ++this.ticks;
    }
    return f;
  }

  /** Caches the entry under `key` (an entry belongs to one key, and one cache). */
  set(key: string, entry: Found, now = this.clock.now()): void {
    const max = this.config.maxEntries;
    if (max === 0) return;
    const ttl = entry.row === null ? this.config.negativeTtlMs : this.config.ttlMs;
    if (ttl <= 0) return;
    entry.expiresAt = now + ttl;
    entry.touched = ++this.ticks;
    this.map.delete(key);
    this.map.set(key, entry);
    if (this.map.size > max) this.map.delete(this.map.keys().next().value!);
  }

  get size(): number {
    return this.map.size;
  }

  clear(): void {
    this.map.clear();
  }
}
