import { z } from 'zod';

export const FileSourceConfig = z
  .object({
    type: z.literal('file'),
    path: z.string().min(1).describe('NDJSON file: canonical inventory events or DynamoDB stream records, one per line'),
    stream: z.string().min(1).optional().describe('stream name for positions and event ids; default: the file name without extension'),
    startAt: z.enum(['checkpoint', 'beginning']).default('checkpoint').describe('resume after the checkpoint, or read from line 1'),
    linesPerPoll: z.number().int().min(1).max(100_000).default(4096).describe('lines handed to the pipeline at a time'),
    maxRecordBytes: z
      .number()
      .int()
      .min(1024)
      .default(1024 * 1024)
      .describe('longer lines go to the DLQ as RECORD_TOO_LARGE with only their first maxRecordBytes bytes (never held whole in memory)'),
  })
  .strict();
export type FileSourceConfig = z.infer<typeof FileSourceConfig>;
