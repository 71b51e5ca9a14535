import { describe, expect, it } from 'vitest';
import type { LakeContents, LakeRow } from '../../scripts/demo-lake.js';
import { checkPrerequisites } from '../../scripts/demo-prereqs.js';
import { emptyProduced, type Produced } from '../../scripts/demo-produce.js';
import { buildReport, percentile } from '../../scripts/demo-report.js';
import { counterTotal } from '../../scripts/demo-services.js';
import { buildWorkload, lakeKey, type WorkloadOp } from '../../scripts/demo-workload.js';

const NOW = Date.UTC(2026, 10, 21, 14, 0, 0);

describe('demo prerequisites', () => {
  it('drops only the sources whose tool is missing and names the command that installs it', () => {
    const p = checkPrerequisites((cmd) => cmd !== 'java');
    expect(p.sources).toEqual(['kinesis', 'kafka']);
    expect(p.missing).toHaveLength(1);
    expect(p.missing[0]).toMatchObject({ source: 'dynamodb', tool: 'java' });
    expect(p.missing[0]!.install).toContain('apt-get install -y default-jre-headless');

    const none = checkPrerequisites(() => false);
    expect(none.sources).toEqual(['kinesis']);
    expect(none.missing.map((m) => m.install).join(' ')).toContain('apt-get install -y kcat');
    expect(none.missing.map((m) => m.install).join(' ')).toContain('scripts/setup-machine.sh');
  });
});

describe('demo workload', () => {
  const w = buildWorkload({ events: 1500, sources: ['dynamodb', 'kinesis', 'kafka'], now: NOW, tooLargeBytes: 100 * 1024 });
  const good = (ops: readonly WorkloadOp[]) => ops.filter((o) => o.expect.kind === 'lake');
  const bad = (ops: readonly WorkloadOp[]) => ops.filter((o) => o.expect.kind === 'dlq');

  it('splits one shop by warehouse: every change goes to exactly one source, malformed records mid-stream', () => {
    const kinesis = w.ops.get('kinesis')!;
    const kafka = w.ops.get('kafka')!;
    const dynamo = w.ops.get('dynamodb')!;
    // DynamoDB items are created once before their first change: those puts come on top.
    const inserts = dynamo.filter((o) => o.label === 'insert').length;
    expect(good(kinesis).length + good(kafka).length + good(dynamo).length - inserts).toBe(1500);
    expect(bad(kinesis)).toHaveLength(10);
    expect(bad(kafka)).toHaveLength(10);
    expect(bad(dynamo).length).toBeGreaterThanOrEqual(3);
    for (const ops of [kinesis, kafka, dynamo]) {
      const first = ops.findIndex((o) => o.expect.kind === 'dlq');
      expect(first).toBeGreaterThan(0);
      expect(first).toBeLessThan(ops.length - 1);
    }
    const warehouses = (ops: readonly WorkloadOp[]) => new Set(good(ops).map((o) => o.lane.split('|')[1]));
    expect([...warehouses(kinesis)].some((wh) => warehouses(kafka).has(wh) || warehouses(dynamo).has(wh))).toBe(false);
  });

  it('writes DynamoDB items the way a table is used: created, changed, sometimes deleted', () => {
    const dynamo = w.ops.get('dynamodb')!;
    const labels = new Set(dynamo.map((o) => o.label));
    for (const l of ['insert', 'sale', 'restock', 'adjustment', 'return', 'delete']) expect(labels).toContain(l);
    // An item's first write creates it (no change type: the stream calls it an insert).
    const firstOfLane = new Map<string, WorkloadOp>();
    for (const op of good(dynamo)) if (!firstOfLane.has(op.lane)) firstOfLane.set(op.lane, op);
    for (const op of firstOfLane.values()) {
      expect(op.label).toBe('insert');
      expect(op.payload.kind === 'put' && op.payload.item.lastChangeType).toBeFalsy();
    }
  });

  it('refers to the customers and orders it seeds, with event times in the hours before now', () => {
    const customers = new Set(w.rows.customers);
    const orders = new Map([...w.rows.orders].map((o) => [o.orderId, o.customerId]));
    const lines = good(w.ops.get('kinesis')!).map((o) => JSON.parse((o.payload as { data: Buffer }).data.toString()) as Record<string, string | null>);
    const sales = lines.filter((l) => l.eventType === 'sale');
    expect(sales.length).toBeGreaterThan(10);
    for (const s of sales) {
      expect(orders.has(s.orderId!)).toBe(true);
      if (s.customerId) {
        expect(customers.has(s.customerId)).toBe(true);
        expect(orders.get(s.orderId!)).toBe(s.customerId);
      }
    }
    expect(w.start).toBeLessThan(NOW);
    expect(w.end).toBe(NOW);
  });
});

