import { GetRecordsCommand, type GetRecordsCommandOutput, GetShardIteratorCommand, type _Record } from '@aws-sdk/client-dynamodb-streams';
import type { Envelope } from '../../src/core/envelope.js';
import { errorMessage } from '../../src/core/errors.js';
import { type FlowGate, whenOpenUnlessAborted } from '../../src/core/flow-gate.js';
import type { Logger } from '../../src/core/logger.js';
import { METRIC, type Metrics } from '../../src/core/metrics.js';
import type { Position } from '../../src/core/position.js';
import { backoffDelay, pauseUnlessAborted } from '../../src/core/retry.js';
import { classify, readFailed } from './errors.js';
import type { IteratorStart, StreamsSend } from './shards.js';

const BACKOFF = { baseDelayMs: 250, maxDelayMs: 10_000 };

export type ReaderOutcome = 'closed' | 'lost' | 'stopped';

export interface ShardReaderOptions {
  readonly client: StreamsSend;
  readonly streamArn: string;
  /** The table name: the `stream` of every position. */
  readonly stream: string;
  readonly shard: string;
  readonly start: IteratorStart;
  readonly maxRecordsPerCall: number;
  readonly idleTimeBetweenReadsMs: number;
  readonly gate: FlowGate;
  /** Whether this worker still holds the shard's lease (asked before every fetch). */
  readonly holds: () => boolean;
  readonly emit: (envelopes: readonly Envelope[]) => void;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly signal: AbortSignal;
  readonly now?: () => number;
}

/**
 * One shard's polling loop: GetShardIterator, then GetRecords until the shard is closed
 * (NextShardIterator null), the lease is lost or the source stops. Each non-empty page goes out
 * as one chunk, in order. Any failure that invalidates the iterator (expiry after 15 minutes,
 * throttling, a trimmed position) is met with a new iterator AFTER the last sequence read, so
 * nothing is skipped or read twice.
 */
export class DynamoDbShardReader {
  /** Last position handed to the pipeline: the shard is finished once the commit reaches it. */
  lastEmitted: Position | undefined;
  lastPollAt: number | undefined;
  consecutiveFailures = 0;
  private lastSeqRead: string | undefined;
  private readonly labels: Record<string, string>;
  private readonly now: () => number;

  constructor(private readonly o: ShardReaderOptions) {
    this.labels = { source: 'dynamodb', stream: o.stream, shard: o.shard };
    this.now = o.now ?? Date.now;
  }

  async run(): Promise<ReaderOutcome> {
    const { o } = this;
    let iterator: string | undefined;
    let wait = 0;
    let trimmedInARow = 0;
    for (;;) {
      if (wait > 0 && !(await this.pause(wait))) return 'stopped';
      wait = 0;
      if (!(await this.gateOpen())) return 'stopped';
      if (!o.holds()) return 'lost';
      try {
        iterator ??= await this.newIterator(trimmedInARow >= 2);
        const page = await o.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: o.maxRecordsPerCall }), { abortSignal: o.signal });
        this.consecutiveFailures = 0;
        trimmedInARow = 0;
        this.lastPollAt = this.now();
        this.take(page);
        iterator = page.NextShardIterator ?? undefined;
        if (iterator === undefined) return 'closed';
        if ((page.Records?.length ?? 0) === 0) wait = o.idleTimeBetweenReadsMs;
      } catch (err) {
        if (o.signal.aborted) return 'stopped';
        const kind = classify(err);
        if (kind === 'fatal') throw readFailed(`reading ${o.stream}/${o.shard}`, err, this.labels);
        iterator = undefined;
        this.consecutiveFailures++;
        if (kind === 'trimmed') trimmedInARow++;
        // An expired iterator is routine (15 minutes behind a closed gate): renew at once.
        wait = kind === 'expired' ? 0 : backoffDelay(this.consecutiveFailures, BACKOFF);
        const level = kind === 'transient' || kind === 'trimmed' ? 'warn' : 'info';
        o.log[level](
          { shard: o.shard, kind, err: errorMessage(err), after: this.lastSeqRead, attempt: this.consecutiveFailures, waitMs: wait },
          'shard iterator invalidated; getting a new one after the last record read',
        );
      }
    }
  }

  /**
   * After the last record read if any, else the configured start. When the position itself keeps
   * failing as trimmed, the records after it are gone (24-hour retention): start at the oldest
   * record left, and say so loudly.
   */
  private async newIterator(fromHorizon: boolean): Promise<string> {
    const { o } = this;
    let start: IteratorStart = this.lastSeqRead === undefined ? o.start : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: this.lastSeqRead };
    if (fromHorizon) {
      o.log.error({ shard: o.shard, after: this.lastSeqRead ?? o.start.SequenceNumber }, 'records past the stream retention were lost; continuing at TRIM_HORIZON');
      start = { ShardIteratorType: 'TRIM_HORIZON' };
    }
    const out = await o.client.send(new GetShardIteratorCommand({ StreamArn: o.streamArn, ShardId: o.shard, ...start }), { abortSignal: o.signal });
    if (!out.ShardIterator) throw new Error(`GetShardIterator returned no iterator for ${o.shard}`);
    return out.ShardIterator;
  }

  private take(page: GetRecordsCommandOutput): void {
    const { o } = this;
    const records = page.Records ?? [];
    const now = this.now();
    if (records.length === 0) {
      // An empty page with an iterator to follow means we are at the tip of the shard.
      if (page.NextShardIterator) o.metrics.set(METRIC.iteratorAgeMs, 0, this.labels);
      return;
    }
    const envelopes: Envelope[] = [];
    for (const r of records) {
      const seq = r.dynamodb?.SequenceNumber;
      if (seq === undefined) {
        // Never seen on a real stream; without a position the record could not be acked.
        o.log.error({ shard: o.shard, eventID: r.eventID }, 'stream record without a SequenceNumber cannot be tracked; skipped');
        continue;
      }
      envelopes.push(toEnvelope(r, seq, o.stream, o.shard, now));
    }
    this.lastSeqRead = records[records.length - 1]!.dynamodb?.SequenceNumber ?? this.lastSeqRead;
    const created = records[records.length - 1]!.dynamodb?.ApproximateCreationDateTime;
    if (created instanceof Date) o.metrics.set(METRIC.iteratorAgeMs, Math.max(0, now - created.getTime()), this.labels);
    if (envelopes.length === 0) return;
    this.lastEmitted = envelopes[envelopes.length - 1]!.position;
    o.emit(envelopes);
  }

  /** Sleeps unless the source stops first; false when stopped. */
  private pause(ms: number): Promise<boolean> {
    return pauseUnlessAborted(ms, this.o.signal);
  }

  private gateOpen(): Promise<boolean> {
    return whenOpenUnlessAborted(this.o.gate, this.o.signal);
  }
}

function toEnvelope(r: _Record, seq: string, stream: string, shard: string, receivedAt: number): Envelope {
  const created = r.dynamodb?.ApproximateCreationDateTime;
  const size = r.dynamodb?.SizeBytes ?? JSON.stringify(r).length;
  const position: Position = { source: 'dynamodb', stream, shard, seq };
  return created instanceof Date
    ? { position, payload: { kind: 'dynamodb', record: r }, receivedAt, arrivedAt: created.getTime(), size }
    : { position, payload: { kind: 'dynamodb', record: r }, receivedAt, size };
}
