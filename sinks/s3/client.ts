import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { AwsClientConfig } from '../../src/config/aws.js';

/**
 * An S3 client from the shared AWS settings. Static credentials only when both halves are
 * given; otherwise the default provider chain (task role, instance profile, env).
 */
export function createS3Client(aws: AwsClientConfig, forcePathStyle = false): S3Client {
  return new S3Client({
    region: aws.region,
    ...(aws.endpoint ? { endpoint: aws.endpoint } : {}),
    forcePathStyle,
    maxAttempts: aws.maxAttempts,
    ...(aws.accessKeyId && aws.secretAccessKey ? { credentials: { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey } } : {}),
    // Without timeouts a half-open connection would hang a write (and its checkpoint) forever.
    requestHandler: new NodeHttpHandler({ connectionTimeout: 5_000, requestTimeout: 120_000 }),
  });
}
