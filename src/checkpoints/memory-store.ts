import type { Checkpoint, CheckpointStore } from '../core/ports.js';
import type { SourceKind } from '../core/position.js';
import { shardKey } from '../core/position.js';

/**
 * Checkpoints held in this process only: for tests, the Lambda mode (the event source mapping
 * keeps its own position) and single-run replays. Lost when the process ends, by design.
 */
export class MemoryCheckpointStore implements CheckpointStore {
  private readonly items = new Map<string, Checkpoint>();

  constructor(private readonly now: () => number = Date.now) {}

  async get(source: SourceKind, stream: string, shard: string): Promise<Checkpoint | undefined> {
    return this.items.get(shardKey({ source, stream, shard }));
  }

  async list(source?: SourceKind, stream?: string): Promise<readonly Checkpoint[]> {
    return [...this.items.values()].filter((c) => (source === undefined || c.source === source) && (stream === undefined || c.stream === stream));
  }

  async put(cp: Omit<Checkpoint, 'updatedAt'>): Promise<void> {
    const { sub, ...rest } = cp;
    this.items.set(shardKey(cp), { ...rest, ...(sub === undefined ? {} : { sub }), updatedAt: this.now() });
  }

  async delete(source: SourceKind, stream: string, shard: string): Promise<void> {
    this.items.delete(shardKey({ source, stream, shard }));
  }
}
