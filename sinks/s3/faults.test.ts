import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryMetrics, METRIC } from '../../src/core/metrics.js';
import { type S3Stack, startS3rver } from '../../test/stack/s3rver.js';
import { S3ObjectStore } from './store.js';

/**
 * Fault injection: a client that wraps a real one (on s3rver) and fails the first N calls the
 * way S3 and the network do, which the emulator cannot be made to do on demand.
 */
function awsError(name: string, status: number | undefined, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${name} injected`), { name, $fault: status && status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, ...extra });
}

function faulty(real: S3Client, failures: Error[]): { client: Pick<S3Client, 'send' | 'config'>; calls: string[] } {
  const calls: string[] = [];
  const send = (async (cmd: { constructor: { name: string } }) => {
    calls.push(cmd.constructor.name);
    const next = failures.shift();
    if (next) throw next;
    return real.send(cmd as never);
  }) as S3Client['send'];
  return { client: { send, config: real.config }, calls };
}

let s3: S3Stack;
let dir: string;
const noSleep = async (): Promise<void> => {};

beforeAll(async () => {
  s3 = await startS3rver('faults');
  dir = await mkdtemp(join(tmpdir(), 's3-faults-'));
});
afterAll(async () => {
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('S3ObjectStore under faults', () => {
  it.each([
    ['503 ServiceUnavailable', awsError('ServiceUnavailable', 503)],
    ['SlowDown', awsError('SlowDown', 503)],
    ['500 InternalError', awsError('InternalError', 500)],
    ['throttling 429', awsError('TooManyRequestsException', 429)],
    ['request timeout', awsError('TimeoutError', undefined)],
    ['connection reset', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
  ])('retries %s and then succeeds', async (_label, error) => {
    const metrics = new MemoryMetrics();
    const { client, calls } = faulty(s3.client(), [error, error]);
    const store = new S3ObjectStore({ client, bucket: s3.bucket, metrics, sleep: noSleep });
    await store.put('retried/key', Buffer.from('payload'));
    expect(calls).toEqual(['PutObjectCommand', 'PutObjectCommand', 'PutObjectCommand']);
    expect((await store.get('retried/key'))?.toString()).toBe('payload');
    expect(metrics.total(METRIC.sinkRetries)).toBe(2);
    expect(metrics.total(METRIC.sinkFailures)).toBe(0);
  });

  it('retries a multipart upload whose part failed, starting a fresh upload', async () => {
    const metrics = new MemoryMetrics();
    const real = s3.client();
    const path = join(dir, 'big.bin');
    const body = Buffer.alloc(6 * 1024 * 1024, 7);
    await writeFile(path, body);
    // CreateMultipartUpload passes, the first UploadPart fails with a 503.
    const calls: string[] = [];
    let failed = false;
    const send = (async (cmd: { constructor: { name: string } }) => {
      calls.push(cmd.constructor.name);
      if (cmd.constructor.name === 'UploadPartCommand' && !failed) {
        failed = true;
        throw awsError('SlowDown', 503);
      }
      return real.send(cmd as never);
    }) as S3Client['send'];
    const store = new S3ObjectStore({ client: { send, config: real.config }, bucket: s3.bucket, metrics, sleep: noSleep, partSizeBytes: 5 * 1024 * 1024, queueSize: 1 });
    await store.putFile('mp/retried.bin', path);
    expect((await store.get('mp/retried.bin'))?.equals(body)).toBe(true);
    expect(calls.filter((c) => c === 'CreateMultipartUploadCommand')).toHaveLength(2);
    expect(calls).toContain('AbortMultipartUploadCommand');
    expect(metrics.total(METRIC.sinkRetries)).toBe(1);
  });

  it('fails at once on AccessDenied with an error naming bucket and key', async () => {
    const metrics = new MemoryMetrics();
    const { client, calls } = faulty(s3.client(), [awsError('AccessDenied', 403)]);
    const store = new S3ObjectStore({ client, bucket: s3.bucket, prefix: 'raw', metrics, sleep: noSleep });
    const err = await store.put('t/denied', Buffer.from('x')).catch((e: unknown) => e);
    expect(calls).toHaveLength(1);
    expect(err).toMatchObject({ name: 'IntegratorError', code: 'SINK_WRITE_FAILED', retriable: false, details: { bucket: s3.bucket, key: 'raw/t/denied', httpStatus: 403 } });
    expect((err as Error).message).toBe(`S3 PutObject of s3://${s3.bucket}/raw/t/denied failed: AccessDenied (HTTP 403): AccessDenied injected`);
    expect(metrics.total(METRIC.sinkRetries)).toBe(0);
    expect(metrics.total(METRIC.sinkFailures)).toBe(1);
  });

  it('gives up after the configured attempts and says the failure is transient', async () => {
    const metrics = new MemoryMetrics();
    const { client, calls } = faulty(s3.client(), Array.from({ length: 10 }, () => awsError('SlowDown', 503)));
    const store = new S3ObjectStore({ client, bucket: s3.bucket, metrics, sleep: noSleep, retry: { maxAttempts: 3 } });
    await expect(store.put('k', Buffer.from('x'))).rejects.toMatchObject({ code: 'SINK_WRITE_FAILED', retriable: true, message: expect.stringContaining('after retries: SlowDown (HTTP 503)') });
    expect(calls).toHaveLength(3);
    expect(metrics.total(METRIC.sinkRetries)).toBe(2);
    expect(metrics.total(METRIC.sinkFailures)).toBe(1);
  });

  it('follows continuation tokens when a listing is truncated', async () => {
    const pages = [
      { Contents: [{ Key: 'p/k/1' }, { Key: 'p/k/2' }], IsTruncated: true, NextContinuationToken: 't1' },
      { Contents: [{ Key: 'p/k/3' }], IsTruncated: false },
    ];
    const seen: Array<string | undefined> = [];
    const send = (async (cmd: ListObjectsV2Command) => {
      seen.push(cmd.input.ContinuationToken);
      return pages.shift();
    }) as unknown as S3Client['send'];
    const store = new S3ObjectStore({ client: { send, config: s3.client().config }, bucket: 'b', prefix: 'p' });
    expect(await store.list('k/')).toEqual(['k/1', 'k/2', 'k/3']);
    expect(seen).toEqual([undefined, 't1']);
  });
});
