import { type AttributeValue, DeleteItemCommand, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { IntegratorError, errorMessage } from '../core/errors.js';
import type { Checkpoint, CheckpointStore } from '../core/ports.js';
import { type SourceKind, shardKey } from '../core/position.js';
import { A, type DynamoDbSend, N, S, decodeLease, ensureLeaseTable, keyOf, type LeaseItem, namesFor, scanLeases } from './lease-table.js';

export interface DynamoDbCheckpointStoreOptions {
  readonly client: DynamoDbSend;
  readonly tableName: string;
  /** Create the table (on demand) when missing; default true. */
  readonly createTable?: boolean;
  readonly now?: () => number;
}

/**
 * Plain checkpoint access to the lease table, for the CLI (`checkpoints list|set|delete`) and
 * replays: it reads and writes checkpoints without leases, so `put` is unconditional and never
 * touches the owner or the counter a running worker relies on.
 */
export class DynamoDbCheckpointStore implements CheckpointStore {
  private ready: Promise<void> | undefined;
  private readonly client: DynamoDbSend;
  private readonly tableName: string;

  constructor(private readonly opts: DynamoDbCheckpointStoreOptions) {
    this.client = opts.client;
    this.tableName = opts.tableName;
  }

  async get(source: SourceKind, stream: string, shard: string): Promise<Checkpoint | undefined> {
    await this.start();
    const res = await this.call('read', () => this.client.send(new GetItemCommand({ TableName: this.tableName, Key: keyOf(shardKey({ source, stream, shard })), ConsistentRead: true })));
    return res.Item ? toCheckpoint(decodeLease(res.Item)) : undefined;
  }

  async list(source?: SourceKind, stream?: string): Promise<readonly Checkpoint[]> {
    await this.start();
    const leases = await this.call('scan', () => scanLeases(this.client, this.tableName, source, stream));
    return leases.flatMap((l) => {
      const cp = toCheckpoint(l);
      return cp ? [cp] : [];
    });
  }

  async put(cp: Omit<Checkpoint, 'updatedAt'>): Promise<void> {
    await this.start();
    const withSub = cp.sub !== undefined;
    // if_not_exists keeps a worker's lease fields intact and gives a new item a valid lease shape.
    const update =
      'SET #source = :source, #stream = :stream, #shard = :shard, #checkpoint = :seq, #checkpointedAt = :at, ' +
      `#counter = if_not_exists(#counter, :zero), #parents = if_not_exists(#parents, :none)${withSub ? ', #sub = :sub' : ' REMOVE #sub'}`;
    const values: Record<string, AttributeValue> = {
      ':source': S(cp.source),
      ':stream': S(cp.stream),
      ':shard': S(cp.shard),
      ':seq': S(cp.seq),
      ':at': N((this.opts.now ?? Date.now)()),
      ':zero': N(0),
      ':none': { L: [] },
    };
    if (withSub) values[':sub'] = N(cp.sub!);
    await this.call('write', () =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: keyOf(shardKey(cp)),
          UpdateExpression: update,
          ExpressionAttributeNames: namesFor(update),
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  async delete(source: SourceKind, stream: string, shard: string): Promise<void> {
    await this.start();
    await this.call('delete', () => this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: keyOf(shardKey({ source, stream, shard })) })));
  }

  private async start(): Promise<void> {
    this.ready ??= ensureLeaseTable(this.client, this.tableName, this.opts.createTable ?? true).catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    await this.ready;
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof IntegratorError) throw err;
      throw new IntegratorError('CHECKPOINT_FAILED', `checkpoint ${what} on ${this.tableName} failed: ${errorMessage(err)}`, { retriable: true, cause: err });
    }
  }
}

function toCheckpoint(l: LeaseItem): Checkpoint | undefined {
  if (l.checkpoint === undefined) return undefined;
  return {
    source: l.source,
    stream: l.stream,
    shard: l.shard,
    seq: l.checkpoint,
    ...(l.checkpointSub === undefined ? {} : { sub: l.checkpointSub }),
    updatedAt: l.checkpointedAt ?? 0,
  };
}
