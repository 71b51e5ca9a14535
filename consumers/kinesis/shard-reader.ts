import { GetRecordsCommand, type GetRecordsCommandOutput, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import type { Envelope } from '../../src/core/envelope.js';
import { errorMessage } from '../../src/core/errors.js';
import { type FlowGate, whenOpenUnlessAborted } from '../../src/core/flow-gate.js';
import type { Logger } from '../../src/core/logger.js';
import { METRIC, type Metrics } from '../../src/core/metrics.js';
import type { Position } from '../../src/core/position.js';
import { backoffDelay, pauseUnlessAborted, sleep } from '../../src/core/retry.js';
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

/** A GetRecords call's outcome, as a value: a call made ahead is awaited later, never left rejected. */
type Fetched = { readonly page: GetRecordsCommandOutput } | { readonly err: unknown };

/**
 * One shard's polling loop: GetShardIterator once, then GetRecords until the shard closes
 * (NextShardIterator null), the lease is lost, or the source stops. Emits each non-empty page as
 * one chunk, in order.
 *
 * While a shard has a backlog, the next GetRecords is sent before the current page is handed to
 * the pipeline (whose normalize runs synchronously inside `emit`), so the stream works on the next
 * page while this process works on the last one. No call goes ahead while the gate is closed, and
 * a page is handed over only while it is open, so the cost is at most one page per shard held
 * here. Calls start at least 200 ms apart, counted from the previous call's start: never more
 * than Kinesis's 5 calls per second per shard, never a pause longer than that.
 */
export class ShardReader {
  /** Last position handed to the pipeline: the shard is finished once the commit reaches it. */
  lastEmitted: Position | undefined;
  lastPollAt: number | undefined;
  consecutiveFailures = 0;
  private lastSeqRead: string | undefined;
  private lastCallAt = Number.NEGATIVE_INFINITY;
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
    let wait = 0;
    for (;;) {
      if (wait > 0 && !(await this.pause(wait))) return 'stopped';
      wait = 0;
      if (!(await this.gateOpen())) return 'stopped';
      if (!o.holds()) return 'lost';
      let fetched: Fetched;
      try {
        iterator ??= await this.newIterator();
        fetched = await this.fetch(iterator);
      } catch (err) {
        fetched = { err };
      }
      // Pages in a row: each one's successor is already asked for while it is taken.
      for (;;) {
        if ('err' in fetched) {
          if (o.signal.aborted) return 'stopped';
          const retry = this.onFailure(fetched.err);
          if (retry === 'new-iterator') iterator = undefined;
          else wait = retry;
          break;
        }
        const { page } = fetched;
        this.consecutiveFailures = 0;
        this.lastPollAt = Date.now();
        // Handed over only while the pipeline has room, like a page asked for after the gate opened.
        if (!o.gate.isOpen && !(await this.gateOpen())) return 'stopped';
        // A lease lost while the call was out: whoever holds it now reads this page.
        if (!o.holds()) return 'lost';
        iterator = page.NextShardIterator ?? undefined;
        const full = (page.Records?.length ?? 0) > 0;
        const ahead = iterator !== undefined && full && o.gate.isOpen && !o.signal.aborted ? this.fetch(iterator) : undefined;
        // Lets the call ahead reach the socket before the CPU-bound hand-over below.
        if (ahead) await yieldToIo();
        this.take(page);
        if (iterator === undefined) return 'closed';
        if (!ahead) {
          if (!full) wait = o.idleTimeBetweenReadsMs;
          break;
        }
        fetched = await ahead;
      }
    }
  }

  /** GetRecords, no sooner than 200 ms after the previous call started; resolves, never rejects. */
  private async fetch(iterator: string): Promise<Fetched> {
    const { o } = this;
    try {
      const early = this.lastCallAt + MIN_CALL_INTERVAL_MS - performance.now();
      if (early > 0) await sleep(early, o.signal);
      this.lastCallAt = performance.now();
      const page = await o.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: o.maxRecordsPerCall }), { abortSignal: o.signal });
      return { page };
    } catch (err) {
      return { err };
    }
  }

  /** Throws when retrying cannot help; otherwise says to get a new iterator or how long to back off. */
  private onFailure(err: unknown): 'new-iterator' | number {
    const { o } = this;
    const kind = classify(err);
    if (kind === 'fatal') throw readFailed(`reading ${o.streamName}/${o.shard}`, err, this.labels);
    if (kind === 'expired') {
      // The next iterator is derived from the last record read, so nothing is skipped or repeated.
      o.log.info({ shard: o.shard, after: this.lastSeqRead }, 'shard iterator expired; getting a new one');
      return 'new-iterator';
    }
    this.consecutiveFailures++;
    const wait = backoffDelay(this.consecutiveFailures, BACKOFF);
    o.log[kind === 'throttled' ? 'info' : 'warn'](
      { shard: o.shard, err: errorMessage(err), attempt: this.consecutiveFailures, waitMs: wait },
      kind === 'throttled' ? 'Kinesis throttled the shard; backing off' : 'Kinesis read failed; retrying',
    );
    return wait;
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
  private pause(ms: number): Promise<boolean> {
    return pauseUnlessAborted(ms, this.o.signal);
  }

  private gateOpen(): Promise<boolean> {
    return whenOpenUnlessAborted(this.o.gate, this.o.signal);
  }
}

/** Resolves after pending I/O callbacks and microtasks (a request just sent is on its socket). */
const yieldToIo = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
