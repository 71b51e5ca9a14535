import { describe, expect, it } from 'vitest';
import { IntegratorError } from '../core/errors.js';
import type { InventoryChange } from '../core/model.js';
import { SILENT_LOGGER } from '../core/logger.js';
import { MemoryMetrics } from '../core/metrics.js';
import { BatchingConfig, PartitioningConfig } from '../config/schema.js';
import { ArraySource, envelope, MemoryCatalog, MemoryDlq, MemorySink, passThrough } from '../../test/fixtures/memory-ports.js';
import { buildPipeline, type PipelinePorts } from './build-pipeline.js';

const event = (i: number, hour = 10) => ({
  eventType: 'sale',
  sku: `SKU-${i % 7}`,
  warehouseId: 'WH-01',
  quantityBefore: 100,
  quantityAfter: 99,
  orderId: `O-${i}`,
  customerId: `C-${i % 5}`,
  eventTime: new Date(Date.UTC(2026, 10, 21, hour, i % 60)).toISOString(),
});

const options = (over: Partial<BatchingConfig> = {}) => ({
  table: 'inventory_changes',
  batching: BatchingConfig.parse({ maxRecords: 50, maxAgeMs: 20, ...over }),
  partitioning: PartitioningConfig.parse({}),
  maxRecordBytes: 10_000,
});

function ports(source: ArraySource, sink = new MemorySink()): PipelinePorts & { source: ArraySource; sink: MemorySink; dlq: MemoryDlq; catalog: MemoryCatalog; metrics: MemoryMetrics } {
  return { source, sink, dlq: new MemoryDlq(), catalog: new MemoryCatalog(), enricher: passThrough, log: SILENT_LOGGER, metrics: new MemoryMetrics() };
}

