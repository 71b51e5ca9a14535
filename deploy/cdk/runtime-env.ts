import { Arn, ArnFormat } from 'aws-cdk-lib';
import type { LakeLayout } from './layout.js';

/** Mirrors src/config/load.ts: INTEGRATOR__A__B_C=v sets a.bC (values read as YAML scalars). */
const ENV_PREFIX = 'INTEGRATOR__';

const envName = (path: readonly string[]): string =>
  ENV_PREFIX + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('__');

export type SourceRef =
  | { readonly kind: 'kinesis'; readonly streamArn: string }
  | { readonly kind: 'dynamodb'; readonly streamArn: string; readonly tableName: string };

export interface RuntimeRefs {
  readonly region: string;
  readonly bucketName: string;
  readonly layout: LakeLayout;
  readonly glueDatabase: string;
  /** Container only: Lambda's event source mapping keeps the stream position itself. */
  readonly leaseTableName?: string;
  /** Container only: the stream the service reads itself. */
  readonly source?: SourceRef;
  /** Container only: the curated job the runtime starts for partitions past the watermark. */
  readonly curatedJobName?: string;
  readonly servicePort?: number;
  readonly shutdownDeadlineMs?: number;
}

/**
 * Environment overrides that point the runtime's config at what the stacks created. The deployed
 * YAML then only has to carry tuning (batching, enrichment, partitioning); the *types* are set
 * here too, so a YAML still wired to local adapters (sink.type: file) fails at start-up with a
 * message naming the key, instead of silently writing somewhere else.
 */
export function integratorEnvironment(refs: RuntimeRefs): Record<string, string> {
  const env: Record<string, string> = {};
  const set = (path: readonly string[], value: string | number | boolean) => {
    env[envName(path)] = String(value);
  };
  set(['sink', 'type'], 's3');
  set(['sink', 'bucket'], refs.bucketName);
  set(['sink', 'table'], refs.layout.rawTable);
  set(['sink', 'dlqPrefix'], refs.layout.dlqPrefix);
  set(['sink', 'aws', 'region'], refs.region);
  set(['catalog', 'type'], 'glue');
  set(['catalog', 'database'], refs.glueDatabase);
  set(['catalog', 'aws', 'region'], refs.region);
  if (refs.curatedJobName !== undefined) set(['catalog', 'curated', 'jobName'], refs.curatedJobName);
  if (refs.leaseTableName !== undefined) {
    set(['checkpoints', 'type'], 'dynamodb');
    set(['checkpoints', 'tableName'], refs.leaseTableName);
    // The stack owns the table (PITR, retention); the role is not allowed to create tables.
    set(['checkpoints', 'createTable'], false);
    set(['checkpoints', 'aws', 'region'], refs.region);
  }
  if (refs.source?.kind === 'kinesis') {
    set(['source', 'type'], 'kinesis');
    set(['source', 'streamName'], streamNameOf(refs.source.streamArn));
    set(['source', 'aws', 'region'], refs.region);
  } else if (refs.source?.kind === 'dynamodb') {
    set(['source', 'type'], 'dynamodb');
    set(['source', 'tableName'], refs.source.tableName);
    set(['source', 'streamArn'], refs.source.streamArn);
    set(['source', 'aws', 'region'], refs.region);
  }
  if (refs.servicePort !== undefined) set(['service', 'port'], refs.servicePort);
  if (refs.shutdownDeadlineMs !== undefined) set(['service', 'shutdownDeadlineMs'], refs.shutdownDeadlineMs);
  return env;
}

/** arn:aws:kinesis:region:account:stream/NAME → NAME (works on deploy-time tokens too). */
export function streamNameOf(streamArn: string): string {
  const name = Arn.split(streamArn, ArnFormat.SLASH_RESOURCE_NAME).resourceName;
  if (name === undefined) throw new Error(`not a Kinesis stream ARN: ${streamArn}`);
  return name;
}
