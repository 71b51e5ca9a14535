import type { ChangeList } from '../../src/core/change-columns.js';
import type { InventoryChange } from '../../src/core/model.js';

/** Turns a batch of changes into one lake object on local disk. */
export interface Encoder {
  /** File name extension without the dot, e.g. "parquet" or "ndjson.gz". */
  readonly extension: string;
  readonly contentType: string;
  /**
   * Writes `records` to `path` (created or replaced). Several calls may be in flight at once.
   * Rejects with IntegratorError SINK_WRITE_FAILED when the file cannot be produced.
   */
  encodeToFile(records: ChangeList, path: string): Promise<{ bytes: number }>;
  close(): Promise<void>;
}

/**
 * One change as a lake row: snake_case keys in RAW_COLUMNS order, the shape shared by the
 * NDJSON files and the Parquet columns (where event_time/ingest_time become timestamps).
 */
export function toRawRow(r: InventoryChange): Record<string, unknown> {
  const e = r.enrichment;
  return {
    event_id: r.eventId,
    source: r.source,
    stream: r.stream,
    shard: r.shard,
    sequence: r.sequence,
    event_type: r.eventType,
    sku: r.sku,
    warehouse_id: r.warehouseId,
    quantity_before: r.quantityBefore,
    quantity_after: r.quantityAfter,
    delta: r.delta,
    order_id: r.orderId,
    customer_id: r.customerId,
    event_time: new Date(r.eventTime).toISOString(),
    ingest_time: new Date(r.ingestTime).toISOString(),
    enrichment_status: e.status,
    enrichment_failed: e.failed,
    customer: e.customer,
    order_info: e.order,
  };
}
