import { z } from 'zod';
import { AwsClientConfig } from '../src/config/aws.js';

const common = {
  format: z.enum(['parquet', 'ndjson']).default('parquet').describe('parquet (typed columns) or ndjson (gzip-compressed)'),
  compression: z.enum(['snappy', 'zstd']).default('zstd').describe('Parquet codec'),
  table: z.string().regex(/^[a-z_][a-z0-9_]*$/).default('inventory_changes').describe('folder and catalog table name of the raw layer'),
  dlqPrefix: z
    .string()
    .regex(/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/, 'letters, digits, "_" and "-", folders separated by single "/" (no leading or trailing "/")')
    .default('dlq')
    .describe('where dead letters go, in the same store'),
};

export const FileSinkConfig = z
  .object({ type: z.literal('file'), dir: z.string().min(1).describe('local directory used as the lake'), ...common })
  .strict();

export const S3SinkConfig = z
  .object({
    type: z.literal('s3'),
    bucket: z.string().min(3).describe('lake bucket'),
    prefix: z.string().default('').describe('key prefix inside the bucket, e.g. "raw"'),
    forcePathStyle: z.boolean().default(false).describe('path-style addressing (emulators)'),
    partSizeBytes: z.number().int().min(5 * 1024 * 1024).default(8 * 1024 * 1024).describe('multipart part size'),
    serverSideEncryption: z.enum(['AES256', 'aws:kms']).optional(),
    kmsKeyId: z.string().optional(),
    aws: AwsClientConfig.default(AwsClientConfig.parse({})),
    ...common,
  })
  .strict();

export const SinkConfig = z.discriminatedUnion('type', [FileSinkConfig, S3SinkConfig]);
export type SinkConfig = z.infer<typeof SinkConfig>;
export type FileSinkConfig = z.infer<typeof FileSinkConfig>;
export type S3SinkConfig = z.infer<typeof S3SinkConfig>;
