import type { Environment } from 'aws-cdk-lib';
import type { Code } from 'aws-cdk-lib/aws-lambda';
import { DEFAULT_LAYOUT, type LakeLayout } from './layout.js';

export type StreamKind = 'kinesis' | 'dynamodb';

/** Where the container image comes from. `asset` builds deploy/Dockerfile with Docker at synth. */
export type ImageChoice =
  | { readonly kind: 'asset'; readonly contextDir: string; readonly dockerfile: string }
  | { readonly kind: 'registry'; readonly uri: string };

/**
 * Where the service's YAML config comes from. `ssm`: a String parameter holding the whole YAML,
 * injected by ECS (execution role) and written to a file at start; `image`: the file baked into
 * (or mounted onto) the image at /config/integrator.yaml, the Dockerfile's default CMD.
 */
export type ConfigChoice = { readonly kind: 'ssm'; readonly parameterName: string } | { readonly kind: 'image' };

export interface ContainerProps {
  readonly enabled: boolean;
  /** The stream the service reads itself (with leases in the checkpoint table). */
  readonly source: StreamKind;
  readonly image: ImageChoice;
  readonly config: ConfigChoice;
  /** ≥ 2: leases spread the shards over the tasks, and one task survives the other's replacement. */
  readonly desiredCount: number;
  readonly cpu: number;
  readonly memoryMiB: number;
  readonly arm64: boolean;
  /** SIGTERM → flush, checkpoint, release leases; ECS sends SIGKILL after stopTimeout. */
  readonly shutdownDeadlineSeconds: number;
  /** Secrets Manager secret (RDS style, JSON field `password`) exposed as ENRICHMENT_DB_PASSWORD. */
  readonly databasePasswordSecretArn?: string;
}

export interface LambdaProps {
  readonly enabled: boolean;
  /** One event source mapping per stream named here. */
  readonly sources: readonly StreamKind[];
  /** The esbuild bundle's folder (holding index.mjs); ignored when `code` is given. */
  readonly bundleDir: string;
  /** Overrides the bundle (tests pass inline code so synth needs no build). */
  readonly code?: Code;
  readonly memoryMiB: number;
  readonly timeoutSeconds: number;
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  /** Bounded: a failing batch is bisected and retried this often, then goes to the on-failure queue. */
  readonly maxRetryAttempts: number;
  readonly maxRecordAgeSeconds: number;
  readonly parallelizationFactor: number;
  readonly inVpc: boolean;
}

export interface GlueProps {
  readonly databaseName: string;
  /** PySpark script of the curated job (another engineer's file; path configurable until it lands). */
  readonly jobScriptPath: string;
  /** The curated SQL the job runs (the same text DuckDB runs locally). */
  readonly curatedSqlPath: string;
  readonly glueVersion: string;
  readonly workerType: string;
  readonly numberOfWorkers: number;
}

export interface SourcesProps {
  /** Existing stream; when absent (and some mode reads Kinesis) a stream is created. */
  readonly kinesisStreamArn?: string;
  /** Existing DynamoDB stream and its table; when absent a table with a stream is created. */
  readonly dynamoDbStreamArn?: string;
  readonly dynamoDbTableName?: string;
}

export interface NetworkProps {
  /** Existing VPC (needs env account/region for the lookup); default: a new 2-AZ VPC. */
  readonly vpcId?: string;
  /** Security group of the RDS instance; when set, our tasks and function may reach databasePort. */
  readonly databaseSecurityGroupId?: string;
  readonly databasePort: number;
  /** CIDR allowed to scrape /metrics on 8080 (Prometheus in the VPC); default none. */
  readonly metricsScrapeCidr?: string;
}

export interface SystemProps {
  /** Prefix of every physical name, so two deployments can share an account. */
  readonly name: string;
  readonly env?: Environment;
  readonly layout: LakeLayout;
  readonly bucketVersioned: boolean;
  readonly dlqInfrequentAccessDays: number;
  readonly dlqExpirationDays: number;
  readonly leaseTableName: string;
  readonly glue: GlueProps;
  readonly sources: SourcesProps;
  readonly network: NetworkProps;
  readonly container: ContainerProps;
  readonly lambda: LambdaProps;
}

export function defaultProps(repoRoot: string): SystemProps {
  return {
    name: 'inventory-integrator',
    layout: DEFAULT_LAYOUT,
    bucketVersioned: false,
    dlqInfrequentAccessDays: 30,
    dlqExpirationDays: 365,
    // Matches src/checkpoints/config.ts's default tableName.
    leaseTableName: 'inventory-integrator-leases',
    glue: {
      databaseName: 'inventory_lake',
      jobScriptPath: `${repoRoot}/deploy/glue/curated_job.py`,
      curatedSqlPath: `${repoRoot}/deploy/glue/curated.sql`,
      glueVersion: '5.0',
      workerType: 'G.1X',
      numberOfWorkers: 2,
    },
    sources: {},
    network: { databasePort: 5432 },
    container: {
      enabled: true,
      source: 'kinesis',
      image: { kind: 'asset', contextDir: repoRoot, dockerfile: 'deploy/Dockerfile' },
      config: { kind: 'image' },
      desiredCount: 2,
      cpu: 1024,
      memoryMiB: 2048,
      arm64: false,
      shutdownDeadlineSeconds: 45,
    },
    lambda: {
      enabled: true,
      sources: ['dynamodb'],
      bundleDir: `${repoRoot}/dist/lambda`,
      memoryMiB: 1024,
      timeoutSeconds: 300,
      batchSize: 500,
      maxBatchingWindowSeconds: 5,
      maxRetryAttempts: 5,
      maxRecordAgeSeconds: 6 * 3600,
      parallelizationFactor: 1,
      inVpc: true,
    },
  };
}
