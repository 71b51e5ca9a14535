import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { AwsClientConfig } from '../../src/config/aws.js';
import type { Logger } from '../../src/core/logger.js';
import type { Metrics } from '../../src/core/metrics.js';
import type { LeaseCoordinator } from '../../src/core/ports.js';
import type { KinesisSourceConfig } from './config.js';
import { KinesisSource } from './source.js';

/**
 * A Kinesis client over HTTP/1.1: polling needs nothing of HTTP/2 (only SubscribeToShard does),
 * and the SDK's HTTP/2 default fails against kinesalite with ERR_HTTP2_ERROR. The handler's
 * default agent keeps connections alive, up to 50 sockets: one GetRecords per shard reuses its
 * connection instead of a new one every 200 ms.
 */
export function createKinesisClient(aws: AwsClientConfig): KinesisClient {
  const client = new KinesisClient({
    region: aws.region,
    maxAttempts: aws.maxAttempts,
    ...(aws.endpoint ? { endpoint: aws.endpoint } : {}),
    ...(aws.accessKeyId && aws.secretAccessKey ? { credentials: { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey } } : {}),
    requestHandler: new NodeHttpHandler({ connectionTimeout: 5000, requestTimeout: 30_000 }),
  });
  // The SDK's logger middleware builds a redacted copy of every response, record by record, for a
  // logger this client is never given (the default logs nothing): a tenth of the SDK's CPU time
  // on a full GetRecords page, and as much garbage again as the page itself.
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}

export interface KinesisSourceDeps {
  readonly coordinator: LeaseCoordinator;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Injected in tests; otherwise built from `config.aws`. */
  readonly client?: Pick<KinesisClient, 'send'>;
}

export function createKinesisSource(config: KinesisSourceConfig, deps: KinesisSourceDeps): KinesisSource {
  return new KinesisSource({
    client: deps.client ?? createKinesisClient(config.aws),
    coordinator: deps.coordinator,
    config,
    log: deps.log,
    metrics: deps.metrics,
  });
}
