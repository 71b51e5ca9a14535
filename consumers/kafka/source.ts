import type { Consumer, ConsumerConfig, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { Observable, type Subscriber } from 'rxjs';
import type { Envelope } from '../../src/core/envelope.js';
import { IntegratorError, errorMessage } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import { METRIC, type Metrics } from '../../src/core/metrics.js';
import { formatPosition, type Position, shardKey } from '../../src/core/position.js';
import type { Source, SourceContext, SourceHealth } from '../../src/core/ports.js';
import { sleep } from '../../src/core/retry.js';
import type { KafkaSourceConfig } from './config.js';
import { PartitionBook } from './partition-book.js';

/** The one call the source needs from a kafkajs `Kafka`; a test hands in one bound to the mock cluster. */
export interface KafkaClient {
  consumer(config: ConsumerConfig): Consumer;
}

export interface KafkaSourceDeps {
  readonly kafka: KafkaClient;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly now?: () => number;
}

type Batch = EachBatchPayload['batch'];
type Heartbeat = EachBatchPayload['heartbeat'];

/** kafkajs error types that mean "the group is rebalancing or this member's generation is gone". */
const REBALANCE_ERRORS = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'NOT_COORDINATOR_FOR_GROUP']);

export function isRebalanceError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string' && REBALANCE_ERRORS.has(type)) return true;
    e = (e as { originalError?: unknown; cause?: unknown }).originalError ?? (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Reads one topic as a member of a consumer group. Offsets are committed only through `commit()`,
 * which the pipeline calls after the records are written; kafkajs never commits on its own
 * (autoCommit off, eachBatchAutoResolve off; `resolveOffset` only moves the fetch position).
 *
 * Backpressure: a batch that meets a closed gate pauses the topic and waits, heartbeating, so a
 * long wait neither fetches more nor loses the session.
 *
 * Rebalances: kafkajs has no "partitions revoked" callback; a member learns of a rebalance when
 * a heartbeat fails. Heartbeats made here (after each batch and while waiting at the gate) flush
 * the pipeline for every assigned partition and commit before rejoining, as a Java consumer does
 * in onPartitionsRevoked. A rebalance that kafkajs discovers in its own fetch loop cannot be
 * held up: then commits arriving during the rejoin wait for the new assignment and are sent only
 * for partitions still ours; a lost partition's new owner re-reads from the last commit (at
 * least once, nothing lost). See partition-book.ts for the offset rules.
 */
export class KafkaSource implements Source {
  readonly kind = 'kafka' as const;

  private readonly book = new PartitionBook();
  private readonly now: () => number;
  private readonly log: Logger;
  private consumer: Consumer | undefined;
  private ctx: SourceContext | undefined;
  private sub: Subscriber<readonly Envelope[]> | undefined;
  private connected = false;
  private lastPollAt: number | undefined;
  /** No more batches are handed on. */
  private stopping = false;
  /** Left the group: commits can no longer be made. */
  private closed = false;
  private stopped: Promise<void> | undefined;
  private wakeStop: () => void = () => undefined;
  private readonly stopSignal = new Promise<void>((resolve) => (this.wakeStop = resolve));
  private inBatch: Promise<void> = Promise.resolve();
  private pausedForGate = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly wanted = new Map<number, bigint>();
  private commitChain: Promise<void> = Promise.resolve();

  constructor(
    private readonly config: KafkaSourceConfig,
    private readonly deps: KafkaSourceDeps,
  ) {
    this.now = deps.now ?? Date.now;
    this.log = deps.log.child({ source: 'kafka', topic: config.topic, groupId: config.groupId });
  }

  open(ctx: SourceContext): Observable<readonly Envelope[]> {
    return new Observable<readonly Envelope[]>((sub) => {
      if (this.sub || this.stopped) {
        sub.error(new IntegratorError('INTERNAL', `kafka source for topic ${this.config.topic} was opened twice; create a new source`));
        return undefined;
      }
      this.ctx = ctx;
      this.sub = sub;
      this.run().catch((err: unknown) => this.fail(err));
      // Unsubscribing (the pipeline failed or gave up) leaves the group without a final flush.
      return () => void this.halt(false);
    });
  }

