import { GetRecordsCommand, type GetRecordsCommandOutput, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import type { Envelope } from '../../src/core/envelope.js';
import { errorMessage } from '../../src/core/errors.js';
import type { FlowGate } from '../../src/core/flow-gate.js';
import type { Logger } from '../../src/core/logger.js';
import { METRIC, type Metrics } from '../../src/core/metrics.js';
import type { Position } from '../../src/core/position.js';
import { backoffDelay, sleep } from '../../src/core/retry.js';
import { classify, readFailed } from './errors.js';
import { type ResumeSkip, toEnvelopes } from './records.js';
import type { IteratorStart } from './shards.js';

/** Kinesis allows 5 GetRecords calls per second per shard. */
export const MIN_CALL_INTERVAL_MS = 200;
const BACKOFF = { baseDelayMs: 250, maxDelayMs: 10_000 };

export type ReaderOutcome = 'closed' | 'lost' | 'stopped';

export interface ShardReaderOptions {
  readonly client: Pick<KinesisClient, 'send'>;
  readonly streamName: string;
  readonly shard: string;
  readonly start: IteratorStart;
  readonly skip?: ResumeSkip;
  readonly maxRecordsPerCall: number;
  readonly idleTimeBetweenReadsMs: number;
  readonly gate: FlowGate;
  /** Whether this worker still holds the shard's lease. */
  readonly holds: () => boolean;
  readonly emit: (envelopes: readonly Envelope[]) => void;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly signal: AbortSignal;
}

/**
 * One shard's polling loop: GetShardIterator once, then GetRecords until the shard closes
 * (NextShardIterator null), the lease is lost, or the source stops. Emits each non-empty page as
 * one chunk, in order.
 */
export class ShardReader {
  /** Last position handed to the pipeline: the shard is finished once the commit reaches it. */
  lastEmitted: Position | undefined;
  lastPollAt: number | undefined;
  consecutiveFailures = 0;
  private lastSeqRead: string | undefined;
  private readonly labels: Record<string, string>;

  constructor(private readonly o: ShardReaderOptions) {
    this.labels = { source: 'kinesis', stream: o.streamName, shard: o.shard };
  }

  get shard(): string {
    return this.o.shard;
  }

  async run(): Promise<ReaderOutcome> {
    const { o } = this;
    let iterator: string | undefined;
    let lastCallAt = 0;
    let wait = 0;
    for (;;) {
      if (wait > 0 && !(await this.pause(wait))) return 'stopped';
      wait = 0;
      if (!(await this.gateOpen())) return 'stopped';
      if (!o.holds()) return 'lost';
      try {
        iterator ??= await this.newIterator();
        const sinceLast = Date.now() - lastCallAt;
        if (sinceLast < MIN_CALL_INTERVAL_MS && !(await this.pause(MIN_CALL_INTERVAL_MS - sinceLast))) return 'stopped';
        lastCallAt = Date.now();
        const page = await o.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: o.maxRecordsPerCall }), {
          abortSignal: o.signal,
        });
        this.consecutiveFailures = 0;
        this.lastPollAt = Date.now();
        this.take(page);
        iterator = page.NextShardIterator ?? undefined;
        if (iterator === undefined) return 'closed';
        if ((page.Records?.length ?? 0) === 0) wait = o.idleTimeBetweenReadsMs;
      } catch (err) {
        if (o.signal.aborted) return 'stopped';
        const kind = classify(err);
        if (kind === 'fatal') throw readFailed(`reading ${o.streamName}/${o.shard}`, err, this.labels);
        if (kind === 'expired') {
          // The next iterator is derived from the last record read, so nothing is skipped or repeated.
          o.log.info({ shard: o.shard, after: this.lastSeqRead }, 'shard iterator expired; getting a new one');
          iterator = undefined;
          continue;
        }
        this.consecutiveFailures++;
        wait = backoffDelay(this.consecutiveFailures, BACKOFF);
        o.log[kind === 'throttled' ? 'info' : 'warn'](
          { shard: o.shard, err: errorMessage(err), attempt: this.consecutiveFailures, waitMs: wait },
          kind === 'throttled' ? 'Kinesis throttled the shard; backing off' : 'Kinesis read failed; retrying',
        );
      }
    }
  }

  private async newIterator(): Promise<string> {
    const { o } = this;
    const start: IteratorStart =
      this.lastSeqRead === undefined ? o.start : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: this.lastSeqRead };
    const out = await o.client.send(new GetShardIteratorCommand({ StreamName: o.streamName, ShardId: o.shard, ...start }), {
      abortSignal: o.signal,
    });
    if (!out.ShardIterator) throw new Error(`GetShardIterator returned no iterator for ${o.shard}`);
    return out.ShardIterator;
  }

  private take(page: GetRecordsCommandOutput): void {
    const { o } = this;
    if (page.MillisBehindLatest !== undefined) o.metrics.set(METRIC.iteratorAgeMs, page.MillisBehindLatest, this.labels);
    const records = page.Records ?? [];
    if (records.length === 0) return;
    const { envelopes, corrupt } = toEnvelopes(records, { stream: o.streamName, shard: o.shard }, Date.now(), o.skip);
    for (const c of corrupt) o.log.warn({ shard: o.shard, seq: c.seq, reason: c.reason }, 'corrupt KPL aggregate passed on whole (it will be dead-lettered)');
    this.lastSeqRead = records[records.length - 1]!.SequenceNumber ?? this.lastSeqRead;
    if (envelopes.length === 0) return;
    this.lastEmitted = envelopes[envelopes.length - 1]!.position;
    o.emit(envelopes);
  }

  /** Sleeps unless the source stops first; false when stopped. */
  private async pause(ms: number): Promise<boolean> {
    try {
      await sleep(ms, this.o.signal);
      return true;
    } catch {
      return false;
    }
  }

  private async gateOpen(): Promise<boolean> {
    const { gate, signal } = this.o;
    if (signal.aborted) return false;
    if (gate.isOpen) return true;
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<false>((resolve) => {
      onAbort = () => resolve(false);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    const open = await Promise.race([gate.whenOpen().then(() => true as const), aborted]);
    if (onAbort) signal.removeEventListener('abort', onAbort);
    return open && !signal.aborted;
  }
}
