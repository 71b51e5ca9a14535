import { z } from 'zod';

export const KafkaSaslConfig = z
  .object({
    mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
    username: z.string().min(1),
    password: z.string().min(1).optional().describe('secret; prefer passwordEnv'),
    passwordEnv: z.string().min(1).optional().describe('name of the environment variable holding the password'),
  })
  .strict()
  .refine((s) => (s.password === undefined) !== (s.passwordEnv === undefined), {
    message: 'give exactly one of password and passwordEnv',
  });
export type KafkaSaslConfig = z.infer<typeof KafkaSaslConfig>;

export const KafkaSourceConfig = z
  .object({
    type: z.literal('kafka'),
    brokers: z.array(z.string().regex(/^[^\s:]+:\d+$/, 'expected host:port')).min(1).describe('bootstrap brokers, host:port'),
    topic: z.string().min(1).describe('the topic whose message values are inventory change events (JSON)'),
    groupId: z.string().min(1).default('inventory-integrator').describe('consumer group: instances of one group split the partitions'),
    clientId: z.string().min(1).default('inventory-integrator'),
    fromBeginning: z.boolean().default(true).describe('where a group without committed offsets starts'),
    sessionTimeoutMs: z.number().int().min(6000).default(30_000).describe('the broker drops a member silent this long'),
    rebalanceTimeoutMs: z
      .number()
      .int()
      .min(6000)
      .default(60_000)
      .describe('how long members have to rejoin in a rebalance; the flush before partitions are revoked must fit in it'),
    heartbeatIntervalMs: z.number().int().min(500).default(3000).describe('also how often a batch waiting for backpressure heartbeats'),
    maxWaitTimeMs: z.number().int().min(10).max(30_000).default(1000).describe('a fetch waits this long for new messages'),
    maxBytesPerPartition: z.number().int().min(1024).default(1024 * 1024).describe('fetch size per partition'),
    ssl: z.boolean().default(false),
    sasl: KafkaSaslConfig.optional(),
    connectionTimeoutMs: z.number().int().min(100).default(3000),
    maxRecordBytes: z.number().int().min(1024).default(1024 * 1024).describe('larger message values go to the DLQ as RECORD_TOO_LARGE'),
  })
  .strict();
export type KafkaSourceConfig = z.infer<typeof KafkaSourceConfig>;
