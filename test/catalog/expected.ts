import type { InventoryChange } from '../../src/core/model.js';
import type { CustomerRow, OrderRow } from './curated-dataset.js';

/**
 * The curated figures computed straight from the input events in plain TypeScript, with no SQL,
 * so the test compares two independent computations.
 */
export interface ExpectedCurated {
  event_id: string;
  customer_id: string | null;
  order_status: string | null;
  order_channel: string | null;
  customer_name: string | null;
  dt: string;
}

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export function expectedCurated(unique: readonly InventoryChange[], orders: readonly OrderRow[], customers: readonly CustomerRow[]): ExpectedCurated[] {
  const orderById = new Map<string, OrderRow>();
  for (const o of orders) if (!orderById.has(o.order_id)) orderById.set(o.order_id, o);
  const customerById = new Map(customers.map((c) => [c.customer_id, c]));
  return unique
    .map((e) => {
      const order = e.orderId === null ? undefined : orderById.get(e.orderId);
      const customerId = e.customerId ?? order?.customer_id ?? null;
      return {
        event_id: e.eventId,
        customer_id: customerId,
        order_status: order?.status ?? null,
        order_channel: order?.channel ?? null,
        customer_name: customerId === null ? null : (customerById.get(customerId)?.name ?? null),
        dt: day(e.eventTime),
      };
    })
    .sort((a, b) => (a.event_id < b.event_id ? -1 : 1));
}

export interface ExpectedSnapshot {
  sku: string;
  warehouse_id: string;
  quantity: number | null;
  as_of: string;
  last_event_id: string;
}

export function expectedSnapshot(unique: readonly InventoryChange[]): ExpectedSnapshot[] {
  const latest = new Map<string, InventoryChange>();
  const newer = (a: InventoryChange, b: InventoryChange): boolean =>
    a.eventTime !== b.eventTime ? a.eventTime > b.eventTime : a.ingestTime !== b.ingestTime ? a.ingestTime > b.ingestTime : a.eventId > b.eventId;
  for (const e of unique) {
    const k = `${e.sku}|${e.warehouseId}`;
    const cur = latest.get(k);
    if (!cur || newer(e, cur)) latest.set(k, e);
  }
  return [...latest.values()]
    .map((e) => ({ sku: e.sku, warehouse_id: e.warehouseId, quantity: e.quantityAfter, as_of: new Date(e.eventTime).toISOString(), last_event_id: e.eventId }))
    .sort(bySkuWarehouse);
}

export interface ExpectedDaily {
  dt: string;
  warehouse_id: string;
  sku: string;
  units_sold: number;
  units_restocked: number;
  units_returned: number;
  net_change: number;
  distinct_customers: number;
  events: number;
}

export function expectedDaily(unique: readonly InventoryChange[], orders: readonly OrderRow[]): ExpectedDaily[] {
  const orderCustomer = new Map<string, string | null>();
  for (const o of orders) if (!orderCustomer.has(o.order_id)) orderCustomer.set(o.order_id, o.customer_id);
  const groups = new Map<string, ExpectedDaily & { customers: Set<string> }>();
  for (const e of unique) {
    const k = `${day(e.eventTime)}|${e.warehouseId}|${e.sku}`;
    let g = groups.get(k);
    if (!g) {
      g = { dt: day(e.eventTime), warehouse_id: e.warehouseId, sku: e.sku, units_sold: 0, units_restocked: 0, units_returned: 0, net_change: 0, distinct_customers: 0, events: 0, customers: new Set() };
      groups.set(k, g);
    }
    if (e.eventType === 'sale') g.units_sold += -e.delta;
    if (e.eventType === 'restock') g.units_restocked += e.delta;
    if (e.eventType === 'return') g.units_returned += e.delta;
    g.net_change += e.delta;
    g.events++;
    const customer = e.customerId ?? (e.orderId === null ? null : (orderCustomer.get(e.orderId) ?? null));
    if (customer !== null) g.customers.add(customer);
  }
  return [...groups.values()]
    .map(({ customers, ...g }) => ({ ...g, distinct_customers: customers.size }))
    .sort((a, b) => (a.dt !== b.dt ? (a.dt < b.dt ? -1 : 1) : bySkuWarehouse(a, b)));
}

function bySkuWarehouse(a: { sku: string; warehouse_id: string }, b: { sku: string; warehouse_id: string }): number {
  if (a.warehouse_id !== b.warehouse_id) return a.warehouse_id < b.warehouse_id ? -1 : 1;
  return a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0;
}
