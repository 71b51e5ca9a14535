import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AwsClientConfig } from '../config/aws.js';
import { loadAdapter } from '../core/load-adapter.js';
import type { Logger } from '../core/logger.js';
import type { Metrics } from '../core/metrics.js';
import type { CheckpointStore, LeaseCoordinator } from '../core/ports.js';
import type { CheckpointConfig } from './config.js';
import { FileCheckpointStore } from './file-store.js';
import { LocalLeaseCoordinator } from './local-coordinator.js';

// The DynamoDB modules bring the AWS SDK (~18 MB): imported only when checkpoints.type asks for it.
const DYNAMODB = 'checkpoints.type "dynamodb"';

/** Something built from config, with what releases it (a client it opened). */
export interface Opened<T> {
  readonly value: T;
  close(): Promise<void>;
}

const nothingToClose = async (): Promise<void> => {};

export async function dynamoDbClient(aws: AwsClientConfig): Promise<DynamoDBClient> {
  const { DynamoDBClient } = await loadAdapter(DYNAMODB, () => import('@aws-sdk/client-dynamodb'));
  return new DynamoDBClient({
    region: aws.region,
    maxAttempts: aws.maxAttempts,
    ...(aws.endpoint ? { endpoint: aws.endpoint } : {}),
    ...(aws.accessKeyId && aws.secretAccessKey ? { credentials: { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey } } : {}),
  });
}

/** The checkpoint store the `checkpoints` section names. */
export async function createCheckpointStore(config: CheckpointConfig): Promise<Opened<CheckpointStore>> {
  if (config.type === 'file') return { value: new FileCheckpointStore(config.path), close: nothingToClose };
  const { DynamoDbCheckpointStore } = await loadAdapter(DYNAMODB, () => import('./dynamodb-checkpoint-store.js'));
  const client = await dynamoDbClient(config.aws);
  return {
    value: new DynamoDbCheckpointStore({ client, tableName: config.tableName, createTable: config.createTable }),
    close: async () => client.destroy(),
  };
}

/** Who owns which shard: this process alone (file), or leases shared by workers (DynamoDB). */
export async function createLeaseCoordinator(config: CheckpointConfig, store: CheckpointStore, deps: { log: Logger; metrics: Metrics }): Promise<Opened<LeaseCoordinator>> {
  if (config.type === 'file') return { value: new LocalLeaseCoordinator(store), close: nothingToClose };
  const { DynamoDbLeaseCoordinator, defaultWorkerId } = await loadAdapter(DYNAMODB, () => import('./dynamodb-lease-coordinator.js'));
  const client = await dynamoDbClient(config.aws);
  const coordinator = new DynamoDbLeaseCoordinator({
    client,
    tableName: config.tableName,
    workerId: config.workerId ?? defaultWorkerId(),
    leaseDurationMs: config.leaseDurationMs,
    createTable: config.createTable,
    log: deps.log.child({ component: 'leases' }),
    metrics: deps.metrics,
  });
  return { value: coordinator, close: async () => client.destroy() };
}
