import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { ErrorCode } from '../src/core/errors.js';
import type { SampleRows } from '../src/enrichment/sample-data.js';
import { canonicalEventsWithTruth, type DynamoDbStreamRecord, dynamoDbStreamRecords, InventoryUniverse, malformedLines, skuId, warehouseId } from '../test/fixtures/events.js';
import type { DemoSource } from './demo-prereqs.js';

/**
 * The demo's workload: one simulated shop (test/fixtures: Zipf-skewed products, orders and
 * customers, stock levels that chain up, a few late events) whose warehouses publish through
 * different systems: each warehouse belongs to one source, so every item's history stays in one
 * stream. Kinesis and Kafka carry canonical JSON events; the DynamoDB warehouses write their
 * items to an `inventory` table (puts and deletes) and the table's stream carries the changes.
 * Every source also gets a few malformed records, each with the DLQ code it must end with.
 */

/** What the demo expects of a record: in the lake under this content key, or in the DLQ. */
export type Expectation = { readonly kind: 'lake'; readonly key: string } | { readonly kind: 'dlq'; readonly code: ErrorCode; readonly category: string };

export type Payload =
  | { readonly kind: 'message'; readonly data: Buffer }
  | { readonly kind: 'put'; readonly item: Record<string, AttributeValue> }
  | { readonly kind: 'delete'; readonly key: Record<string, AttributeValue> };

export interface WorkloadOp {
  /** Records of one lane must be produced in order (same item); lanes are independent. */
  readonly lane: string;
  readonly payload: Payload;
  readonly expect: Expectation;
  /** restock, sale, return, adjustment, delete, or the malformed category. */
  readonly label: string;
}

export interface Workload {
  readonly ops: ReadonlyMap<DemoSource, readonly WorkloadOp[]>;
  /** The customers and orders the events refer to: what the database is seeded with. */
  readonly rows: SampleRows;
  /** Event times run from here to `end` (plus a few late ones before it). */
  readonly start: number;
  readonly end: number;
}

export interface WorkloadOptions {
  /** Inventory changes over all sources (malformed records come on top). */
  readonly events: number;
  readonly sources: readonly DemoSource[];
  /** Wall-clock time the shop's history ends at; event times cover the hours before it. */
  readonly now: number;
  readonly seed?: number;
  /** Record size that the services are configured to refuse (RECORD_TOO_LARGE). */
  readonly tooLargeBytes: number;
}

/** A small shop, so a few thousand events reuse customers and orders (cache hits, realistic joins). */
export const SHOP = { skus: 200, warehouses: 6, customers: 1_500, orders: 6_000, zipf: 1.0 } as const;
export const HISTORY_MS = 3 * 3_600_000;

/** The content key both the producer and the lake reader compute for a change. */
export const lakeKey = (sku: string, warehouse: string, eventTimeMsOrRemove: number | 'remove'): string => `${sku}|${warehouse}|${eventTimeMsOrRemove}`;

const s = (v: string): AttributeValue => ({ S: v });
const dynamoKey = (sku: string, wh: string) => ({ sku: s(sku), warehouseId: s(wh) });

/** Items a producer gets wrong, each under its own key so no later write touches it. */
function malformedItems(): Array<{ category: string; item: Record<string, AttributeValue> }> {
  const base = (n: number) => ({ ...dynamoKey(`SKU-BAD-${n}`, 'WH-01'), lastChangeType: s('restock'), updatedAt: s(new Date().toISOString()) });
  return [
    { category: 'quantity-not-a-number', item: { ...base(1), quantity: s('twelve') } },
    { category: 'unknown-change-type', item: { ...base(2), quantity: { N: '5' }, lastChangeType: s('transfer') } },
    { category: 'bad-updated-at', item: { ...base(3), quantity: { N: '5' }, updatedAt: s('yesterday at noon') } },
    { category: 'no-quantity', item: { ...base(4) } },
  ];
}

/**
 * The DynamoDB warehouses' item writes, from the shop's stream records: a put of the new image
 * for a change (the table's stream makes it an INSERT or MODIFY), a delete for a REMOVE. An
 * item's first write is preceded by its creation with the stock it held before the history
 * began (event type "insert"), so a sale is a MODIFY whose delta is the units sold, as in a
 * table that existed before the integrator; an item put back after a delete is a restock.
 */
class DynamoDbWrites {
  readonly ops: WorkloadOp[] = [];
  private readonly seen = new Set<string>();
  private readonly deleted = new Set<string>();

  constructor(private readonly createdAt: number) {}