  async commit(position: Position): Promise<void> {
    const partition = Number(position.shard);
    if (position.source !== 'kafka' || position.stream !== this.config.topic || !Number.isInteger(partition) || partition < 0 || !/^\d+$/.test(position.seq)) {
      throw new IntegratorError('INTERNAL', `kafka source for topic ${this.config.topic} was asked to commit a position it never emitted: ${formatPosition(position)}`);
    }
    const next = BigInt(position.seq) + 1n;
    if (!this.consider(partition, next)) return;
    const prev = this.wanted.get(partition);
    if (prev === undefined || next > prev) this.wanted.set(partition, next);
    // One commit at a time, carrying every partition's latest wish, so commits never overtake
    // each other on the way to the broker (which would move an offset backwards).
    const run = this.commitChain.then(() => this.sendWanted());
    this.commitChain = run.catch(() => undefined);
    return run;
  }

  stop(): Promise<void> {
    return this.halt(true);
  }

  /** Partitions of the topic this member holds now. */
  get assignedPartitions(): readonly number[] {
    return this.book.partitions;
  }

  health(): SourceHealth {
    const parts = this.book.partitions;
    const committed = parts.map((p) => `${p}@${this.book.committedOffset(p) ?? '-'}`).join(' ');
    return {
      connected: this.connected,
      ...(this.lastPollAt === undefined ? {} : { lastPollAt: this.lastPollAt }),
      shards: parts.length,
      detail: `topic ${this.config.topic}, group ${this.config.groupId}: partitions [${committed}]${this.book.isRebalancing ? ', rebalancing' : ''}${this.pausedForGate ? ', paused (backpressure)' : ''}`,
    };
  }

  // ------------------------------------------------------------------ consuming

