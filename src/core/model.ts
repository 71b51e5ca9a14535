import { z } from 'zod';
import { SOURCE_KINDS } from './position.js';

/**
 * Business event types. insert/modify/remove come from DynamoDB change records whose image does
 * not say why the item changed.
 */
export const EVENT_TYPES = ['restock', 'sale', 'return', 'adjustment', 'insert', 'modify', 'remove'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const ENRICHMENT_STATUSES = ['ok', 'missing', 'failed', 'skipped'] as const;
export type EnrichmentStatus = (typeof ENRICHMENT_STATUSES)[number];

const attrs = z.record(z.string(), z.string().nullable());

export const Enrichment = z.object({
  status: z.enum(ENRICHMENT_STATUSES),
  /** Which lookups failed or found nothing, e.g. ["customer"]. */
  failed: z.array(z.string()),
  customer: attrs.nullable(),
  order: attrs.nullable(),
});
export type Enrichment = z.infer<typeof Enrichment>;

export const NOT_ENRICHED: Enrichment = Object.freeze({ status: 'skipped', failed: [], customer: null, order: null }) as Enrichment;

/** The canonical record the pipeline carries and the lake stores (one row per change). */
export const InventoryChange = z.object({
  eventId: z.string().min(1),
  source: z.enum(SOURCE_KINDS),
  stream: z.string(),
  shard: z.string(),
  sequence: z.string(),
  eventType: z.enum(EVENT_TYPES),
  sku: z.string().min(1),
  warehouseId: z.string().min(1),
  quantityBefore: z.number().int().nullable(),
  quantityAfter: z.number().int().nullable(),
  delta: z.number().int(),
  orderId: z.string().nullable(),
  customerId: z.string().nullable(),
  /** Epoch ms at which the change happened at its origin: the partitioning time. */
  eventTime: z.number().int(),
  /** Epoch ms at which the record reached the stream (its arrival time), else when this service read it. */
  ingestTime: z.number().int(),
  enrichment: Enrichment,
});
export type InventoryChange = z.infer<typeof InventoryChange>;
