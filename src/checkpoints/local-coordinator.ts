import type { CheckpointStore, LeaseCoordinator, OwnedShard, ShardInfo } from '../core/ports.js';
import { SHARD_END } from '../core/ports.js';
import type { Position, SourceKind } from '../core/position.js';

/**
 * The coordinator of a single worker: it owns every shard, so leases reduce to parent/child
 * ordering over an injected checkpoint store (file, memory or the DynamoDB table without leases).
 */
export class LocalLeaseCoordinator implements LeaseCoordinator {
  /** Shards last reported by the source, per stream; a parent absent here has left the stream. */
  private readonly shards = new Map<string, Map<string, ShardInfo>>();

  constructor(private readonly store: CheckpointStore) {}

  async syncShards(source: SourceKind, stream: string, shards: readonly ShardInfo[]): Promise<void> {
    // Replace rather than merge: a shard trimmed from the stream must stop blocking its children.
    this.shards.set(streamKey(source, stream), new Map(shards.map((s) => [s.shard, s])));
  }

  async claim(source: SourceKind, stream: string): Promise<readonly OwnedShard[]> {
    const known = this.shards.get(streamKey(source, stream));
    if (!known) return [];
    const checkpoints = new Map((await this.store.list(source, stream)).map((c) => [c.shard, c]));
    const finished = (shard: string) => checkpoints.get(shard)?.seq === SHARD_END;
    const owned: OwnedShard[] = [];
    for (const info of known.values()) {
      if (finished(info.shard)) continue;
      // A parent still in the stream must be drained first; one that expired from it cannot be.
      if (info.parents.some((p) => known.has(p) && !finished(p))) continue;
      const cp = checkpoints.get(info.shard);
      owned.push(cp ? { shard: info.shard, checkpoint: cp.sub === undefined ? { seq: cp.seq } : { seq: cp.seq, sub: cp.sub } } : { shard: info.shard });
    }
    return owned;
  }

  async checkpoint(position: Position): Promise<void> {
    const { source, stream, shard, seq, sub } = position;
    await this.store.put(sub === undefined ? { source, stream, shard, seq } : { source, stream, shard, seq, sub });
  }

  async finishShard(source: SourceKind, stream: string, shard: string): Promise<void> {
    await this.store.put({ source, stream, shard, seq: SHARD_END });
  }

  holds(): boolean {
    return true;
  }

  async releaseAll(): Promise<void> {
    // Nothing to hand back: no other worker shares these shards.
  }
}

const streamKey = (source: SourceKind, stream: string) => `${source}|${stream}`;
