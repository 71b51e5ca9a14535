import { GetRecordsCommand, type GetRecordsCommandOutput, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/core/envelope.js';
import { ALWAYS_OPEN, type FlowGate, ManualGate } from '../../src/core/flow-gate.js';
import { SILENT_LOGGER } from '../../src/core/logger.js';
import { NO_METRICS } from '../../src/core/metrics.js';
import { MIN_CALL_INTERVAL_MS, ShardReader } from './shard-reader.js';

/** A shard of `pages` one-record pages, then closed; logs every call and hand-over in order. */
function fakeShard(pages: number, opts: { latencyMs?: number; onCall?: (n: number) => void } = {}) {
  const events: string[] = [];
  const callStarts: number[] = [];
  const send = (async (cmd: unknown) => {
    if (cmd instanceof GetShardIteratorCommand) return { ShardIterator: 'it-0' };
    if (!(cmd instanceof GetRecordsCommand)) throw new Error('unexpected command');
    const n = Number(cmd.input.ShardIterator!.slice(3));
    callStarts.push(performance.now());
    events.push(`call ${n}`);
    opts.onCall?.(n);
    if (opts.latencyMs) await new Promise((res) => setTimeout(res, opts.latencyMs));
    const page: GetRecordsCommandOutput = {
      $metadata: {},
      Records: [{ SequenceNumber: String(100 + n), Data: Buffer.from(`{"n":${n}}`), PartitionKey: 'k' }],
      ...(n + 1 < pages ? { NextShardIterator: `it-${n + 1}` } : {}),
    };
    return page;
  }) as KinesisClient['send'];
  return { client: { send }, events, callStarts };
}

function reader(client: Pick<KinesisClient, 'send'>, events: string[], gate: FlowGate = ALWAYS_OPEN): ShardReader {
  return new ShardReader({
    client,
    streamName: 's',
    shard: 'shardId-0',
    start: { ShardIteratorType: 'TRIM_HORIZON' },
    maxRecordsPerCall: 100,
    idleTimeBetweenReadsMs: 200,
    gate,
    holds: () => true,
    emit: (envs: readonly Envelope[]) => events.push(`take ${envs.map((e) => e.position.seq).join(',')}`),
    log: SILENT_LOGGER,
    metrics: NO_METRICS,
    signal: new AbortController().signal,
  });
}

describe('ShardReader', () => {
  it('asks for the next page before handing the current one to the pipeline', async () => {
    // Calls slower than the 200 ms pacing, as on a stream with a backlog: nothing waits on the pace.
    const shard = fakeShard(3, { latencyMs: MIN_CALL_INTERVAL_MS + 20 });
    expect(await reader(shard.client, shard.events).run()).toBe('closed');
    expect(shard.events).toEqual(['call 0', 'call 1', 'take 100', 'call 2', 'take 101', 'take 102']);
  });

  it('starts GetRecords calls at least 200 ms apart (5 per second per shard)', async () => {
    const shard = fakeShard(4);
    await reader(shard.client, shard.events).run();
    const gaps = shard.callStarts.slice(1).map((t, i) => t - shard.callStarts[i]!);
    expect(gaps).toHaveLength(3);
    // A timer may fire a millisecond early by rounding; the limit is what Kinesis enforces per second.
    for (const g of gaps) expect(g).toBeGreaterThanOrEqual(MIN_CALL_INTERVAL_MS - 2);
  });

  it('while the pipeline has closed the gate: no call ahead, and the page in hand waits', async () => {
    const gate = new ManualGate();
    // The pipeline closes the gate while the first call is out (too much in flight).
    const shard = fakeShard(2, { onCall: (n) => n === 0 && gate.set(false) });
    const run = reader(shard.client, shard.events, gate).run();
    await new Promise((res) => setTimeout(res, 3 * MIN_CALL_INTERVAL_MS));
    expect(shard.events).toEqual(['call 0']);
    gate.set(true);
    expect(await run).toBe('closed');
    // The pause outlasted the 200 ms pace, so the next call goes out before the held page is taken.
    expect(shard.events).toEqual(['call 0', 'call 1', 'take 100', 'take 101']);
  });

  it('holds a page asked for ahead until the pipeline reopens the gate', async () => {
    const gate = new ManualGate();
    // The pipeline closes the gate while the second call (made ahead) is out.
    const shard = fakeShard(3, { latencyMs: MIN_CALL_INTERVAL_MS + 20, onCall: (n) => n === 1 && gate.set(false) });
    const run = reader(shard.client, shard.events, gate).run();
    await new Promise((res) => setTimeout(res, 5 * MIN_CALL_INTERVAL_MS));
    expect(shard.events).toEqual(['call 0', 'call 1', 'take 100']);
    gate.set(true);
    expect(await run).toBe('closed');
    expect(shard.events).toEqual(['call 0', 'call 1', 'take 100', 'call 2', 'take 101', 'take 102']);
  });
});