describe('demo checks', () => {
  it('sums a Prometheus counter over its label sets and ignores look-alike names', () => {
    const text = [
      '# HELP integrator_events_written_total records written',
      'integrator_events_written_total{table="inventory_changes"} 40',
      'integrator_events_written_total{table="other"} 2',
      'integrator_events_written_total_created 123',
      'integrator_events_dead_lettered_total{code="RECORD_INVALID"} 3',
    ].join('\n');
    expect(counterTotal(text, 'integrator_events_written_total')).toBe(42);
    expect(counterTotal(text, 'integrator_events_dead_lettered_total')).toBe(3);
  });

  it('takes nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(Number.isNaN(percentile([], 50))).toBe(true);
  });

  const row = (over: Partial<LakeRow>): LakeRow => ({
    eventId: 'e1',
    source: 'kinesis',
    shard: 's1',
    sequence: '1',
    eventType: 'sale',
    sku: 'SKU-1',
    warehouseId: 'WH-01',
    eventTime: 1000,
    enrichmentStatus: 'ok',
    storedAt: 5000,
    ...over,
  });
  const produced = (): Produced => {
    const p = emptyProduced('kinesis');
    p.sentAt.set(lakeKey('SKU-1', 'WH-01', 1000), [4000]);
    p.sentAt.set(lakeKey('SKU-2', 'WH-01', 2000), [4500]);
    return { ...p, good: 2, malformed: [{ code: 'RECORD_INVALID', category: 'missing-sku' }] };
  };
  const lake = (rows: LakeRow[], dlqCodes: string[]): LakeContents => ({
    rows,
    objects: new Map([['kinesis', 1]]),
    partitions: ['dt=1970-01-01/hour=00'],
    deadLetters: dlqCodes.map((code) => ({ source: 'kinesis', code, reason: 'r' })),
    dlqObjects: 1,
  });

  it('passes when every produced event is in the lake once (raw duplicates allowed) and the malformed ones are in the DLQ', () => {
    const rows = [row({}), row({}), row({ eventId: 'e2', sequence: '2', sku: 'SKU-2', eventTime: 2000, storedAt: 6500 })];
    const r = buildReport([produced()], lake(rows, ['RECORD_INVALID']), { tables: { inventory_changes_curated: 2 }, referenceRows: { orders: 1, customers: 1 } });
    expect(r.problems).toEqual([]);
    expect(r.sources[0]).toMatchObject({ produced: 2, inLake: 2, rawDuplicates: 1, missing: 0, unexpected: 0, deadLettered: 1 });
    expect(r.latency).toMatchObject({ p50: 1, p99: 2, samples: 2 });
  });

  it('names a lost event, an invented row, a wrong DLQ and a curated count that does not match', () => {
    const rows = [row({}), row({ eventId: 'e9', sequence: '9', sku: 'SKU-9' })];
    const r = buildReport([produced()], lake(rows, ['RECORD_UNDECODABLE']), { tables: { inventory_changes_curated: 2 }, referenceRows: { orders: 1, customers: 1 } });
    expect(r.problems.join('\n')).toMatch(/1 of 2 produced events are not in the lake/);
    expect(r.problems.join('\n')).toMatch(/1 lake rows match no produced event/);
    expect(r.problems.join('\n')).toMatch(/DLQ holds .*RECORD_UNDECODABLE/);
    expect(r.problems.join('\n')).toMatch(/curated inventory_changes_curated has 2 rows, expected 1/);
  });
});
