import { describe, expect, it } from 'vitest';
import type { OutputBatch, Sink, WrittenObject } from '../core/ports.js';
import { InvocationFence, fenceClient } from './lambda-fence.js';
import { EmfMetrics } from './lambda-metrics.js';
import { METRIC } from '../core/metrics.js';
import { deadlineMarginMs, invocationBudgetMs } from './lambda-invoke.js';

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);
const BATCH = {} as OutputBatch;

describe('InvocationFence', () => {
  it('passes writes while open, abandons the one under way when it closes, refuses later ones non-retriably', async () => {
    let calls = 0;
    const inner: Sink = { write: () => (++calls === 1 ? Promise.resolve({ key: 'k' } as WrittenObject) : never()), close: async () => undefined };
    const fence = new InvocationFence();
    const sink = fence.sink(inner);
    await expect(sink.write(BATCH)).resolves.toEqual({ key: 'k' });
    const hanging = sink.write(BATCH);
    fence.close('deadline of 10 ms reached');
    await expect(hanging).rejects.toMatchObject({ code: 'SHUTDOWN', retriable: false });
    await expect(sink.write(BATCH)).rejects.toThrow(/invocation ended: deadline of 10 ms reached/);
    expect(calls).toBe(2);
  });

  it('fences a shared client only for calls made on behalf of its own invocation', async () => {
    let sent = 0;
    const real = { config: { region: 'r' }, send: async (x: number) => (sent++, x * 2) };
    const client = fenceClient(real);
    expect(client.config).toBe(real.config);
    const a = new InvocationFence();
    const b = new InvocationFence();
    a.close('deadline');
    await expect(a.run(() => client.send(1))).rejects.toMatchObject({ code: 'SHUTDOWN' });
    // Deferred work started inside run() still belongs to the closed invocation.
    await expect(a.run(() => new Promise((r) => setTimeout(r, 1)).then(() => client.send(2)))).rejects.toMatchObject({ code: 'SHUTDOWN' });
    await expect(b.run(() => client.send(3))).resolves.toBe(6);
    await expect(client.send(4)).resolves.toBe(8);
    expect(sent).toBe(2);
  });
});

describe('invocation budget', () => {
  it('keeps 10% of the remaining time back, within 0.5 to 10 seconds', () => {
    expect(deadlineMarginMs(3000)).toBe(500);
    expect(deadlineMarginMs(60_000)).toBe(6000);
    expect(deadlineMarginMs(900_000)).toBe(10_000);
    expect(invocationBudgetMs({ getRemainingTimeInMillis: () => 60_000 })).toBe(54_000);
    expect(invocationBudgetMs({ getRemainingTimeInMillis: () => 4000 }, 500)).toBe(3500);
    expect(invocationBudgetMs({ getRemainingTimeInMillis: () => 200 })).toBe(0);
    expect(invocationBudgetMs({})).toBe(14 * 60_000 - 10_000);
  });
});

describe('EmfMetrics', () => {
  it('writes one CloudWatch EMF document per flush, labels summed, and starts over', () => {
    const m = new EmfMetrics();
    m.inc(METRIC.received, { source: 'kinesis' }, 10);
    m.inc(METRIC.received, { source: 'kinesis', shard: 'x' }, 5);
    m.observe(METRIC.flushSeconds, 0.25);
    m.set(METRIC.checkpointLagRecords, 0);
    const doc = JSON.parse(m.flush({ source: 'kinesis', stream: 's' }, 1000)!);
    expect(doc).toMatchObject({
      source: 'kinesis',
      stream: 's',
      [METRIC.received]: 15,
      [METRIC.flushSeconds]: [0.25],
      [METRIC.checkpointLagRecords]: 0,
      _aws: { Timestamp: 1000, CloudWatchMetrics: [{ Namespace: 'InventoryIntegrator', Dimensions: [['source', 'stream']] }] },
    });
    expect(doc._aws.CloudWatchMetrics[0].Metrics).toContainEqual({ Name: METRIC.flushSeconds, Unit: 'Seconds' });
    expect(m.flush({ source: 'kinesis' })).toBeUndefined();
  });
});
