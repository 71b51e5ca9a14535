import { Observable, type Subscriber } from 'rxjs';
import type { Envelope } from '../../src/core/envelope.js';
import { IntegratorError, errorMessage, isRetriable } from '../../src/core/errors.js';
import type { FlowGate } from '../../src/core/flow-gate.js';
import type { Logger } from '../../src/core/logger.js';
import type { LeaseCoordinator, OwnedShard, ShardInfo, Source, SourceContext, SourceHealth } from '../../src/core/ports.js';
import { type Position, type SourceKind, comparePosition, formatPosition } from '../../src/core/position.js';
import { withRetry } from '../../src/core/retry.js';

/** What a shard's polling loop reports: lease gone, shard read to its end, or stopped. */
export type ReaderOutcome = 'lost' | 'closed' | 'stopped';

/** The part of a shard reader (Kinesis, DynamoDB Streams) the lease loop needs. */
export interface ShardReaderLike {
  run(): Promise<ReaderOutcome>;
  readonly lastEmitted: Position | undefined;
  readonly lastPollAt: number | undefined;
  readonly consecutiveFailures: number;
}

/** What the lease loop hands a new reader. */
export interface ReaderWiring {
  readonly gate: FlowGate;
  readonly holds: () => boolean;
  readonly emit: (envelopes: readonly Envelope[]) => void;
  readonly signal: AbortSignal;
}

export interface LeasedShardSourceOptions {
  readonly coordinator: LeaseCoordinator;
  readonly config: { readonly shardSyncIntervalMs: number; readonly leaseClaimIntervalMs: number };
  readonly log: Logger;
}

/** A shard this worker reads, or has read to its end and waits to see delivered. */
interface ActiveShard {
  readonly reader: ShardReaderLike;
  readonly abort: AbortController;
  done: Promise<void>;
  /** Closed and read to its end: finish it when the commits reach `reader.lastEmitted`. */
  ending: boolean;
  lastCommitted?: Position;
  finishing: boolean;
  /** Commits of one shard run one after another, so a later one never lands first. */
  commits: Promise<void>;
}

const CHECKPOINT_RETRY = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 2000, isRetriable };

/**
 * A stream read with GetRecords polling, one loop per shard this worker holds (all of them
 * alone; a share of them under DynamoDB leases), KCL-style. A closed shard is finished only
 * once everything read from it is delivered, and its children are looked for at once: that is
 * what keeps per-key order across splits, merges and DynamoDB's shard roll-overs. Subclasses
 * say how to list shards and how to read one.
 */
export abstract class LeasedShardSource implements Source {
  abstract readonly kind: SourceKind;
  protected readonly log: Logger;
  protected readonly coordinator: LeaseCoordinator;
  /** Shard infos from the last listing, for the readers' start positions. */
  protected infos = new Map<string, ShardInfo>();
  protected readonly abort = new AbortController();
  private readonly active = new Map<string, ActiveShard>();
  /** Finished by this process: never restarted even if a stale claim still lists them. */
  private readonly finished = new Set<string>();
  private subscriber: Subscriber<readonly Envelope[]> | undefined;
  private ctx: SourceContext | undefined;
  private control: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private resyncWanted = false;
  private stopping: Promise<void> | undefined;
  private lastListOk = false;
  private lastError: string | undefined;

  constructor(private readonly base: LeasedShardSourceOptions) {
    this.log = base.log;
    this.coordinator = base.coordinator;
  }

  /** Stream name in positions and leases. */
  protected abstract get stream(): string;
  /** "Kinesis", "DynamoDB Streams": for messages. */
  protected abstract get label(): string;
  /** Lists every shard now. A non-retriable IntegratorError at start-up stops the source. */
  protected abstract listShards(signal: AbortSignal): Promise<ShardInfo[]>;
  /** A reader for a shard this worker now holds; `start` names where it starts, for the log. */
  protected abstract createReader(owned: OwnedShard, wiring: ReaderWiring): { reader: ShardReaderLike; start: string };
  /** Whether leases may be claimed yet (e.g. the stream ARN is known). */
  protected canClaim(): boolean {
    return true;
  }

