import { z } from 'zod';

export const KafkaSourceConfig = z
  .object({
    type: z.literal('kafka'),
    brokers: z.array(z.string().min(1)).min(1).describe('bootstrap brokers, host:port'),
    topic: z.string().min(1),
    groupId: z.string().min(1).default('inventory-integrator'),
    clientId: z.string().min(1).default('inventory-integrator'),
    fromBeginning: z.boolean().default(true).describe('where a group without committed offsets starts'),
    sessionTimeoutMs: z.number().int().min(6000).default(30_000),
    heartbeatIntervalMs: z.number().int().min(500).default(3000),
    ssl: z.boolean().default(false),
    sasl: z
      .object({
        mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
        username: z.string(),
        password: z.string().describe('secret; prefer passwordEnv'),
      })
      .strict()
      .optional(),
    maxRecordBytes: z.number().int().min(1024).default(1024 * 1024),
  })
  .strict();
export type KafkaSourceConfig = z.infer<typeof KafkaSourceConfig>;
