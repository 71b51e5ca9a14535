import {
  DescribeStreamSummaryCommand,
  type KinesisClient,
  ListShardsCommand,
  MergeShardsCommand,
  PutRecordsCommand,
  type PutRecordsRequestEntry,
  SplitShardCommand,
} from '@aws-sdk/client-kinesis';
import type { Subscription } from 'rxjs';
import type { Envelope } from '../../src/core/envelope.js';
import { ALWAYS_OPEN, type FlowGate } from '../../src/core/flow-gate.js';
import { SILENT_LOGGER } from '../../src/core/logger.js';
import { NO_METRICS } from '../../src/core/metrics.js';
import type { Source } from '../../src/core/ports.js';
import { shardKey } from '../../src/core/position.js';

type Send = Pick<KinesisClient, 'send'>;

/** Test helpers for the Kinesis source suites (kinesalite). Not used by the service. */

/** PutRecords in batches of 500, re-sending whatever a batch reports as failed, in order. */
export async function putAll(client: Send, stream: string, records: ReadonlyArray<{ pk: string; data: Buffer | string }>): Promise<void> {
  for (let i = 0; i < records.length; i += 500) {
    let entries: PutRecordsRequestEntry[] = records
      .slice(i, i + 500)
      .map((r) => ({ PartitionKey: r.pk, Data: typeof r.data === 'string' ? Buffer.from(r.data) : r.data }));
    for (let attempt = 0; entries.length > 0; attempt++) {
      if (attempt > 10) throw new Error('PutRecords kept failing');
      const out = await client.send(new PutRecordsCommand({ StreamName: stream, Records: entries }));
      entries = entries.filter((_, j) => out.Records?.[j]?.ErrorCode !== undefined);
    }
  }
}

export async function waitActive(client: Send, stream: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const s = await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    if (s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`stream ${stream} stayed busy`);
}

/** Splits an open shard in the middle of its hash range. */
export async function splitInHalf(client: Send, stream: string, shardId: string): Promise<void> {
  const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: stream }));
  const s = Shards.find((x) => x.ShardId === shardId);
  if (!s?.HashKeyRange?.StartingHashKey || !s.HashKeyRange.EndingHashKey) throw new Error(`no shard ${shardId}`);
  const lo = BigInt(s.HashKeyRange.StartingHashKey);
  const hi = BigInt(s.HashKeyRange.EndingHashKey);
  await client.send(new SplitShardCommand({ StreamName: stream, ShardToSplit: shardId, NewStartingHashKey: String((lo + hi + 1n) / 2n) }));
  await waitActive(client, stream);
}

export async function merge(client: Send, stream: string, shard: string, adjacent: string): Promise<void> {
  await client.send(new MergeShardsCommand({ StreamName: stream, ShardToMerge: shard, AdjacentShardToMerge: adjacent }));
  await waitActive(client, stream);
}

export async function openShards(client: Send, stream: string): Promise<string[]> {
  const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: stream }));
  return Shards.filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined).map((s) => s.ShardId!);
}

/**
 * Stands in for the pipeline: records every envelope in arrival order and, unless told not to,
 * commits each chunk's last position right away (per shard, in order), as delivery would.
 */
export class Drain {
  readonly received: Envelope[] = [];
  private sub: Subscription | undefined;
  private commits = new Map<string, Promise<void>>();
  error: unknown;
  completed = false;

  constructor(
    private readonly source: Source,
    private readonly opts: { commit?: (e: Envelope, index: number) => boolean; gate?: FlowGate } = {},
  ) {}

  start(): this {
    this.sub = this.source
      .open({ gate: this.opts.gate ?? ALWAYS_OPEN, log: SILENT_LOGGER, metrics: NO_METRICS, flush: async () => undefined })
      .subscribe({
        next: (chunk) => {
          for (const e of chunk) this.received.push(e);
          const last = chunk[chunk.length - 1]!;
          if (this.opts.commit && !this.opts.commit(last, this.received.length - 1)) return;
          const k = shardKey(last.position);
          const prev = this.commits.get(k) ?? Promise.resolve();
          this.commits.set(
            k,
            prev.then(() => this.source.commit(last.position)).catch((err) => (this.error = err)),
          );
        },
        error: (err) => (this.error = err),
        complete: () => (this.completed = true),
      });
    return this;
  }

  texts(): string[] {
    return this.received.map((e) => (e.payload.kind === 'bytes' ? e.payload.data.toString('utf8') : ''));
  }

  async until(pred: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (this.error) throw this.error;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (received ${this.received.length})`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async stop(): Promise<void> {
    await this.source.stop();
    await Promise.all(this.commits.values());
    this.sub?.unsubscribe();
  }
}