  open(ctx: SourceContext): Observable<readonly Envelope[]> {
    return new Observable<readonly Envelope[]>((subscriber) => {
      if (this.subscriber) {
        subscriber.error(new IntegratorError('INTERNAL', `${this.constructor.name}.open() may be subscribed once`));
        return;
      }
      this.subscriber = subscriber;
      this.ctx = ctx;
      this.control = this.runControl().catch((err: unknown) => this.fail(err));
      return () => void this.stop();
    });
  }

  async commit(position: Position): Promise<void> {
    const shard = position.shard;
    if (this.finished.has(shard)) {
      this.log.debug({ position: formatPosition(position) }, 'commit for a finished shard ignored');
      return;
    }
    const a = this.active.get(shard);
    const run = async () => {
      try {
        await withRetry(() => this.coordinator.checkpoint(position), CHECKPOINT_RETRY);
      } catch (err) {
        if (err instanceof IntegratorError && err.code === 'LEASE_LOST') {
          this.log.warn({ shard, position: formatPosition(position), err: err.message }, 'lease lost; no longer reading the shard');
          if (a) this.drop(shard, a);
          return;
        }
        throw err;
      }
      if (!a) return;
      if (!a.lastCommitted || comparePosition(position, a.lastCommitted) > 0) a.lastCommitted = position;
      if (a.ending) await this.maybeFinish(shard, a);
    };
    if (!a) return run();
    const next = a.commits.then(run, run);
    a.commits = next.catch(() => undefined);
    return next;
  }

