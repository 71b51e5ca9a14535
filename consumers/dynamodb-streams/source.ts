import type { Logger } from '../../src/core/logger.js';
import type { Metrics } from '../../src/core/metrics.js';
import type { LeaseCoordinator, OwnedShard, ShardInfo } from '../../src/core/ports.js';
import { LeasedShardSource, type ReaderWiring, type ShardReaderLike } from '../shared/leased-shard-source.js';
import type { DynamoDbStreamsSourceConfig } from './config.js';
import { readFailed } from './errors.js';
import { DynamoDbShardReader } from './shard-reader.js';
import { type DynamoDbSend, type StreamsSend, describeAllShards, iteratorStart, resolveStreamArn, toShardInfos } from './shards.js';

export type DynamoDbStreamsSettings = Pick<
  DynamoDbStreamsSourceConfig,
  'tableName' | 'streamArn' | 'startAt' | 'maxRecordsPerCall' | 'idleTimeBetweenReadsMs' | 'shardSyncIntervalMs' | 'leaseClaimIntervalMs'
>;

export interface DynamoDbStreamsSourceOptions {
  readonly streams: StreamsSend;
  /** For DescribeTable (the table's LatestStreamArn) when no streamArn is configured. */
  readonly dynamodb: DynamoDbSend;
  readonly coordinator: LeaseCoordinator;
  readonly config: DynamoDbStreamsSettings;
  readonly log: Logger;
  readonly metrics: Metrics;
}

/**
 * Reads a DynamoDB table's stream with GetRecords polling, one loop per shard this worker holds;
 * the lease loop and checkpoints are LeasedShardSource's. DynamoDB closes a shard every few
 * hours and opens a child: the child starts only once the parent is finished, that is once
 * everything read from the parent is delivered, which keeps each item's changes in order.
 */
export class DynamoDbStreamsSource extends LeasedShardSource {
  readonly kind = 'dynamodb' as const;
  private streamArn: string | undefined;

  constructor(private readonly o: DynamoDbStreamsSourceOptions) {
    super({ coordinator: o.coordinator, config: o.config, log: o.log.child({ source: 'dynamodb', table: o.config.tableName }) });
  }

  protected get stream(): string {
    return this.o.config.tableName;
  }

  protected get label(): string {
    return 'DynamoDB Streams';
  }

  protected override canClaim(): boolean {
    return this.streamArn !== undefined;
  }

  protected async listShards(signal: AbortSignal): Promise<ShardInfo[]> {
    try {
      this.streamArn ??= await resolveStreamArn(this.o.dynamodb, this.o.config, signal);
      return toShardInfos(await describeAllShards(this.o.streams, this.streamArn, signal));
    } catch (err) {
      throw readFailed(`describing the stream of ${this.stream}`, err, {});
    }
  }

  protected createReader(owned: OwnedShard, wiring: ReaderWiring): { reader: ShardReaderLike; start: string } {
    const { streams, config, metrics } = this.o;
    const start = iteratorStart(owned, this.infos.get(owned.shard), config.startAt);
    const reader = new DynamoDbShardReader({
      client: streams,
      streamArn: this.streamArn!,
      stream: this.stream,
      shard: owned.shard,
      start,
      maxRecordsPerCall: config.maxRecordsPerCall,
      idleTimeBetweenReadsMs: config.idleTimeBetweenReadsMs,
      ...wiring,
      log: this.log,
      metrics,
    });
    return { reader, start: start.ShardIteratorType ?? 'unknown' };
  }
}