  private async run(): Promise<void> {
    const c = this.config;
    const consumer = this.deps.kafka.consumer({
      groupId: c.groupId,
      sessionTimeout: c.sessionTimeoutMs,
      rebalanceTimeout: c.rebalanceTimeoutMs,
      heartbeatInterval: c.heartbeatIntervalMs,
      maxWaitTimeInMs: c.maxWaitTimeMs,
      maxBytesPerPartition: c.maxBytesPerPartition,
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    const ev = consumer.events;
    consumer.on(ev.GROUP_JOIN, (e) => this.onJoin(e.payload.memberAssignment[c.topic] ?? []));
    consumer.on(ev.REBALANCING, () => this.book.beginRebalance());
    consumer.on(ev.CRASH, (e) => {
      this.book.beginRebalance();
      this.connected = false;
      const { error, restart } = e.payload;
      this.log.error({ err: error, restart }, `kafka consumer crashed${restart ? '; kafkajs restarts it' : ''}: ${errorMessage(error)}`);
      if (!restart && !this.stopping) this.fail(error);
    });
    consumer.on(ev.DISCONNECT, () => (this.connected = false));
    await consumer.connect();
    this.connected = true;
    await consumer.subscribe({ topics: [c.topic], fromBeginning: c.fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => {
        const done = this.onBatch(payload);
        this.inBatch = done.catch(() => undefined);
        return done;
      },
    });
  }

  private onJoin(partitions: readonly number[]): void {
    const change = this.book.assign(partitions);
    this.connected = true;
    this.deps.metrics.set(METRIC.leasesHeld, partitions.length, { source: 'kafka' });
    this.log.info({ partitions: [...partitions].sort((a, b) => a - b), gained: change.gained, lost: change.lost }, 'kafka partitions assigned');
    if (change.lost.length > 0) this.log.info({ lost: change.lost }, 'partitions revoked: their commits stop here; the new owner reads on from the last commit');
    this.sendPending();
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const p = batch.partition;
    const live = () => isRunning() && !isStale() && !this.stopping && this.book.isAssigned(p);
    if (!live() || batch.messages.length === 0) return;
    if (!this.ctx!.gate.isOpen && !(await this.waitForGate(heartbeat, live))) return;

    const receivedAt = this.now();
    const out: Envelope[] = [];
    for (const m of batch.messages) {
      const offset = BigInt(m.offset);
      if (this.book.wasEmitted(p, offset)) continue;
      out.push(this.envelope(batch, m, receivedAt));
    }
    const last = batch.messages[batch.messages.length - 1]!;
    if (out.length > 0) {
      this.book.markEmitted(p, BigInt(out[out.length - 1]!.position.seq));
      this.sub?.next(out);
    }
    // Moves kafkajs' fetch position only; nothing is committed until the pipeline says so.
    resolveOffset(last.offset);
    this.lastPollAt = receivedAt;
    const labels = { source: 'kafka', shard: `${batch.topic}/${p}` };
    const ts = Number(last.timestamp);
    if (Number.isFinite(ts) && ts > 0) this.deps.metrics.set(METRIC.iteratorAgeMs, Math.max(0, receivedAt - ts), labels);
    await this.beat(heartbeat);
  }

  private envelope(batch: Batch, m: KafkaMessage, receivedAt: number): Envelope {
    // A tombstone (null value) still becomes an envelope: it fails to decode and reaches the DLQ
    // with its position, instead of vanishing.
    const data = m.value ?? Buffer.alloc(0);
    const ts = Number(m.timestamp);
    return {
      position: { source: 'kafka', stream: batch.topic, shard: String(batch.partition), seq: m.offset },
      payload: { kind: 'bytes', data },
      receivedAt,
      ...(Number.isFinite(ts) && ts > 0 ? { arrivedAt: ts } : {}),
      size: data.length,
    };
  }

  /** Pauses the topic and waits for the gate, heartbeating; false when the batch went stale meanwhile. */
  private async waitForGate(heartbeat: Heartbeat, live: () => boolean): Promise<boolean> {
    const consumer = this.consumer!;
    const gate = this.ctx!.gate;
    consumer.pause([{ topic: this.config.topic }]);
    this.pausedForGate = true;
    try {
      while (!gate.isOpen) {
        await Promise.race([gate.whenOpen(), sleep(this.config.heartbeatIntervalMs), this.stopSignal]);
        if (!live()) return false;
        await this.beat(heartbeat);
      }
      return live();
    } finally {
      this.pausedForGate = false;
      if (!this.stopping) consumer.resume([{ topic: this.config.topic }]);
    }
  }

  /**
   * Heartbeats; when that reveals a rebalance, delivers and commits what this member holds
   * before kafkajs rejoins (commits with the current generation are still accepted then).
   */
  private async beat(heartbeat: Heartbeat): Promise<void> {
    try {
      await heartbeat();
    } catch (err) {
      if (isRebalanceError(err) && !this.stopping) await this.flushBeforeRevoke(heartbeat);
      throw err;
    }
  }

  private async flushBeforeRevoke(heartbeat: Heartbeat): Promise<void> {
    const parts = this.book.partitions;
    const keys = parts.map((p) => shardKey({ source: 'kafka', stream: this.config.topic, shard: String(p) }));
    this.log.info({ partitions: parts }, 'rebalance: flushing and committing before the partitions are revoked');
    // Heartbeats during the flush keep the session (the broker answers REBALANCE_IN_PROGRESS but
    // counts them); the flush is bounded so this member still rejoins within the rebalance timeout.
    let flushing = true;
    let flushed: () => void = () => undefined;
    const over = new Promise<void>((resolve) => (flushed = resolve));
    const keepAlive = (async () => {
      while (flushing) {
        await Promise.race([sleep(this.config.heartbeatIntervalMs), over, this.stopSignal]);
        if (flushing) await heartbeat().catch(() => undefined);
      }
    })();
    const budget = Math.floor(this.config.rebalanceTimeoutMs * 0.6);
    const outcome = await Promise.race([
      this.ctx!.flush(keys).then(() => 'flushed' as const),
      sleep(budget).then(() => 'timeout' as const),
    ]).catch((err: unknown) => {
      this.log.warn({ err }, `flush before rebalance failed: ${errorMessage(err)}`);
      return 'failed' as const;
    });
    flushing = false;
    flushed();
    await keepAlive;
    if (outcome === 'timeout') this.log.warn({ budgetMs: budget }, 'flush before rebalance did not finish in time; uncommitted records will be read again');
    this.book.beginRebalance();
  }

  // ------------------------------------------------------------------ committing

  /** False when the commit is not to be sent (logged); true when it should go out. */
  private consider(partition: number, next: bigint): boolean {
    if (!this.consumer || this.closed) {
      this.log.warn({ partition, offset: String(next) }, 'commit after the consumer disconnected is not sent; those records will be read again');
      return false;
    }
    const d = this.book.decide(partition, next);
    if (d === 'send') return true;
    if (d === 'defer') this.book.defer(partition, next);
    else if (d === 'unassigned' || d === 'stale') this.log.debug({ partition, offset: String(next), decision: d }, 'commit not sent: partition not ours (any more)');
    return false;
  }

  /** Sends the deferred commits of partitions that stayed ours (and any left from a failed send). */
  private sendPending(): void {
    for (const [p, n] of this.book.takePending()) {
      const prev = this.wanted.get(p);
      if (prev === undefined || n > prev) this.wanted.set(p, n);
    }
    if (this.wanted.size === 0) return;
    const run = this.commitChain.then(() => this.sendWanted());
    this.commitChain = run.catch((err: unknown) => {
      this.log.warn({ err }, `deferred commit failed, trying again: ${errorMessage(err)}`);
      this.scheduleRetry();
    });
  }

  /**
   * A commit refused as "rebalancing" may meet only the tail of a rebalance (the group still
   * syncing) with no further join to come, so deferred commits are also retried on a timer.
   */
  private scheduleRetry(): void {
    if (this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.closed && !this.book.isRebalancing) this.sendPending();
      if (!this.closed && this.book.hasPending) this.scheduleRetry();
    }, this.config.heartbeatIntervalMs);
    this.retryTimer.unref();
  }

