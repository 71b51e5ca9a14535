import { hostname } from 'node:os';
import { PutItemCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { IntegratorError, errorMessage } from '../core/errors.js';
import { type Logger, SILENT_LOGGER } from '../core/logger.js';
import { METRIC, type Metrics, NO_METRICS } from '../core/metrics.js';
import { type LeaseCoordinator, type OwnedShard, SHARD_END, type ShardInfo } from '../core/ports.js';
import { type Position, type SourceKind, shardKey } from '../core/position.js';
import { withRetry } from '../core/retry.js';
import { parentsFirst, planLeases, shuffle } from './lease-balance.js';
import { A, type DynamoDbSend, N, S, decodeLease, ensureLeaseTable, isConditionalFailure, keyOf, type LeaseItem, namesFor, scanLeases } from './lease-table.js';

export interface DynamoDbLeaseCoordinatorOptions {
  readonly client: DynamoDbSend;
  readonly tableName: string;
  /** Unique per live process; a restarted process with the same id re-adopts its leases at once. */
  readonly workerId: string;
  /** A lease whose counter has not moved for this long (as seen by the local clock) may be taken. */
  readonly leaseDurationMs: number;
  readonly createTable?: boolean;
  /** Renewal timer period; default a third of the lease duration; 0 = renew only in claim()/renew(). */
  readonly renewIntervalMs?: number;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly log?: Logger;
  readonly metrics?: Metrics;
}

interface Held {
  readonly leaseKey: string;
  readonly source: SourceKind;
  readonly stream: string;
  readonly shard: string;
  counter: number;
  /** Local time at which the last successful renewal was *sent* (conservative). */
  renewedAt: number;
}

/** The last lease counter and owner seen, and since when (local clock). */
interface Seen {
  readonly counter: number;
  readonly owner: string | undefined;
  readonly since: number;
}

export const defaultWorkerId = (): string => `${hostname()}-${process.pid}`;

/**
 * KCL-style leases on a DynamoDB table. Every change of a lease is a conditional write on its
 * owner and counter, so two workers can never both believe they hold a shard for long: the
 * loser learns at its next renewal or checkpoint. Expiry is judged the KCL way — a counter not
 * seen to move for a lease duration on *this* worker's clock — so clock skew between hosts
 * cannot make a live lease look expired.
 *
 * Balancing: each worker aims at ceil(available / live workers), where live workers are the
 * owners of unexpired leases plus itself; it takes free or expired leases first, and otherwise
 * steals at most one lease per cycle from the most loaded worker.
 */
export class DynamoDbLeaseCoordinator implements LeaseCoordinator {
  readonly workerId: string;
  private readonly client: DynamoDbSend;
  private readonly table: string;
  private readonly leaseMs: number;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly log: Logger;
  private readonly metrics: Metrics;
  private readonly held = new Map<string, Held>();
  private readonly seen = new Map<string, Seen>();
  private readonly created = new Set<string>();
  /** Shards present in each stream at its last sync; a lease outside it was trimmed away. */
  private readonly inStream = new Map<string, Set<string>>();
  private lock: Promise<unknown> = Promise.resolve();
  private ready: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly opts: DynamoDbLeaseCoordinatorOptions) {
    this.client = opts.client;
    this.table = opts.tableName;
    this.workerId = opts.workerId;
    this.leaseMs = opts.leaseDurationMs;
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.log = (opts.log ?? SILENT_LOGGER).child({ component: 'lease-coordinator', worker: opts.workerId });
    this.metrics = opts.metrics ?? NO_METRICS;
  }

  async syncShards(source: SourceKind, stream: string, shards: readonly ShardInfo[]): Promise<void> {
    await this.start();
    this.inStream.set(`${source}|${stream}`, new Set(shards.map((s) => s.shard)));
    for (const info of parentsFirst(shards)) {
      const leaseKey = shardKey({ source, stream, shard: info.shard });
      if (this.created.has(leaseKey)) continue;
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.table,
            Item: {
              ...keyOf(leaseKey),
              [A.source]: S(source),
              [A.stream]: S(stream),
              [A.shard]: S(info.shard),
              [A.parents]: { L: info.parents.map(S) },
              [A.counter]: N(0),
            },
            ConditionExpression: 'attribute_not_exists(#key)',
            ExpressionAttributeNames: namesFor('#key'),
          }),
        );
      } catch (err) {
        if (!isConditionalFailure(err)) throw unavailable(`cannot create lease ${leaseKey}`, err);
      }
      this.created.add(leaseKey);
    }
  }

  async claim(source: SourceKind, stream: string): Promise<readonly OwnedShard[]> {
    await this.start();
    return this.exclusive(async () => {
      const now = this.now();
      let leases: LeaseItem[];
      try {
        leases = await scanLeases(this.client, this.table, source, stream);
      } catch (err) {
        throw unavailable(`cannot read lease table ${this.table}`, err);
      }
      this.observe(leases, now);
      const byShard = new Map(leases.map((l) => [l.shard, l]));
      for (const h of this.heldOf(source, stream)) {
        const l = byShard.get(h.shard);
        if (!l || l.owner !== this.workerId || l.leaseCounter !== h.counter) this.lose(h, `now held by ${l?.owner ?? 'nobody'}`);
        else if (l.checkpoint === SHARD_END) this.held.delete(h.leaseKey);
      }
      await this.renewEach(this.heldOf(source, stream));

      const present = this.inStream.get(`${source}|${stream}`);
      const inStream = (shard: string) => (present ? present.has(shard) : byShard.has(shard));
      const parentDone = (p: string) => !inStream(p) || byShard.get(p)?.checkpoint === SHARD_END;
      const available = leases.filter((l) => l.checkpoint !== SHARD_END && inStream(l.shard) && l.parents.every(parentDone));

      const fresh = new Map<string, LeaseItem>();
      const take = async (l: LeaseItem) => {
        const got = await this.take(l);
        if (got) fresh.set(got.leaseKey, got);
        return got !== undefined;
      };
      const plan = planLeases(available, this.workerId, (l) => this.held.has(l.leaseKey), (l) => this.expired(l, now));
      let need = plan.target - plan.mine;
      for (const l of plan.adopt) if (await take(l)) need--; // ours from before a restart
      for (const l of shuffle(plan.free, this.random)) {
        if (need <= 0) break;
        if (await take(l)) need--;
      }
      if (plan.stealable.length > 0) {
        const l = plan.stealable[Math.floor(this.random() * plan.stealable.length)]!;
        if (await take(l)) this.log.info({ shard: l.shard, from: l.owner, target: plan.target, workers: plan.workers }, 'lease stolen to balance');
      }
      this.metrics.set(METRIC.leasesHeld, this.heldOf(source, stream).length, { source, stream });
      return available
        .filter((l) => this.held.has(l.leaseKey))
        .map((l) => {
          const cur = fresh.get(l.leaseKey) ?? l;
          if (cur.checkpoint === undefined) return { shard: l.shard };
          return { shard: l.shard, checkpoint: cur.checkpointSub === undefined ? { seq: cur.checkpoint } : { seq: cur.checkpoint, sub: cur.checkpointSub } };
        });
    });
  }

  async checkpoint(position: Position): Promise<void> {
    const leaseKey = shardKey(position);
    if (!this.held.has(leaseKey)) throw leaseLost(leaseKey, 'not held by this worker');
    const withSub = position.sub !== undefined;
    const update = `SET #checkpoint = :seq, #checkpointedAt = :at${withSub ? ', #sub = :sub' : ' REMOVE #sub'}`;
    const values: Record<string, AttributeValue> = { ':seq': S(position.seq), ':at': N(this.now()), ':me': S(this.workerId) };
    if (withSub) values[':sub'] = N(position.sub!);
    await withRetry(
      async () => {
        try {
          await this.client.send(
            new UpdateItemCommand({
              TableName: this.table,
              Key: keyOf(leaseKey),
              UpdateExpression: update,
              ConditionExpression: '#owner = :me',
              ExpressionAttributeNames: namesFor(update, '#owner'),
              ExpressionAttributeValues: values,
            }),
          );
        } catch (err) {
          if (!isConditionalFailure(err)) throw new IntegratorError('CHECKPOINT_FAILED', `checkpoint of ${leaseKey} failed: ${errorMessage(err)}`, { retriable: true, cause: err });
          const h = this.held.get(leaseKey);
          if (h) this.lose(h, 'checkpoint refused: another worker owns it');
          throw leaseLost(leaseKey, 'another worker owns it now');
        }
      },
      { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000, isRetriable: (e) => e instanceof IntegratorError && e.retriable },
    );
  }

  async finishShard(source: SourceKind, stream: string, shard: string): Promise<void> {
    const leaseKey = shardKey({ source, stream, shard });
    await this.exclusive(async () => {
      const update = 'SET #checkpoint = :end, #checkpointedAt = :at, #counter = #counter + :one REMOVE #owner, #expiresAt, #sub';
      try {
        await this.client.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: keyOf(leaseKey),
            UpdateExpression: update,
            ConditionExpression: '#owner = :me',
            ExpressionAttributeNames: namesFor(update),
            ExpressionAttributeValues: { ':end': S(SHARD_END), ':at': N(this.now()), ':one': N(1), ':me': S(this.workerId) },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
      } catch (err) {
        if (!isConditionalFailure(err)) throw new IntegratorError('CHECKPOINT_FAILED', `cannot finish ${leaseKey}: ${errorMessage(err)}`, { retriable: true, cause: err });
        this.held.delete(leaseKey);
        const old = (err as { Item?: Record<string, AttributeValue> }).Item;
        if (old && decodeLease(old).checkpoint === SHARD_END) return; // finished already (a retry)
        const h = this.held.get(leaseKey);
        if (h) this.lose(h, 'finish refused: another worker owns it');
        throw leaseLost(leaseKey, 'another worker owns it now');
      }
      this.held.delete(leaseKey);
      this.log.info({ shard }, 'shard finished (SHARD_END)');
    });
  }

  holds(source: SourceKind, stream: string, shard: string): boolean {
    const h = this.held.get(shardKey({ source, stream, shard }));
    // Past a lease duration without a successful renewal, another worker may have taken it.
    return h !== undefined && this.now() - h.renewedAt < this.leaseMs;
  }

  /** Renews every held lease now (the timer calls this). */
  renew(): Promise<void> {
    return this.exclusive(() => this.renewEach([...this.held.values()]));
  }

  async releaseAll(): Promise<void> {
    this.stopTimer();
    await this.exclusive(async () => {
      for (const h of this.held.values()) {
        const update = 'SET #counter = #counter + :one REMOVE #owner, #expiresAt';
        try {
          await this.client.send(
            new UpdateItemCommand({
              TableName: this.table,
              Key: keyOf(h.leaseKey),
              UpdateExpression: update,
              ConditionExpression: '#owner = :me',
              ExpressionAttributeNames: namesFor(update),
              ExpressionAttributeValues: { ':one': N(1), ':me': S(this.workerId) },
            }),
          );
          this.log.info({ shard: h.shard }, 'lease released');
        } catch (err) {
          if (!isConditionalFailure(err)) this.log.warn({ shard: h.shard, err: errorMessage(err) }, 'lease release failed; it will expire instead');
        }
      }
      for (const h of this.held.values()) this.metrics.set(METRIC.leasesHeld, 0, { source: h.source, stream: h.stream });
      this.held.clear();
    });
  }

  /** Stops renewing without handing anything back: what a crash looks like to the others. */
  stop(): void {
    this.stopped = true;
    this.stopTimer();
  }

  /** Leases this worker holds now, per stream (for health and tests). */
  heldShards(source: SourceKind, stream: string): string[] {
    return this.heldOf(source, stream)
      .map((h) => h.shard)
      .sort();
  }

  // ------------------------------------------------------------------ internals

  private async start(): Promise<void> {
    if (this.stopped) throw new IntegratorError('SHUTDOWN', 'lease coordinator stopped');
    this.ready ??= ensureLeaseTable(this.client, this.table, this.opts.createTable ?? true).catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    await this.ready;
    const every = this.opts.renewIntervalMs ?? Math.floor(this.leaseMs / 3);
    if (every > 0 && !this.timer && !this.stopped) {
      this.timer = setInterval(() => {
        this.renew().catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'lease renewal failed'));
      }, every);
      this.timer.unref();
    }
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Serializes everything that moves a lease counter, so our own writes never race each other. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  private heldOf(source: SourceKind, stream: string): Held[] {
    return [...this.held.values()].filter((h) => h.source === source && h.stream === stream);
  }

  private observe(leases: readonly LeaseItem[], now: number): void {
    for (const l of leases) {
      const s = this.seen.get(l.leaseKey);
      if (!s || s.counter !== l.leaseCounter || s.owner !== l.owner) this.seen.set(l.leaseKey, { counter: l.leaseCounter, owner: l.owner, since: now });
    }
  }

  private expired(l: LeaseItem, now: number): boolean {
    const s = this.seen.get(l.leaseKey);
    return s === undefined || now - s.since >= this.leaseMs;
  }

  private lose(h: Held, why: string): void {
    this.held.delete(h.leaseKey);
    this.log.warn({ shard: h.shard, stream: h.stream }, `lease lost: ${why}`);
  }

  private async take(l: LeaseItem): Promise<LeaseItem | undefined> {
    const sentAt = this.now();
    const update = 'SET #owner = :me, #counter = :next, #expiresAt = :exp';
    try {
      const res = await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: keyOf(l.leaseKey),
          UpdateExpression: update,
          ConditionExpression: '#counter = :seen',
          ExpressionAttributeNames: namesFor(update),
          ExpressionAttributeValues: { ':me': S(this.workerId), ':next': N(l.leaseCounter + 1), ':seen': N(l.leaseCounter), ':exp': N(sentAt + this.leaseMs) },
          ReturnValues: 'ALL_NEW',
        }),
      );
      this.held.set(l.leaseKey, { leaseKey: l.leaseKey, source: l.source, stream: l.stream, shard: l.shard, counter: l.leaseCounter + 1, renewedAt: sentAt });
      this.log.info({ shard: l.shard, from: l.owner ?? null }, 'lease taken');
      return res.Attributes ? decodeLease(res.Attributes) : l;
    } catch (err) {
      if (!isConditionalFailure(err)) this.log.warn({ shard: l.shard, err: errorMessage(err) }, 'lease take failed');
      return undefined;
    }
  }

  private async renewEach(leases: readonly Held[]): Promise<void> {
    for (const h of leases) {
      const sentAt = this.now();
      const update = 'SET #counter = :next, #expiresAt = :exp';
      try {
        await this.client.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: keyOf(h.leaseKey),
            UpdateExpression: update,
            ConditionExpression: '#owner = :me AND #counter = :seen',
            ExpressionAttributeNames: namesFor(update, '#owner'),
            ExpressionAttributeValues: { ':me': S(this.workerId), ':next': N(h.counter + 1), ':seen': N(h.counter), ':exp': N(sentAt + this.leaseMs) },
          }),
        );
        h.counter++;
        h.renewedAt = sentAt;
      } catch (err) {
        if (isConditionalFailure(err)) this.lose(h, 'renewal refused: taken by another worker');
        else this.log.warn({ shard: h.shard, err: errorMessage(err) }, 'lease renewal failed; retrying next cycle');
      }
    }
  }
}

const leaseLost = (leaseKey: string, why: string) => new IntegratorError('LEASE_LOST', `lease ${leaseKey} lost: ${why}`, { details: { leaseKey } });

const unavailable = (what: string, err: unknown) =>
  err instanceof IntegratorError ? err : new IntegratorError('DEPENDENCY_UNAVAILABLE', `${what}: ${errorMessage(err)}`, { retriable: true, cause: err });
