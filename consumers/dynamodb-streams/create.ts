import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { AwsClientConfig } from '../../src/config/aws.js';
import type { Logger } from '../../src/core/logger.js';
import type { Metrics } from '../../src/core/metrics.js';
import type { LeaseCoordinator } from '../../src/core/ports.js';
import type { DynamoDbStreamsSourceConfig } from './config.js';
import { DynamoDbStreamsSource } from './source.js';

const clientSettings = (aws: AwsClientConfig) => ({
  region: aws.region,
  maxAttempts: aws.maxAttempts,
  ...(aws.endpoint ? { endpoint: aws.endpoint } : {}),
  ...(aws.accessKeyId && aws.secretAccessKey ? { credentials: { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey } } : {}),
});

export function createDynamoDbStreamsClient(aws: AwsClientConfig): DynamoDBStreamsClient {
  return new DynamoDBStreamsClient(clientSettings(aws));
}

export interface DynamoDbStreamsSourceDeps {
  readonly coordinator: LeaseCoordinator;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Injected in tests; otherwise built from `config.aws`. */
  readonly streams?: Pick<DynamoDBStreamsClient, 'send'>;
  readonly dynamodb?: Pick<DynamoDBClient, 'send'>;
}

export function createDynamoDbStreamsSource(config: DynamoDbStreamsSourceConfig, deps: DynamoDbStreamsSourceDeps): DynamoDbStreamsSource {
  return new DynamoDbStreamsSource({
    streams: deps.streams ?? createDynamoDbStreamsClient(config.aws),
    // Used only for DescribeTable when no streamArn is configured; SDK clients connect lazily.
    dynamodb: deps.dynamodb ?? new DynamoDBClient(clientSettings(config.aws)),
    coordinator: deps.coordinator,
    config,
    log: deps.log,
    metrics: deps.metrics,
  });
}
