import { DescribeStreamSummaryCommand, GetRecordsCommand, GetShardIteratorCommand, type KinesisClient, ListShardsCommand, type ShardIteratorType } from '@aws-sdk/client-kinesis';
import { compareSeq } from '../../src/core/position.js';
import { kinesisRecord } from './events.js';

export interface StreamsResponse {
  readonly batchItemFailures?: ReadonlyArray<{ readonly itemIdentifier?: string }> | null;
}

export interface DriverOptions {
  readonly kinesis: Pick<KinesisClient, 'send'>;
  readonly stream: string;
  /** Records per invocation (the mapping's BatchSize). */
  readonly batchSize: number;
  readonly invoke: (event: { Records: unknown[] }) => Promise<StreamsResponse>;
  /** Invocations of one batch that may fail in a row before the driver gives up (MaximumRetryAttempts). */
  readonly maxRetries?: number;
  /** Called after each invocation, e.g. to heal an injected fault once it was reported. */
  readonly onInvoked?: (info: InvocationRecord) => void | Promise<void>;
}

export interface InvocationRecord {
  readonly shard: string;
  readonly sequences: readonly string[];
  /** The lowest reported failure, or undefined when the batch succeeded. */
  readonly failedAt?: string;
  readonly error?: string;
}

interface ShardCursor {
  readonly shard: string;
  /** Where the next batch starts: after a checkpoint, or at a reported failure. */
  next: { type: ShardIteratorType; seq?: string };
  retries: number;
  done: boolean;
}

/**
 * A local stand-in for Lambda's Kinesis event source mapping with ReportBatchItemFailures: polls
 * each shard with GetRecords, builds the event as Lambda does (base64 data, eventID
 * "shardId:seq", the stream ARN), invokes, and checkpoints per the response: nothing reported →
 * after the batch's last record; failures reported → re-read from the lowest reported sequence
 * number; an invocation error → the same batch again. An itemIdentifier that is not in the batch
 * counts as a failure of the whole batch, as Lambda treats it. Shards are served one batch at a
 * time, round robin, each shard's batches in order; it stops when every shard is read to its tip.
 */
export class EventSourceMappingDriver {
  readonly invocations: InvocationRecord[] = [];

  constructor(private readonly o: DriverOptions) {}

  async drain(): Promise<void> {
    const { kinesis, stream } = this.o;
    const arn = (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }))).StreamDescriptionSummary?.StreamARN;
    if (!arn) throw new Error(`stream ${stream} has no ARN`);
    const shards = (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
    const cursors: ShardCursor[] = shards.map((s) => ({ shard: s.ShardId!, next: { type: 'TRIM_HORIZON' }, retries: 0, done: false }));
    while (cursors.some((c) => !c.done)) {
      for (const c of cursors) if (!c.done) await this.step(c, arn);
    }
  }

  private async step(c: ShardCursor, arn: string): Promise<void> {
    const { kinesis, stream } = this.o;
    const it = await kinesis.send(
      new GetShardIteratorCommand({ StreamName: stream, ShardId: c.shard, ShardIteratorType: c.next.type, ...(c.next.seq ? { StartingSequenceNumber: c.next.seq } : {}) }),
    );
    const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator!, Limit: this.o.batchSize }));
    const records = page.Records ?? [];
    if (records.length === 0) {
      // Every record put before drain() is readable at once on kinesalite: an empty page at the tip ends the shard.
      if ((page.MillisBehindLatest ?? 0) === 0) c.done = true;
      return;
    }
    const streamName = arn.slice(arn.indexOf(':stream/') + ':stream/'.length);
    const event = {
      Records: records.map((r) =>
        kinesisRecord(streamName, c.shard, { seq: r.SequenceNumber!, data: Buffer.from(r.Data!), partitionKey: r.PartitionKey, arrivedAt: r.ApproximateArrivalTimestamp?.getTime() }),
      ),
    };
    // The ARN kinesalite reports, not the helper's default account.
    for (const r of event.Records) r.eventSourceARN = arn;
    const sequences = records.map((r) => r.SequenceNumber!);
    let info: InvocationRecord;
    try {
      const res = await this.o.invoke(event);
      const ids = (res.batchItemFailures ?? []).map((f) => f.itemIdentifier);
      if (ids.length === 0) {
        c.next = { type: 'AFTER_SEQUENCE_NUMBER', seq: sequences[sequences.length - 1] };
        c.retries = 0;
        info = { shard: c.shard, sequences };
      } else {
        const valid = ids.filter((id): id is string => typeof id === 'string' && sequences.includes(id));
        const lowest = valid.length === ids.length ? valid.sort(compareSeq)[0]! : sequences[0]!;
        c.next = { type: 'AT_SEQUENCE_NUMBER', seq: lowest };
        info = { shard: c.shard, sequences, failedAt: lowest };
        // Part of the batch went through: that is progress, and the retry count starts over.
        if (lowest !== sequences[0]) c.retries = 0;
        this.retry(c);
      }
    } catch (err) {
      c.next = { type: 'AT_SEQUENCE_NUMBER', seq: sequences[0] };
      info = { shard: c.shard, sequences, failedAt: sequences[0], error: (err as Error).message };
      this.retry(c);
    }
    this.invocations.push(info);
    await this.o.onInvoked?.(info);
  }

  private retry(c: ShardCursor): void {
    c.retries++;
    if (c.retries > (this.o.maxRetries ?? 5)) throw new Error(`shard ${c.shard}: batch at ${c.next.seq} failed ${c.retries} times in a row`);
  }
}
