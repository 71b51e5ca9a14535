import { readFile, stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import {
  AbortMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { IntegratorError } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import { METRIC, type Metrics, NO_METRICS } from '../../src/core/metrics.js';
import type { ObjectStore } from '../../src/core/ports.js';
import { DEFAULT_RETRY, type RetryPolicy, withRetry } from '../../src/core/retry.js';
import { SILENT_LOGGER } from '../../src/core/logger.js';
import { describeS3Error, httpStatusOf, isTransientS3Error } from './errors.js';

/**
 * What the store needs of an S3 client. `send` for every call; lib-storage's `Upload` also
 * reads `config` (checksum mode, endpoint) for multipart uploads, so a wrapper used in tests
 * forwards the real client's config.
 */
export type S3Api = Pick<S3Client, 'send' | 'config'>;

export interface S3ObjectStoreOptions {
  readonly client: S3Api;
  readonly bucket: string;
  /** Key prefix inside the bucket, without a trailing slash ("" for the bucket root). */
  readonly prefix?: string;
  /** Files larger than this go up as a multipart upload in parts of this size (≥ 5 MiB). */
  readonly partSizeBytes?: number;
  /** Parts in flight per multipart upload; each holds one part in memory. */
  readonly queueSize?: number;
  readonly serverSideEncryption?: 'AES256' | 'aws:kms';
  readonly kmsKeyId?: string;
  /** Keys per ListObjectsV2 page (S3's maximum is 1000). */
  readonly listPageSize?: number;
  readonly retry?: Partial<RetryPolicy>;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly metrics?: Metrics;
  readonly log?: Logger;
}

const MIN_PART = 5 * 1024 * 1024;
const BAD_KEY = /[\u0000-\u001f\u007f\\]/;

/** An S3 bucket (or a prefix of one) as the lake; every write retried with backoff when transient. */
export class S3ObjectStore implements ObjectStore {
  readonly location: string;
  private readonly client: S3Api;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly listPageSize: number;
  private readonly sse: Pick<PutObjectCommandInput, 'ServerSideEncryption' | 'SSEKMSKeyId'>;
  private readonly policy: RetryPolicy;
  private readonly sleep?: (ms: number) => Promise<void>;
  private readonly metrics: Metrics;
  private readonly log: Logger;

  constructor(opts: S3ObjectStoreOptions) {
    this.client = opts.client;
    this.bucket = opts.bucket;
    this.prefix = (opts.prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.partSize = Math.max(MIN_PART, opts.partSizeBytes ?? 8 * 1024 * 1024);
    this.queueSize = Math.max(1, opts.queueSize ?? 2);
    this.listPageSize = Math.min(1000, Math.max(1, opts.listPageSize ?? 1000));
    this.sse = {
      ...(opts.serverSideEncryption ? { ServerSideEncryption: opts.serverSideEncryption } : {}),
      ...(opts.kmsKeyId ? { SSEKMSKeyId: opts.kmsKeyId } : {}),
    };
    this.policy = { ...DEFAULT_RETRY, ...opts.retry, isRetriable: opts.retry?.isRetriable ?? isTransientS3Error };
    this.sleep = opts.sleep;
    this.metrics = opts.metrics ?? NO_METRICS;
    this.log = opts.log ?? SILENT_LOGGER;
    this.location = `s3://${this.bucket}${this.prefix ? `/${this.prefix}` : ''}`;
  }

  /** The bucket key of a store key: the prefix joined on; unsafe keys refused. */
  fullKey(key: string): string {
    if (key === '' || BAD_KEY.test(key) || key.split('/').some((s) => s === '' || s === '.' || s === '..')) {
      throw new IntegratorError('SINK_WRITE_FAILED', `invalid object key "${key}" for ${this.location}: empty, "." or ".." segments, "\\" and control characters are not allowed`);
    }
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  async put(key: string, body: Buffer): Promise<void> {
    const Key = this.fullKey(key);
    await this.attempt('PutObject', Key, () => this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: body, ...this.sse })));
  }

  async putFile(key: string, localPath: string): Promise<void> {
    const Key = this.fullKey(key);
    const { size } = await stat(localPath);
    if (size <= this.partSize) {
      const body = await readFile(localPath);
      await this.attempt('PutObject', Key, () => this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: body, ...this.sse })));
      return;
    }
    // A fresh stream and Upload per attempt.
    await this.attempt('MultipartUpload', Key, () => this.multipart(Key, localPath, size));
  }

  /**
   * One multipart upload through lib-storage. Its own abort-on-error is switched off: when the
   * abort itself fails it replaces the real error (and so its retry decision). Here the upload
   * is aborted best-effort and the original error is what counts; a bucket lifecycle rule
   * (AbortIncompleteMultipartUpload) sweeps up what an abort could not.
   */
  private async multipart(Key: string, localPath: string, size: number): Promise<void> {
    const upload = new Upload({
      client: this.client as S3Client,
      params: { Bucket: this.bucket, Key, Body: createReadStream(localPath), ContentLength: size, ...this.sse },
      partSize: this.partSize,
      queueSize: this.queueSize,
      leavePartsOnError: true,
    });
    try {
      await upload.done();
    } catch (err) {
      if (upload.uploadId) {
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId: upload.uploadId })).catch((abortErr: unknown) => {
          this.log.warn({ bucket: this.bucket, key: Key, uploadId: upload.uploadId, err: describeS3Error(abortErr) }, 'could not abort a failed multipart upload');
        });
      }
      throw err;
    }
  }

  async get(key: string): Promise<Buffer | undefined> {
    const Key = this.fullKey(key);
    return this.attempt('GetObject', Key, async () => {
      try {
        const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
        return Buffer.from(await out.Body!.transformToByteArray());
      } catch (err) {
        if ((err as { name?: string }).name === 'NoSuchKey' || httpStatusOf(err) === 404) return undefined;
        throw err;
      }
    });
  }

  async list(prefix: string): Promise<readonly string[]> {
    const Prefix = this.prefix ? `${this.prefix}/${prefix}` : prefix;
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page: ListObjectsV2CommandOutput = await this.attempt('ListObjectsV2', Prefix, () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix, ContinuationToken: token, MaxKeys: this.listPageSize })),
      );
      for (const o of page.Contents ?? []) if (o.Key) keys.push(this.prefix ? o.Key.slice(this.prefix.length + 1) : o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  private async attempt<T>(op: string, key: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await withRetry(fn, this.policy, {
        sleep: this.sleep,
        onRetry: (err, attempt, delayMs) => {
          this.metrics.inc(METRIC.sinkRetries, { store: 's3', op });
          this.log.warn({ op, bucket: this.bucket, key, attempt, delayMs, err: describeS3Error(err) }, 'S3 call failed; retrying');
        },
      });
    } catch (err) {
      this.metrics.inc(METRIC.sinkFailures, { store: 's3', op });
      const transient = isTransientS3Error(err);
      throw new IntegratorError('SINK_WRITE_FAILED', `S3 ${op} of s3://${this.bucket}/${key} failed${transient ? ' after retries' : ''}: ${describeS3Error(err)}`, {
        cause: err,
        retriable: transient,
        details: { bucket: this.bucket, key, op, httpStatus: httpStatusOf(err) },
      });
    }
  }
}
