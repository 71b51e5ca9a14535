import { LRUCache } from 'lru-cache';
import type { CacheConfig } from './config.js';

/** A row as carried into the change: column name → text value (or null). */
export type Attrs = Readonly<Record<string, string | null>>;

/** What a lookup learned about one key: the row, or that there is none. */
export type Found = { readonly row: Attrs; readonly customerId?: string | null } | { readonly row: null };

/**
 * LRU bounded by entries, with a TTL for rows found and a shorter one for keys found missing
 * (negative caching), so a burst of events for an unknown customer costs one query, not one per
 * batch, while a customer created a moment later is seen soon.
 */
export class LookupCache {
  private readonly lru: LRUCache<string, Found> | undefined;

  constructor(
    private readonly config: CacheConfig,
    clock?: { now(): number },
  ) {
    this.lru =
      config.maxEntries > 0
        ? new LRUCache<string, Found>({
            max: config.maxEntries,
            ttl: config.ttlMs,
            // An injected clock must be read on every access, not cached for a millisecond.
            ...(clock ? { perf: clock, ttlResolution: 0 } : {}),
          })
        : undefined;
  }

  get(key: string): Found | undefined {
    return this.lru?.get(key);
  }

  set(key: string, found: Found): void {
    if (!this.lru) return;
    if (found.row === null) {
      if (this.config.negativeTtlMs > 0) this.lru.set(key, found, { ttl: this.config.negativeTtlMs });
    } else {
      this.lru.set(key, found);
    }
  }

  get size(): number {
    return this.lru?.size ?? 0;
  }

  clear(): void {
    this.lru?.clear();
  }
}
