import { ShardAckState } from '../core/ack-tracker.js';
import { IntegratorError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { METRIC, type Metrics } from '../core/metrics.js';
import type { Catalog, CommittedPartition, Source, WrittenObject } from '../core/ports.js';
import { backoffDelay, sleep } from '../core/retry.js';
import { formatPosition, type Position, shardKey } from '../core/position.js';

interface WrittenRef {
  readonly object: WrittenObject;
  readonly maxIndex: number;
  readonly minEventTime: number;
  readonly maxEventTime: number;
}

interface ShardState {
  readonly key: string;
  readonly labels: { source: string; shard: string };
  readonly ack: ShardAckState;
  committedIndex: number;
  committing: boolean;
  lost: boolean;
  maxEventTime: number;
  written: WrittenRef[];
  waiters: Array<{ target: number; resolve: () => void }>;
}

/**
 * Receipt → delivery → checkpoint → catalog, per shard. A checkpoint only ever covers the
 * highest position below which every record is in the lake or the DLQ; the catalog hears of an
 * object only once a checkpoint covers it. Commits of a shard are serialised and coalesced.
 */
export class DeliveryLedger {
  private readonly shards = new Map<string, ShardState>();
  private received = 0;
  private delivered = 0;
  private commits = 0;
  private catalogChain: Promise<void> = Promise.resolve();
  private readonly partitionsSeen = new Set<string>();
  private stopping = false;
  private lastShard: { source: string; stream: string; shard: string; state: ShardState } | undefined;

  constructor(
    private readonly source: Pick<Source, 'commit'>,
    private readonly catalog: Catalog,
    private readonly table: string,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly onInFlightChange: (inFlight: number) => void = () => {},
  ) {}

  get inFlight(): number {
    return this.received - this.delivered;
  }

  stats() {
    return { received: this.received, delivered: this.delivered, inFlight: this.inFlight, commits: this.commits, partitions: this.partitionsSeen.size, shards: this.shards.size };
  }

  /** Checkpoint lag per shard, in records received and not yet checkpointed. */
  lagByShard(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.shards.values()) out[s.key] = s.ack.received - 1 - s.committedIndex;
    return out;
  }

  receive(position: Position): { shardKey: string; index: number } {
    // Records of one shard arrive in runs: the last shard is reused without building its key.
    const last = this.lastShard;
    if (last && last.source === position.source && last.stream === position.stream && last.shard === position.shard) {
      this.received++;
      this.onInFlightChange(this.inFlight);
      return { shardKey: last.state.key, index: last.state.ack.receive(position) };
    }
    const key = shardKey(position);
    let s = this.shards.get(key);
    if (!s) {
      s = {
        key,
        labels: { source: position.source, shard: `${position.stream}/${position.shard}` },
        ack: new ShardAckState(),
        committedIndex: -1,
        committing: false,
        lost: false,
        maxEventTime: Number.NEGATIVE_INFINITY,
        written: [],
        waiters: [],
      };
      this.shards.set(key, s);
    }
    this.lastShard = { source: position.source, stream: position.stream, shard: position.shard, state: s };
    this.received++;
    this.onInFlightChange(this.inFlight);
    return { shardKey: key, index: s.ack.receive(position) };
  }

  /** Records are in the lake (with `written`) or the DLQ; the checkpoint may move. */
  deliver(key: string, indices: readonly number[], written?: { object: WrittenObject; minEventTime: number; maxEventTime: number }): void {
    const s = this.shards.get(key);
    if (!s) throw new IntegratorError('INTERNAL', `delivery for unknown shard ${key}`);
    this.delivered += indices.length;
    if (written) {
      let maxIndex = -1;
      for (const i of indices) if (i > maxIndex) maxIndex = i;
      s.written.push({ object: written.object, maxIndex, minEventTime: written.minEventTime, maxEventTime: written.maxEventTime });
      if (written.maxEventTime > s.maxEventTime) s.maxEventTime = written.maxEventTime;
      this.partitionsSeen.add(written.object.partition.path);
    }
    this.onInFlightChange(this.inFlight);
    if (s.ack.deliver(indices)) void this.pump(s);
  }

  /** Resolves once every record received so far from these shards (all when omitted) is checkpointed. */
  whenCommitted(keys?: readonly string[]): Promise<void> {
    const targets = [...this.shards.values()].filter((s) => !keys || keys.includes(s.key));
    return Promise.all(
      targets.map((s) => {
        const target = s.ack.received - 1;
        if (s.committedIndex >= target || s.lost) return undefined;
        return new Promise<void>((resolve) => s.waiters.push({ target, resolve }));
      }),
    ).then(() => undefined);
  }

  /** Waits for the commits and catalog notifications under way. */
  async drain(): Promise<void> {
    this.stopping = true;
    await this.whenCommitted();
    await this.catalogChain;
  }

  private async pump(s: ShardState): Promise<void> {
    if (s.committing) return;
    s.committing = true;
    try {
      let attempt = 0;
      while (!s.lost && s.ack.contiguousIndex > s.committedIndex) {
        const index = s.ack.contiguousIndex;
        const pos = s.ack.contiguous!;
        try {
          await this.source.commit(pos);
          attempt = 0;
        } catch (err) {
          if (err instanceof IntegratorError && err.code === 'LEASE_LOST') {
            this.log.warn({ shard: s.key, position: formatPosition(pos) }, 'lease lost: another worker owns this shard now; its checkpoints stop here');
            s.lost = true;
            break;
          }
          attempt++;
          const delay = backoffDelay(attempt, { baseDelayMs: 100, maxDelayMs: this.stopping ? 1000 : 10_000 });
          this.log.error({ shard: s.key, position: formatPosition(pos), attempt, err }, `checkpoint failed, retrying in ${delay} ms: ${errorMessage(err)}`);
          await sleep(delay);
          continue;
        }
        s.committedIndex = index;
        this.commits++;
        this.metrics.inc(METRIC.checkpointsCommitted, s.labels);
        this.metrics.set(METRIC.checkpointLagRecords, s.ack.received - 1 - index, s.labels);
        this.release(s, index);
      }
    } finally {
      s.committing = false;
      this.wake(s);
    }
  }

  private wake(s: ShardState): void {
    if (s.waiters.length === 0) return;
    const keep: ShardState['waiters'] = [];
    for (const w of s.waiters) (s.lost || s.committedIndex >= w.target ? w.resolve() : keep.push(w));
    s.waiters = keep;
  }

  private release(s: ShardState, committedIndex: number): void {
    const ready = s.written.filter((w) => w.maxIndex <= committedIndex);
    if (ready.length === 0) return;
    s.written = s.written.filter((w) => w.maxIndex > committedIndex);
    const byPath = new Map<string, { partition: CommittedPartition['partition']; objects: WrittenObject[]; min: number; max: number }>();
    for (const w of ready) {
      const p = w.object.partition;
      const e = byPath.get(p.path) ?? { partition: p, objects: [], min: w.minEventTime, max: w.maxEventTime };
      e.objects.push(w.object);
      e.min = Math.min(e.min, w.minEventTime);
      e.max = Math.max(e.max, w.maxEventTime);
      byPath.set(p.path, e);
    }
    const parts: CommittedPartition[] = [...byPath.values()].map((e) => ({
      table: this.table,
      partition: e.partition,
      objects: e.objects,
      minEventTime: e.min,
      maxEventTime: e.max,
    }));
    const watermark = this.watermark();
    this.catalogChain = this.catalogChain.then(async () => {
      try {
        await this.catalog.partitionsCommitted(parts, watermark);
      } catch (err) {
        // The port promises not to throw; if an adapter does anyway, checkpoints must not care.
        this.log.error({ err, partitions: parts.map((p) => p.partition.path) }, `catalog update failed: ${errorMessage(err)}`);
        this.metrics.inc(METRIC.catalogFailures);
      }
    });
  }

  /** Event-time low watermark: the least of each shard's newest delivered event time. */
  watermark(): number {
    let w = Number.POSITIVE_INFINITY;
    for (const s of this.shards.values()) if (s.maxEventTime > Number.NEGATIVE_INFINITY && s.maxEventTime < w) w = s.maxEventTime;
    return Number.isFinite(w) ? w : 0;
  }
}
