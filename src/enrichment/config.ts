import { z } from 'zod';

// Placeholder: the enrichment adapters (issue 4) flesh this out.
export const EnrichmentConfig = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }).strict(),
  z
    .object({
      type: z.literal('postgres'),
      url: z.string().optional().describe('postgres://user@host:port/db; the password belongs in passwordEnv or passwordFile'),
      policy: z.enum(['emit', 'dlq', 'wait']).default('emit'),
    })
    .strict(),
  z
    .object({
      type: z.literal('mysql'),
      url: z.string().optional(),
      policy: z.enum(['emit', 'dlq', 'wait']).default('emit'),
    })
    .strict(),
]);
export type EnrichmentConfig = z.infer<typeof EnrichmentConfig>;
