import { ArnFormat, Stack } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { objectsUnder } from './layout.js';

/**
 * Least-privilege statements shared by the roles of each run mode. Every action is named (no
 * `service:*`, no partial wildcards) and every resource is an ARN of this system; the few
 * actions AWS only authorizes on Resource "*" live in RESOURCE_STAR_ACTIONS, each with its reason.
 */

/** Actions that have no resource-level permissions, so Resource "*" is the only way to grant them. */
export const RESOURCE_STAR_ACTIONS: Readonly<Record<string, string>> = {
  'dynamodb:ListStreams': 'lists stream ARNs of the account; IAM cannot scope it (the Lambda DynamoDB event source calls it)',
  'ecr:GetAuthorizationToken': 'registry login token, account-wide by design (image pull by the ECS agent)',
  'cloudwatch:PutMetricData': 'metrics have no ARN; limited with a cloudwatch:namespace condition where we grant it',
  'ec2:CreateNetworkInterface': 'VPC-attached Lambda ENIs are created before their ARN exists',
  'ec2:DescribeNetworkInterfaces': 'Describe* calls have no resource-level permissions',
  'ec2:DescribeSubnets': 'Describe* calls have no resource-level permissions',
  'ec2:DeleteNetworkInterface': 'VPC-attached Lambda ENI cleanup',
  'ec2:AssignPrivateIpAddresses': 'VPC-attached Lambda ENIs',
  'ec2:UnassignPrivateIpAddresses': 'VPC-attached Lambda ENIs',
};

/** Writes of the sink: new objects (multipart included) under the raw table and the DLQ prefix. */
export function lakeWriteStatements(bucketArn: string, prefixes: readonly string[]): PolicyStatement[] {
  return [
    new PolicyStatement({
      sid: 'LakeWriteObjects',
      // PutObject also authorizes CreateMultipartUpload / UploadPart / CompleteMultipartUpload.
      actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
      resources: prefixes.map((p) => objectsUnder(bucketArn, p)),
    }),
  ];
}

/** Reads of objects under prefixes, and listing restricted to those prefixes. */
export function lakeReadStatements(bucketArn: string, prefixes: readonly string[], sid: string): PolicyStatement[] {
  return [
    new PolicyStatement({ sid: `${sid}Objects`, actions: ['s3:GetObject'], resources: prefixes.map((p) => objectsUnder(bucketArn, p)) }),
    new PolicyStatement({
      sid: `${sid}List`,
      actions: ['s3:ListBucket'],
      resources: [bucketArn],
      conditions: { StringLike: { 's3:prefix': prefixes.flatMap((p) => [p, `${p}/*`]) } },
    }),
  ];
}

/** What DynamoDbLeaseCoordinator and `checkpoints list|set|reset` call (src/checkpoints/*). */
export const LEASE_TABLE_ACTIONS = ['dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Scan'];

export function leaseTableStatements(tableArn: string): PolicyStatement[] {
  return [new PolicyStatement({ sid: 'LeaseTable', actions: LEASE_TABLE_ACTIONS, resources: [tableArn] })];
}

/** consumers/kinesis: list shards, iterate, read (no SubscribeToShard: the reader polls). */
export function kinesisReadStatements(streamArn: string): PolicyStatement[] {
  return [
    new PolicyStatement({
      sid: 'KinesisRead',
      actions: ['kinesis:DescribeStreamSummary', 'kinesis:ListShards', 'kinesis:GetShardIterator', 'kinesis:GetRecords'],
      resources: [streamArn],
    }),
  ];
}

/** consumers/dynamodb-streams: describe the stream's shards, iterate, read. */
export function dynamoDbStreamReadStatements(streamArn: string): PolicyStatement[] {
  return [
    new PolicyStatement({
      sid: 'DynamoDbStreamRead',
      actions: ['dynamodb:DescribeStream', 'dynamodb:GetShardIterator', 'dynamodb:GetRecords'],
      resources: [streamArn],
    }),
  ];
}

export interface GlueNames {
  readonly database: string;
  readonly tables: readonly string[];
}

export function glueArn(scope: IConstruct, resource: string, resourceName?: string): string {
  return Stack.of(scope).formatArn({
    service: 'glue',
    resource,
    ...(resourceName === undefined ? {} : { resourceName }),
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}

/** Glue authorizes table calls on the catalog, the database and the table ARNs together. */
export function glueTableResources(scope: IConstruct, names: GlueNames): string[] {
  return [
    glueArn(scope, 'catalog'),
    glueArn(scope, 'database', names.database),
    ...names.tables.map((t) => glueArn(scope, 'table', `${names.database}/${t}`)),
  ];
}

/**
 * The runtime's catalog adapter (src/catalog/glue-partitions.ts): read the table, create it at
 * first run, add columns, add partitions. No CreateDatabase: the stack owns the database.
 */
export function gluePartitionStatements(scope: IConstruct, names: GlueNames): PolicyStatement[] {
  return [
    new PolicyStatement({
      sid: 'GlueRawTable',
      actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:CreateTable', 'glue:UpdateTable', 'glue:BatchCreatePartition', 'glue:GetPartition'],
      resources: glueTableResources(scope, names),
    }),
  ];
}

/** Start and watch the crawler, the curated job and the workflow (src/catalog/glue-*.ts). */
export function glueTriggerStatements(scope: IConstruct, crawler: string, job: string, workflow: string): PolicyStatement[] {
  return [
    new PolicyStatement({ sid: 'GlueCrawler', actions: ['glue:GetCrawler', 'glue:StartCrawler'], resources: [glueArn(scope, 'crawler', crawler)] }),
    new PolicyStatement({ sid: 'GlueCuratedJob', actions: ['glue:StartJobRun', 'glue:GetJobRun'], resources: [glueArn(scope, 'job', job)] }),
    new PolicyStatement({ sid: 'GlueWorkflow', actions: ['glue:StartWorkflowRun', 'glue:GetWorkflowRun'], resources: [glueArn(scope, 'workflow', workflow)] }),
  ];
}

/** Glue jobs and crawlers log to fixed log group names under /aws-glue/. */
export function glueLogStatements(scope: IConstruct, groups: readonly string[]): PolicyStatement[] {
  const stack = Stack.of(scope);
  const arns = groups.flatMap((g) => {
    const arn = stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: g, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    return [arn, `${arn}:log-stream:*`];
  });
  return [new PolicyStatement({ sid: 'GlueLogs', actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], resources: arns })];
}

/** Metrics have no ARN; the namespace condition keeps the role to its own namespace. */
export function putMetricDataStatement(namespace: string): PolicyStatement {
  return new PolicyStatement({
    sid: 'PutMetricData',
    effect: Effect.ALLOW,
    actions: ['cloudwatch:PutMetricData'],
    resources: ['*'], // no resource-level permissions exist for PutMetricData
    conditions: { StringEquals: { 'cloudwatch:namespace': namespace } },
  });
}