describe('buildPipeline', () => {
  it('writes every good record, dead-letters every bad one, and checkpoints the end', async () => {
    const polls = [
      [envelope(1, event(1)), envelope(2, '{not json'), envelope(3, event(3, 11))],
      [envelope(4, { ...event(4), sku: '' }), envelope(5, Buffer.from([0xff, 0xfe, 0x7b])), envelope(6, event(6))],
      [envelope(7, 'x'.repeat(20_000)), envelope(8, event(8, 12))],
    ];
    const p = ports(new ArraySource(polls));
    const summary = await buildPipeline(p, options()).start().done;

    expect(summary).toMatchObject({ received: 8, written: 4, deadLettered: 4 });
    expect(p.sink.records().map((r) => r.sequence).sort()).toEqual(['1', '3', '6', '8']);
    expect(p.dlq.letters.map((l) => [l.position.seq, l.code])).toEqual(
      expect.arrayContaining([
        ['2', 'RECORD_UNDECODABLE'],
        ['4', 'RECORD_INVALID'],
        ['5', 'RECORD_UNDECODABLE'],
        ['7', 'RECORD_TOO_LARGE'],
      ]),
    );
    const bad = p.dlq.letters.find((l) => l.position.seq === '5')!;
    expect(bad.payload).toEqual({ kind: 'bytes', data: Buffer.from([0xff, 0xfe, 0x7b]) });
    expect(p.source.lastCommit()).toBe('8');
    expect(p.catalog.committed.map((c) => c.partition.path).sort()).toEqual(['dt=2026-11-21/hour=10', 'dt=2026-11-21/hour=11', 'dt=2026-11-21/hour=12']);
  });

  it('never checkpoints past a record that is not yet written, and retries failed writes', async () => {
    const source = new ArraySource([Array.from({ length: 120 }, (_, i) => envelope(i + 1, event(i + 1, 10 + (i % 3))))]);
    const sink = new MemorySink(3);
    const p = ports(source, sink);
    const seen: string[] = [];
    const original = source.commit.bind(source);
    source.commit = async (pos) => {
      const written = new Set(sink.records().map((r) => Number(r.sequence)));
      for (let s = 1; s <= Number(pos.seq); s++) if (!written.has(s)) throw new Error(`checkpoint ${pos.seq} passes unwritten ${s}`);
      seen.push(pos.seq);
      return original(pos);
    };
    const summary = await buildPipeline(p, options({ maxRecords: 10 })).start().done;
    expect(summary.written).toBe(120);
    expect(sink.failures).toBe(3);
    expect(source.lastCommit()).toBe('120');
    expect(p.metrics.total('integrator_sink_retries_total')).toBe(3);
    expect(new Set(sink.records().map((r) => r.eventId)).size).toBe(120);
  });

  it('stops on a non-retriable sink error without checkpointing the unwritten records', async () => {
    const source = new ArraySource([[envelope(1, event(1)), envelope(2, event(2))]]);
    const sink = new MemorySink(1, () => new IntegratorError('SINK_WRITE_FAILED', 'AccessDenied on s3://lake/x', { retriable: false }));
    const p = ports(source, sink);
    await expect(buildPipeline(p, options()).start().done).rejects.toThrow(/AccessDenied/);
    expect(source.commits).toEqual([]);
  });

  it('flush() writes open batches and resolves once they are checkpointed', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const source = new ArraySource([[envelope(1, event(1)), envelope(2, event(2))]]);
    const originalOpen = source.open.bind(source);
    source.open = (ctx) => {
      const inner = originalOpen(ctx);
      return new (inner.constructor as typeof import('rxjs').Observable)<readonly import('../core/envelope.js').Envelope[]>((sub) => {
        const s = inner.subscribe({ next: (v) => sub.next(v) });
        void held.then(() => sub.complete());
        return () => s.unsubscribe();
      });
    };
    const p = ports(source);
    const running = buildPipeline(p, options({ maxAgeMs: 60_000 })).start();
    await new Promise((r) => setTimeout(r, 20));
    expect(p.sink.records()).toHaveLength(0);
    await running.flush();
    expect(source.lastCommit()).toBe('2');
    release();
    await running.done;
  });

  it('keeps going when the catalog fails', async () => {
    const p = ports(new ArraySource([[envelope(1, event(1))]]));
    p.catalog.partitionsCommitted = async () => {
      throw new Error('Glue is down');
    };
    const summary = await buildPipeline(p, options()).start().done;
    expect(summary.written).toBe(1);
    expect(p.source.lastCommit()).toBe('1');
  });

  it('keeps moving when the in-flight limit is reached with every batch still open', async () => {
    // 2,400 records over 24 hour partitions: no batch ever fills, the memory budget is far off
    // and max age is a minute away; only the buffered-records limit can start deliveries.
    const polls = Array.from({ length: 24 }, (_, p) => Array.from({ length: 100 }, (_, i) => envelope(p * 100 + i + 1, event(p * 100 + i + 1, (p * 7 + i) % 24))));
    const p = ports(new ArraySource(polls));
    const summary = await buildPipeline(p, options({ maxRecords: 100_000, maxAgeMs: 60_000, maxInFlightRecords: 1000, memoryBudgetBytes: 1024 * 1024 * 1024 })).start().done;
    expect(summary.written).toBe(2400);
    expect(p.source.lastCommit()).toBe('2400');
  }, 10_000);

  it('does not call an enricher that says it passes changes through, and calls any other', async () => {
    const polls = () => [Array.from({ length: 30 }, (_, i) => envelope(i + 1, event(i + 1)))];
    let calls = 0;
    const marked = {
      passThrough: true,
      enrich: async () => {
        calls++;
        throw new Error('must not be called');
      },
      close: async () => {},
    };
    const p = { ...ports(new ArraySource(polls())), enricher: marked };
    expect((await buildPipeline(p, options()).start().done).written).toBe(30);
    expect(calls).toBe(0);
    expect(p.sink.records().every((r) => r.enrichment.status === 'skipped')).toBe(true);

    const counted = {
      enrich: async (changes: readonly InventoryChange[]) => {
        calls++;
        return { enriched: changes, rejected: [] };
      },
      close: async () => {},
    };
    const q = { ...ports(new ArraySource(polls())), enricher: counted };
    expect((await buildPipeline(q, options()).start().done).written).toBe(30);
    expect(calls).toBeGreaterThan(0);
  });
});
