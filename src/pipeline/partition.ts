import type { InventoryChange } from '../core/model.js';
import type { PartitionRef } from '../core/ports.js';

export type ExtraPartitionKey = 'warehouseId' | 'eventType' | 'source';

const COLUMN_OF: Record<ExtraPartitionKey, string> = { warehouseId: 'warehouse_id', eventType: 'event_type', source: 'source' };

export const HIVE_DEFAULT_PARTITION = '__HIVE_DEFAULT_PARTITION__';

/**
 * Makes a value safe as one Hive path segment: Hive-style percent escapes for everything but
 * [A-Za-z0-9_-], and dots escaped too, so no value ("..", "a/b", "x=y") can leave its folder or
 * forge another key.
 */
export function encodePartitionValue(value: string): string {
  if (value === '') return HIVE_DEFAULT_PARTITION;
  let out = '';
  for (const ch of value) {
    if (/[A-Za-z0-9_-]/.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const HOUR_MS = 3_600_000;

/**
 * Event time → dt=YYYY-MM-DD/hour=HH (+ extra keys). Hours repeat heavily in a stream, so the
 * formatted strings are cached per hour bucket and the whole ref per extra-key combination.
 */
export class Partitioner {
  private readonly hours = new Map<number, { dt: string; hour: string; path: string; ref: PartitionRef }>();
  private last: { bucket: number; ref: PartitionRef } | undefined;
  private readonly refs = new Map<string, PartitionRef>();

  constructor(private readonly extraKeys: readonly ExtraPartitionKey[] = []) {}

  partitionOf(change: InventoryChange): PartitionRef {
    const bucket = Math.floor(change.eventTime / HOUR_MS);
    const noExtras = this.extraKeys.length === 0;
    // Per record: the previous record's hour is the likeliest, then the hour table; no allocation.
    if (noExtras && this.last?.bucket === bucket) return this.last.ref;
    let h = this.hours.get(bucket);
    if (!h) {
      const iso = new Date(bucket * HOUR_MS).toISOString();
      const dt = iso.slice(0, 10);
      const hour = iso.slice(11, 13);
      const path = `dt=${dt}/hour=${hour}`;
      h = { dt, hour, path, ref: { path, values: { dt, hour } } };
      if (this.hours.size > 100_000) this.hours.clear();
      this.hours.set(bucket, h);
    }
    if (noExtras) {
      this.last = { bucket, ref: h.ref };
      return h.ref;
    }
    const extras = this.extraKeys.map((k) => String(change[k]));
    const cacheKey = `${h.path}\u0000${extras.join('\u0000')}`;
    return this.cached(cacheKey, () => {
      const values: Record<string, string> = { dt: h.dt, hour: h.hour };
      let path = h.path;
      this.extraKeys.forEach((k, i) => {
        const col = COLUMN_OF[k];
        const v = extras[i] ?? '';
        values[col] = v;
        path += `/${col}=${encodePartitionValue(v)}`;
      });
      return { path, values };
    });
  }

  private cached(key: string, make: () => PartitionRef): PartitionRef {
    let ref = this.refs.get(key);
    if (!ref) {
      if (this.refs.size > 100_000) this.refs.clear();
      ref = make();
      this.refs.set(key, ref);
    }
    return ref;
  }
}

export const partitionColumns = (extraKeys: readonly ExtraPartitionKey[]): string[] => ['dt', 'hour', ...extraKeys.map((k) => COLUMN_OF[k])];
