import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { IntegratorError } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import type { Metrics } from '../../src/core/metrics.js';
import type { LeaseCoordinator, OwnedShard, ShardInfo } from '../../src/core/ports.js';
import { LeasedShardSource, type ReaderWiring, type ShardReaderLike } from '../shared/leased-shard-source.js';
import type { KinesisSourceConfig } from './config.js';
import { readFailed } from './errors.js';
import { ShardReader } from './shard-reader.js';
import { iteratorStart, listAllShards, toShardInfos } from './shards.js';

export type KinesisSourceSettings = Pick<
  KinesisSourceConfig,
  'streamName' | 'startAt' | 'startTimestamp' | 'maxRecordsPerCall' | 'idleTimeBetweenReadsMs' | 'shardSyncIntervalMs' | 'leaseClaimIntervalMs'
>;

export interface KinesisSourceOptions {
  readonly client: Pick<KinesisClient, 'send'>;
  readonly coordinator: LeaseCoordinator;
  readonly config: KinesisSourceSettings;
  readonly log: Logger;
  readonly metrics: Metrics;
}

/**
 * Reads a Kinesis data stream with GetRecords polling, one loop per shard this worker holds;
 * the lease loop, resharding and checkpoints are LeasedShardSource's. KPL sub-records resume
 * inside their aggregate after a checkpoint.
 */
export class KinesisSource extends LeasedShardSource {
  readonly kind = 'kinesis' as const;

  constructor(private readonly o: KinesisSourceOptions) {
    super({ coordinator: o.coordinator, config: o.config, log: o.log.child({ source: 'kinesis', stream: o.config.streamName }) });
  }

  protected get stream(): string {
    return this.o.config.streamName;
  }

  protected get label(): string {
    return 'Kinesis';
  }

  protected async listShards(signal: AbortSignal): Promise<ShardInfo[]> {
    try {
      return toShardInfos(await listAllShards(this.o.client, this.o.config.streamName, signal));
    } catch (err) {
      throw err instanceof IntegratorError ? err : readFailed(`listing the shards of ${this.o.config.streamName}`, err, {});
    }
  }

  protected createReader(owned: OwnedShard, wiring: ReaderWiring): { reader: ShardReaderLike; start: string } {
    const { client, config, metrics } = this.o;
    const start = iteratorStart(owned, this.infos.get(owned.shard), config);
    const cp = owned.checkpoint;
    const reader = new ShardReader({
      client,
      streamName: config.streamName,
      shard: owned.shard,
      start,
      ...(cp?.sub !== undefined ? { skip: { seq: cp.seq, sub: cp.sub } } : {}),
      maxRecordsPerCall: config.maxRecordsPerCall,
      idleTimeBetweenReadsMs: config.idleTimeBetweenReadsMs,
      ...wiring,
      log: this.log,
      metrics,
    });
    return { reader, start: start.ShardIteratorType ?? 'unknown' };
  }
}