  add(r: DynamoDbStreamRecord, stockBefore: number): void {
    const keys = r.dynamodb.Keys as Record<string, { S: string }>;
    const sku = keys.sku!.S;
    const wh = keys.warehouseId!.S;
    const lane = `${sku}|${wh}`;
    if (r.eventName === 'REMOVE') {
      this.deleted.add(lane);
      this.ops.push({ lane, payload: { kind: 'delete', key: dynamoKey(sku, wh) }, expect: { kind: 'lake', key: lakeKey(sku, wh, 'remove') }, label: 'delete' });
      return;
    }
    if (!this.seen.has(lane)) {
      this.seen.add(lane);
      const created = new Date(this.createdAt).toISOString();
      const item = { ...dynamoKey(sku, wh), quantity: { N: String(stockBefore) }, updatedAt: s(created) };
      this.ops.push({ lane, payload: { kind: 'put', item }, expect: { kind: 'lake', key: lakeKey(sku, wh, this.createdAt) }, label: 'insert' });
    }
    let item = r.dynamodb.NewImage as Record<string, AttributeValue>;
    if (r.eventName === 'INSERT' && this.deleted.has(lane)) item = { ...item, lastChangeType: s('restock') };
    const updatedAt = Date.parse((item.updatedAt as { S: string }).S);
    const label = (item.lastChangeType as { S: string }).S;
    this.ops.push({ lane, payload: { kind: 'put', item }, expect: { kind: 'lake', key: lakeKey(sku, wh, updatedAt) }, label });
  }
}

/** Puts the malformed ops among the good ones, evenly spaced, so they arrive mid-stream. */
function interleave(good: WorkloadOp[], bad: WorkloadOp[]): WorkloadOp[] {
  const out: WorkloadOp[] = [];
  const step = good.length / (bad.length + 1);
  let b = 0;
  good.forEach((op, i) => {
    while (b < bad.length && i >= Math.round(step * (b + 1))) out.push(bad[b++]!);
    out.push(op);
  });
  while (b < bad.length) out.push(bad[b++]!);
  return out;
}

export function buildWorkload(o: WorkloadOptions): Workload {
  if (o.sources.length === 0) throw new Error('no source to produce into');
  const start = o.now - HISTORY_MS;
  const sim = {
    ...SHOP,
    seed: o.seed ?? 42,
    start,
    spanMs: HISTORY_MS,
    maxLatenessMs: 3_600_000,
  };
  // Warehouse w publishes through sources[w % n]; both generators play the very same shop.
  const sourceOf = (wh: string): DemoSource => o.sources[(Number(wh.slice(3)) - 1) % o.sources.length]!;
  const ops = new Map<DemoSource, WorkloadOp[]>(o.sources.map((src) => [src, []]));

  // Both generators play the same simulation, change for change: the canonical one also tells
  // the true stock before each change, which the DynamoDB items need when they are created.
  const records = ops.has('dynamodb') ? dynamoDbStreamRecords(o.events, { ...sim, removeFraction: 0.03 }) : undefined;
  const dynamo = new DynamoDbWrites(start);
  for (const { change, line } of canonicalEventsWithTruth(o.events, { ...sim, eventTimeFormat: 'mixed' })) {
    const record = records?.next().value;
    const wh = warehouseId(change.warehouse);
    const src = sourceOf(wh);
    if (src === 'dynamodb') {
      dynamo.add(record!, change.stockAfter - change.delta);
      continue;
    }
    const sku = skuId(change.sku);
    ops.get(src)!.push({
      lane: `${sku}|${wh}`,
      payload: { kind: 'message', data: Buffer.from(line) },
      expect: { kind: 'lake', key: lakeKey(sku, wh, change.eventTimeMs) },
      label: change.eventType,
    });
  }
  if (ops.has('dynamodb')) ops.set('dynamodb', dynamo.ops);

  for (const [src, good] of ops) {
    const bad: WorkloadOp[] =
      src === 'dynamodb'
        ? malformedItems().map(({ category, item }) => ({
            lane: `bad|${category}`,
            payload: { kind: 'put', item },
            expect: { kind: 'dlq', code: 'RECORD_INVALID', category },
            label: category,
          }))
        : malformedLines({ largeBytes: o.tooLargeBytes }).map((m) => ({
            lane: `bad|${m.category}`,
            payload: { kind: 'message', data: m.data },
            expect: { kind: 'dlq', code: m.code, category: m.category },
            label: m.category,
          }));
    ops.set(src, interleave(good, bad));
  }

  const universe = new InventoryUniverse({ ...SHOP, seed: sim.seed });
  return {
    ops,
    rows: { customers: universe.customerIds(), orders: universe.orderRows() },
    start,
    end: o.now,
  };
}
