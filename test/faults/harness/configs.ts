/**
 * Service configurations for the fault cases: the YAML a user would write, with everything made
 * small and fast (young batches, quick polls, short leases) so a case runs in seconds.
 */
const LOCAL_AWS = { region: 'us-east-1', accessKeyId: 'local', secretAccessKey: 'local', maxAttempts: 3 };

export const FAST_BATCHING = { maxAgeMs: 300, maxRecords: 500, maxInFlightRecords: 5000 };

export function kinesisSource(endpoint: string, streamName: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'kinesis',
    streamName,
    idleTimeBetweenReadsMs: 200,
    shardSyncIntervalMs: 1000,
    leaseClaimIntervalMs: 300,
    maxRecordsPerCall: 500,
    maxRecordBytes: 4096,
    aws: { ...LOCAL_AWS, endpoint },
    ...over,
  };
}

export function dynamoDbSource(endpoint: string, tableName: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'dynamodb',
    tableName,
    idleTimeBetweenReadsMs: 200,
    shardSyncIntervalMs: 1000,
    leaseClaimIntervalMs: 300,
    aws: { ...LOCAL_AWS, endpoint },
    ...over,
  };
}

export function serviceConfig(parts: { source: Record<string, unknown>; lakeDir?: string; sink?: Record<string, unknown>; checkpointFile?: string; checkpoints?: Record<string, unknown> } & Record<string, unknown>): Record<string, unknown> {
  const { source, lakeDir, sink, checkpointFile, checkpoints, ...rest } = parts;
  return {
    source,
    sink: sink ?? { type: 'file', dir: lakeDir },
    checkpoints: checkpoints ?? { type: 'file', path: checkpointFile },
    batching: FAST_BATCHING,
    logging: { level: 'info' },
    service: { host: '127.0.0.1', port: 0, shutdownDeadlineMs: 20_000 },
    ...rest,
  };
}

export { LOCAL_AWS };

/** Event times within a few hours, so a run writes to a handful of partitions, not fifty. */
export const COMPACT_EVENTS = { spanMs: 2 * 3_600_000, maxLatenessMs: 30 * 60_000 } as const;
