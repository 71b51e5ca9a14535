import { z } from 'zod';
import { AwsClientConfig } from '../config/aws.js';

export const CheckpointConfig = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('file'),
      path: z.string().min(1).default('.lake/checkpoints.json').describe('JSON file holding every shard checkpoint (atomic rewrite)'),
    })
    .strict(),
  z
    .object({
      type: z.literal('dynamodb'),
      tableName: z.string().min(3).default('inventory-integrator-leases').describe('KCL-style lease and checkpoint table'),
      workerId: z.string().min(1).optional().describe('this worker’s lease owner name; default hostname-pid'),
      leaseDurationMs: z.number().int().min(2000).default(10_000).describe('a lease whose counter has not moved for this long may be taken by another worker; holders renew every third of it'),
      createTable: z.boolean().default(true).describe('create the table (on-demand) when missing'),
      aws: AwsClientConfig.default(AwsClientConfig.parse({})),
    })
    .strict(),
]);
export type CheckpointConfig = z.infer<typeof CheckpointConfig>;