  async stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.abort.abort(new IntegratorError('SHUTDOWN', `${this.label} source stopping`));
      for (const a of this.active.values()) a.abort.abort();
      this.wakeUp?.();
      await this.control;
      await Promise.all([...this.active.values()].map((a) => a.done));
      if (!this.subscriber?.closed) this.subscriber?.complete();
    })();
    return this.stopping;
  }

  health(): SourceHealth {
    let lastPollAt: number | undefined;
    let failing = 0;
    let reading = 0;
    for (const a of this.active.values()) {
      if (!a.ending) reading++;
      if (a.reader.consecutiveFailures >= 3) failing++;
      const t = a.reader.lastPollAt;
      if (t !== undefined && (lastPollAt === undefined || t > lastPollAt)) lastPollAt = t;
    }
    const detail = `${reading} shard(s) reading, ${this.active.size - reading} closed awaiting delivery, ${failing} failing${this.lastError ? `; last error: ${this.lastError}` : ''}`;
    const connected = this.lastListOk && failing === 0;
    return lastPollAt === undefined ? { connected, shards: reading, detail } : { connected, lastPollAt, shards: reading, detail };
  }

  /** Shards being read now (for tests and health). */
  activeShards(): string[] {
    return [...this.active.entries()]
      .filter(([, a]) => !a.ending)
      .map(([s]) => s)
      .sort();
  }

  // ------------------------------------------------------------ shard discovery and leases

  private async runControl(): Promise<void> {
    const { shardSyncIntervalMs, leaseClaimIntervalMs } = this.base.config;
    await this.syncShards(true);
    let nextSync = Date.now() + shardSyncIntervalMs;
    while (!this.abort.signal.aborted) {
      await this.claimAndStart();
      await this.sleepUntil(Math.min(nextSync, Date.now() + leaseClaimIntervalMs));
      if (this.abort.signal.aborted) break;
      if (this.resyncWanted || Date.now() >= nextSync) {
        this.resyncWanted = false;
        await this.syncShards(false);
        nextSync = Date.now() + shardSyncIntervalMs;
      }
    }
  }

  private async syncShards(first: boolean): Promise<void> {
    const signal = this.abort.signal;
    try {
      const shards = await this.listShards(signal);
      this.infos = new Map(shards.map((s) => [s.shard, s]));
      await this.coordinator.syncShards(this.kind, this.stream, shards);
      this.lastListOk = true;
    } catch (err) {
      if (signal.aborted) return;
      const e = err instanceof IntegratorError ? err : new IntegratorError('SOURCE_READ_FAILED', `listing the shards of ${this.stream}: ${errorMessage(err)}`, { retriable: true, cause: err });
      // A stream that is missing or forbidden at start-up is a configuration error: fail fast.
      if (first && !e.retriable) throw e;
      this.lastListOk = false;
      this.lastError = e.message;
      this.log.warn({ err: e.message }, 'shard sync failed; trying again later');
    }
  }

  private async claimAndStart(): Promise<void> {
    if (!this.canClaim()) return;
    let owned: readonly OwnedShard[];
    try {
      owned = await this.coordinator.claim(this.kind, this.stream);
    } catch (err) {
      this.lastError = errorMessage(err);
      this.log.warn({ err: errorMessage(err) }, 'claiming leases failed; trying again later');
      return;
    }
    for (const s of owned) {
      if (this.abort.signal.aborted) return;
      if (!this.active.has(s.shard) && !this.finished.has(s.shard)) this.startReader(s);
    }
  }

  private startReader(owned: OwnedShard): void {
    const shard = owned.shard;
    const abort = new AbortController();
    const { reader, start } = this.createReader(owned, {
      gate: this.ctx!.gate,
      holds: () => this.coordinator.holds(this.kind, this.stream, shard),
      emit: (envelopes) => {
        if (!this.subscriber?.closed) this.subscriber?.next(envelopes);
      },
      signal: AbortSignal.any([this.abort.signal, abort.signal]),
    });
    const a: ActiveShard = { reader, abort, done: Promise.resolve(), ending: false, finishing: false, commits: Promise.resolve() };
    this.active.set(shard, a);
    this.log.info({ shard, start, checkpoint: owned.checkpoint }, 'reading shard');
    a.done = reader.run().then(
      async (outcome) => {
        if (outcome === 'lost') {
          this.log.warn({ shard }, 'lease no longer held; stopped reading the shard');
          this.drop(shard, a);
        } else if (outcome === 'closed') {
          a.ending = true;
          this.log.info({ shard, last: a.reader.lastEmitted && formatPosition(a.reader.lastEmitted) }, 'shard closed and read to its end');
          await this.maybeFinish(shard, a);
        }
      },
      (err: unknown) => this.fail(err),
    );
  }

  /** Finishes a closed shard once everything emitted from it is committed (at once if nothing was). */
  private async maybeFinish(shard: string, a: ActiveShard): Promise<void> {
    const end = a.reader.lastEmitted;
    if (a.finishing || (end !== undefined && (!a.lastCommitted || comparePosition(a.lastCommitted, end) < 0))) return;
    a.finishing = true;
    try {
      await withRetry(() => this.coordinator.finishShard(this.kind, this.stream, shard), CHECKPOINT_RETRY);
      this.finished.add(shard);
      this.log.info({ shard }, 'shard finished; looking for its children');
    } catch (err) {
      // Not finished: whoever holds the lease next reads the tail again from the checkpoint.
      this.log.warn({ shard, err: errorMessage(err) }, 'could not mark the shard finished');
    }
    this.drop(shard, a);
    this.resyncWanted = true;
    this.wakeUp?.();
  }

  private drop(shard: string, a: ActiveShard): void {
    a.abort.abort();
    if (this.active.get(shard) === a) this.active.delete(shard);
  }

  private fail(err: unknown): void {
    const e = err instanceof IntegratorError ? err : new IntegratorError('SOURCE_READ_FAILED', errorMessage(err), { cause: err });
    this.log.error({ err: e.message, code: e.code }, `${this.label} source failed`);
    this.abort.abort(e);
    for (const a of this.active.values()) a.abort.abort();
    this.wakeUp?.();
    if (!this.subscriber?.closed) this.subscriber?.error(e);
  }

  private sleepUntil(t: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(0, t - Date.now()));
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
      if (this.resyncWanted || this.abort.signal.aborted) done();
    });
  }
}
