import { z } from 'zod';
import { AwsClientConfig } from '../config/aws.js';

/** Retries of one catalog call (throttling, transient faults) before it counts as failed. */
export const CatalogRetryConfig = z
  .object({
    maxAttempts: z.number().int().min(1).max(20).default(6).describe('attempts per Glue call, the first included'),
    baseDelayMs: z.number().int().min(1).default(200).describe('first backoff delay (full jitter, doubling)'),
    maxDelayMs: z.number().int().min(1).default(20_000).describe('backoff ceiling'),
  })
  .strict();
export type CatalogRetryConfig = z.infer<typeof CatalogRetryConfig>;

const allowedLatenessMs = z
  .number()
  .int()
  .min(0)
  .default(15 * 60_000)
  .describe('build a partition once the event-time watermark is this far past its end');

export const GlueCrawlerConfig = z
  .object({
    name: z.string().min(1).describe('crawler to start when new partitions land'),
    debounceMs: z.number().int().min(0).default(60_000).describe('wait this long after the last new partition before starting it'),
    role: z
      .string()
      .min(1)
      .optional()
      .describe('IAM role ARN; when set, the crawler is created (S3 target = the table location) if missing'),
  })
  .strict();
export type GlueCrawlerConfig = z.infer<typeof GlueCrawlerConfig>;

export const GlueCuratedConfig = z
  .object({
    jobName: z.string().min(1).optional().describe('Glue job running deploy/glue/curated_job.py'),
    workflowName: z.string().min(1).optional().describe('start this Glue workflow instead of the job'),
    allowedLatenessMs,
    maxPartitionsPerRun: z.number().int().min(1).max(1000).default(100).describe('raw partitions named in one run'),
    pollIntervalMs: z.number().int().min(10).default(30_000).describe('GetJobRun / GetWorkflowRun polling interval'),
    busyRetryMs: z
      .number()
      .int()
      .min(10)
      .default(60_000)
      .describe('wait before retrying a run refused with ConcurrentRunsExceededException (doubles, capped at 8x)'),
    maxRunAttempts: z.number().int().min(1).max(10).default(2).describe('runs for the same partitions when a run ends FAILED/ERROR/TIMEOUT'),
    runOnClose: z.boolean().default(true).describe('on shutdown, start a run for partitions not yet due'),
    closeTimeoutMs: z.number().int().min(0).default(30_000).describe('how long close() waits to submit queued runs'),
    arguments: z
      .record(z.string().regex(/^--[A-Za-z0-9_-]+$/), z.string())
      .default({})
      .describe('extra job arguments, e.g. {"--curated_path": "s3://lake/curated/"}'),
  })
  .strict()
  .refine((c) => (c.jobName === undefined) !== (c.workflowName === undefined), {
    message: 'set exactly one of jobName or workflowName',
  });
export type GlueCuratedConfig = z.infer<typeof GlueCuratedConfig>;

export const GlueCatalogConfig = z
  .object({
    type: z.literal('glue'),
    database: z.string().regex(/^[a-z0-9_]{1,255}$/, 'lower-case letters, digits and underscores').describe('Glue database'),
    catalogId: z.string().regex(/^\d{12}$/).optional().describe('AWS account id of the catalog; default the caller’s'),
    table: z
      .string()
      .regex(/^[a-z_][a-z0-9_]*$/)
      .optional()
      .describe('catalog table name; default the sink table (its folder in the lake)'),
    mode: z
      .enum(['partitions', 'crawler'])
      .default('partitions')
      .describe('partitions: create the table and BatchCreatePartition at once; crawler: start a crawler'),
    createDatabase: z.boolean().default(false).describe('create the database when it is missing'),
    updateSchema: z.boolean().default(true).describe('add new raw columns to an existing table (never drops or retypes)'),
    crawler: GlueCrawlerConfig.optional(),
    curated: GlueCuratedConfig.optional().describe('trigger the curated Glue job or workflow; absent: no curated runs'),
    retry: CatalogRetryConfig.default(CatalogRetryConfig.parse({})),
    aws: AwsClientConfig.default(AwsClientConfig.parse({})),
  })
  .strict()
  .refine((c) => c.mode !== 'crawler' || c.crawler !== undefined, {
    message: 'mode "crawler" needs catalog.crawler.name',
    path: ['crawler'],
  });
export type GlueCatalogConfig = z.infer<typeof GlueCatalogConfig>;

export const DuckDbCatalogConfig = z
  .object({
    type: z.literal('duckdb'),
    stateFile: z
      .string()
      .min(1)
      .default('_catalog.json')
      .describe('table and partition list, relative to the lake directory (or absolute)'),
    curated: z
      .object({
        enabled: z.boolean().default(true).describe('build the curated tables with deploy/glue/curated.sql'),
        refresh: z
          .enum(['watermark', 'close'])
          .default('watermark')
          .describe('watermark: rebuild when partitions are past the watermark + lateness; close: only at shutdown'),
        allowedLatenessMs: allowedLatenessMs.default(0),
        outputDir: z.string().min(1).default('curated').describe('curated tables go to <lake>/<outputDir>/<table>/'),
        referenceDir: z
          .string()
          .min(1)
          .default('reference')
          .describe('orders and customers are read from <lake>/<referenceDir>/{orders,customers}/*.parquet'),
        sqlFile: z.string().min(1).optional().describe('override deploy/glue/curated.sql'),
      })
      .strict()
      .default({ enabled: true, refresh: 'watermark', allowedLatenessMs: 0, outputDir: 'curated', referenceDir: 'reference' }),
  })
  .strict();
export type DuckDbCatalogConfig = z.infer<typeof DuckDbCatalogConfig>;

export const CatalogConfig = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }).strict(),
  DuckDbCatalogConfig,
  GlueCatalogConfig,
]);
export type CatalogConfig = z.infer<typeof CatalogConfig>;
