import { eventIdOf } from '../../src/core/event-id.js';
import type { EventType, InventoryChange } from '../../src/core/model.js';
import { NOT_ENRICHED } from '../../src/core/model.js';
import { seededRng } from '../fixtures/random.js';

export const BASE_TIME = Date.UTC(2026, 10, 21, 20, 0, 0);
const SKUS = ['SKU-A', 'SKU-B', 'SKU-C', 'SKU-D', "SKU-O'Brien", 'SKU-É'];
const WAREHOUSES = ['WH-1', 'WH-2', 'WH-3'];

export interface OrderRow {
  order_id: string;
  customer_id: string | null;
  channel: string;
  status: string;
  total_amount: string;
  placed_at: Date;
}
export interface CustomerRow {
  customer_id: string;
  name: string;
  tier: string;
  country: string;
}

export interface Dataset {
  /** Each event once: what the curated layer must hold. */
  readonly unique: InventoryChange[];
  /** Batches as written, in write order: on-time, then replays (duplicates), then late events. */
  readonly batches: { records: InventoryChange[]; kind: 'on-time' | 'replay' | 'late' }[];
  readonly orders: OrderRow[];
  readonly customers: CustomerRow[];
}

function change(shard: string, source: InventoryChange['source'], stream: string, seq: number, fields: Partial<InventoryChange>): InventoryChange {
  return {
    eventId: eventIdOf({ source, stream, shard, seq: String(seq) }),
    source,
    stream,
    shard,
    sequence: String(seq),
    eventType: 'adjustment',
    sku: 'SKU-A',
    warehouseId: 'WH-1',
    quantityBefore: null,
    quantityAfter: null,
    delta: 0,
    orderId: null,
    customerId: null,
    eventTime: BASE_TIME,
    ingestTime: BASE_TIME,
    enrichment: NOT_ENRICHED,
    ...fields,
  };
}

/**
 * Three on-time shards over ~30 hours (two UTC days), batched by partition; then a replay of
 * overlapping ranges with other batch boundaries (the raw layer's duplicates); then a late shard
 * whose events belong to hours long closed, some of them delivered twice.
 */
export function makeDataset(opts: { perShard?: number; seed?: number } = {}): Dataset {
  const perShard = opts.perShard ?? 360;
  const rnd = seededRng(opts.seed ?? 7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const stock = new Map<string, number>();
  const orders: OrderRow[] = [];
  const orderIds: string[] = [];
  let orderNo = 0;

  const eventFields = (eventTime: number, ingestTime: number): Partial<InventoryChange> => {
    const sku = pick(SKUS);
    const warehouseId = pick(WAREHOUSES);
    const key = `${sku}|${warehouseId}`;
    const before = stock.get(key) ?? 100;
    const r = rnd();
    const eventType: EventType = r < 0.45 ? 'sale' : r < 0.7 ? 'restock' : r < 0.85 ? 'return' : 'adjustment';
    const amount = 1 + Math.floor(rnd() * 9);
    const delta = eventType === 'sale' ? -amount : eventType === 'adjustment' ? (rnd() < 0.5 ? -amount : amount) : amount;
    stock.set(key, before + delta);
    let orderId: string | null = null;
    let customerId: string | null = null;
    if (eventType === 'sale' || eventType === 'return') {
      if (eventType === 'return' && orderIds.length > 0) orderId = pick(orderIds);
      else {
        orderId = `ORD-${++orderNo}`;
        orderIds.push(orderId);
        const cust = `CUST-${1 + Math.floor(rnd() * 25)}`;
        // Some orders are missing from the database; some have no customer.
        if (orderNo % 11 !== 0) {
          orders.push({
            order_id: orderId,
            customer_id: orderNo % 13 === 0 ? null : cust,
            channel: pick(['web', 'store', 'app']),
            status: pick(['paid', 'shipped', 'delivered']),
            total_amount: (amount * 9.99).toFixed(2),
            placed_at: new Date(eventTime - 60_000),
          });
        }
      }
      // Most events carry their customer; a third carry only the order (its customer stands in).
      const order = orders.find((o) => o.order_id === orderId);
      customerId = rnd() < 0.66 ? (order?.customer_id ?? `CUST-${1 + Math.floor(rnd() * 25)}`) : null;
    }
    return { sku, warehouseId, eventType, quantityBefore: before, quantityAfter: before + delta, delta, orderId, customerId, eventTime, ingestTime };
  };

  const batches: Dataset['batches'] = [];
  const unique: InventoryChange[] = [];
  const shards = [
    { source: 'kinesis' as const, stream: 'inventory', shard: 'shardId-000000000000' },
    { source: 'kinesis' as const, stream: 'inventory', shard: 'shardId-000000000001' },
    { source: 'kafka' as const, stream: 'inventory-changes', shard: '2' },
  ];
  shards.forEach((s, si) => {
    const events: InventoryChange[] = [];
    for (let seq = 1; seq <= perShard; seq++) {
      // ~5 minutes apart; shards interleave; now and then two events share a timestamp.
      const eventTime = BASE_TIME + seq * 300_000 + (seq % 17 === 0 ? 0 : si * 1000 + (seq % 3) * 7);
      const ev = change(s.shard, s.source, s.stream, seq, eventFields(eventTime, eventTime + 2_000));
      events.push(ev);
      unique.push(ev);
    }
    batches.push(...batchByHour(events, 25).map((records) => ({ records, kind: 'on-time' as const })));
    // A crash before the checkpoint: the range is read again later and cut into other batches.
    const from = 40 + si * 30;
    const replay = events.slice(from, from + 70).map((e) => ({ ...e, ingestTime: e.ingestTime + 3_600_000 }));
    batches.push(...batchByHour(replay, 9).map((records) => ({ records, kind: 'replay' as const })));
  });
  // Late: a shard that was down for a day delivers events of the first hours.
  const late: InventoryChange[] = [];
  for (let seq = 1; seq <= 60; seq++) {
    const eventTime = BASE_TIME + seq * 90_000 + 333;
    const ev = change('shardId-000000000009', 'dynamodb', 'inventory-table', seq, eventFields(eventTime, eventTime + 86_400_000));
    late.push(ev);
    unique.push(ev);
  }
  batches.push(...batchByHour(late, 20).map((records) => ({ records, kind: 'late' as const })));
  batches.push(...batchByHour(late.slice(10, 30), 7).map((records) => ({ records: records.map((e) => ({ ...e, ingestTime: e.ingestTime + 5 })), kind: 'late' as const })));

  const customers: CustomerRow[] = [];
  for (let c = 1; c <= 25; c++) {
    if (c % 6 === 0) continue; // unknown to the database
    customers.push({ customer_id: `CUST-${c}`, name: `Customer ${c}`, tier: c % 3 === 0 ? 'gold' : 'standard', country: c % 2 ? 'DE' : 'FR' });
  }
  // The same order exported twice must not multiply its events.
  if (orders[0]) orders.push({ ...orders[0] });
  return { unique, batches, orders, customers };
}

/** Consecutive events of one shard, cut at hour boundaries and every `max` records. */
export function batchByHour(events: readonly InventoryChange[], max: number): InventoryChange[][] {
  const out: InventoryChange[][] = [];
  let cur: InventoryChange[] = [];
  let hour = -1;
  for (const e of events) {
    const h = Math.floor(e.eventTime / 3_600_000);
    if (cur.length > 0 && (h !== hour || cur.length >= max)) {
      out.push(cur);
      cur = [];
    }
    hour = h;
    cur.push(e);
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
