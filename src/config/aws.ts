import { z } from 'zod';

/** Connection settings shared by every AWS client; `endpoint` points a client at an emulator. */
export const AwsClientConfig = z
  .object({
    region: z.string().min(1).default('us-east-1').describe('AWS region'),
    endpoint: z.url().optional().describe('override the service endpoint (emulators, VPC endpoints)'),
    accessKeyId: z.string().optional().describe('static credentials; prefer the default provider chain (roles) in AWS'),
    secretAccessKey: z.string().optional().describe('static credentials; prefer the default provider chain (roles) in AWS'),
    maxAttempts: z.number().int().min(1).max(20).default(5).describe('SDK-level attempts per call'),
  })
  .strict();
export type AwsClientConfig = z.infer<typeof AwsClientConfig>;

export const awsDefaults = (): AwsClientConfig => AwsClientConfig.parse({});