  private async sendWanted(): Promise<void> {
    if (this.wanted.size === 0) return;
    const wanted = [...this.wanted];
    this.wanted.clear();
    const toSend = wanted.filter(([p, n]) => this.consider(p, n));
    if (toSend.length === 0) return;
    const topic = this.config.topic;
    try {
      await this.consumer!.commitOffsets(toSend.map(([partition, n]) => ({ topic, partition, offset: String(n) })));
    } catch (err) {
      if (isRebalanceError(err)) {
        for (const [p, n] of toSend) this.book.defer(p, n);
        this.scheduleRetry();
        this.log.info({ partitions: toSend.map(([p]) => p) }, 'commit met a rebalance; it is sent again (after the rejoin) if the partitions stay ours');
        return;
      }
      // Kept for the next attempt: the pipeline retries a failed commit.
      for (const [p, n] of toSend) if ((this.wanted.get(p) ?? -1n) < n) this.wanted.set(p, n);
      throw new IntegratorError('CHECKPOINT_FAILED', `committing offsets of topic ${topic} failed: ${errorMessage(err)}`, {
        retriable: true,
        cause: err,
        details: { offsets: toSend.map(([p, n]) => `${p}:${n}`) },
      });
    }
    for (const [p, n] of toSend) this.book.committedTo(p, n);
  }

  // ------------------------------------------------------------------ stopping

  private halt(flush: boolean): Promise<void> {
    this.stopped ??= this.shutdown(flush);
    return this.stopped;
  }

  private async shutdown(flush: boolean): Promise<void> {
    this.stopping = true;
    this.wakeStop();
    const consumer = this.consumer;
    if (consumer) {
      try {
        consumer.pause([{ topic: this.config.topic }]);
      } catch {
        /* not running yet: nothing to pause */
      }
      await this.inBatch;
      // Everything handed on is delivered and committed while this member still owns its
      // partitions; only then does it leave the group.
      if (flush && this.ctx) {
        // The time-out's timer is cancelled once the flush wins, or it would hold the process
        // open for a whole session timeout after a clean drain.
        const budget = new AbortController();
        const outcome = await Promise.race([
          this.ctx.flush().then(() => 'flushed' as const),
          sleep(this.config.sessionTimeoutMs, budget.signal).then(() => 'timeout' as const),
        ])
          .catch((err: unknown) => {
            this.log.warn({ err }, `final flush failed: ${errorMessage(err)}`);
            return 'failed' as const;
          })
          .finally(() => budget.abort());
        if (outcome === 'timeout') this.log.warn({ budgetMs: this.config.sessionTimeoutMs }, 'final flush did not finish in time; uncommitted records will be read again');
        await this.commitChain;
        // The final commits met a rebalance (another member came or went): they go out after
        // the rejoin, for the partitions this member keeps until it leaves.
        const deadline = this.now() + this.config.rebalanceTimeoutMs;
        while (this.book.hasPending && this.now() < deadline) await sleep(100);
        await this.commitChain;
        if (this.book.hasPending) this.log.warn({ partitions: this.book.partitions }, 'final commits could not be sent before leaving; those records will be read again');
      }
    }
    this.closed = true;
    clearTimeout(this.retryTimer);
    if (consumer) await consumer.disconnect().catch((err: unknown) => this.log.warn({ err }, `disconnect failed: ${errorMessage(err)}`));
    this.connected = false;
    this.sub?.complete();
  }

  private fail(err: unknown): void {
    this.connected = false;
    const e =
      err instanceof IntegratorError
        ? err
        : new IntegratorError('SOURCE_READ_FAILED', `kafka source for topic ${this.config.topic} failed: ${errorMessage(err)}`, { retriable: true, cause: err });
    this.sub?.error(e);
    void this.halt(false);
  }
}
