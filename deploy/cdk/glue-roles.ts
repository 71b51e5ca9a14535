import { Stack } from 'aws-cdk-lib';
import { PolicyDocument, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { objectsUnder, type LakeLayout } from './layout.js';
import { glueArn, glueLogStatements, glueTableResources, lakeReadStatements, putMetricDataStatement } from './policies.js';

export interface GlueRoleProps {
  readonly bucketArn: string;
  readonly layout: LakeLayout;
  readonly database: string;
  readonly rawTable: string;
}

/** Only Glue in this account may assume these roles (confused-deputy guard). */
function glueRole(scope: Construct, id: string, description: string, policy: PolicyDocument): Role {
  return new Role(scope, id, {
    description,
    assumedBy: new ServicePrincipal('glue.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } } }),
    inlinePolicies: { leastPrivilege: policy },
  });
}

/**
 * The crawler reads the raw table's folder and keeps the raw table's partitions in the catalog
 * (CRAWL_NEW_FOLDERS_ONLY, so it only ever adds). It can touch no other table and no other prefix.
 */
export function crawlerRole(scope: Construct, p: GlueRoleProps): Role {
  return glueRole(
    scope,
    'CrawlerRole',
    'raw table crawler: read the raw prefix, maintain the raw table and its partitions',
    new PolicyDocument({
      statements: [
        ...lakeReadStatements(p.bucketArn, [p.layout.rawTable], 'RawRead'),
        new PolicyStatement({
          sid: 'RawTableCatalog',
          actions: [
            'glue:GetDatabase',
            'glue:GetTable',
            'glue:CreateTable',
            'glue:UpdateTable',
            'glue:GetPartition',
            'glue:GetPartitions',
            'glue:BatchGetPartition',
            'glue:CreatePartition',
            'glue:UpdatePartition',
            'glue:BatchCreatePartition',
            'glue:BatchUpdatePartition',
          ],
          resources: glueTableResources(scope, { database: p.database, tables: [p.rawTable] }),
        }),
        ...glueLogStatements(scope, ['/aws-glue/crawlers']),
      ],
    }),
  );
}

export interface JobRoleProps extends GlueRoleProps {
  /** ARNs of the job's script and SQL objects in the CDK asset bucket. */
  readonly assetObjectArns: readonly string[];
  /** Reference tables the job may read from the catalog (--reference_database). */
  readonly referenceTables: readonly string[];
  /** The workflow whose run properties carry the partitions when the job runs inside it. */
  readonly workflowName: string;
}

/**
 * The curated job (deploy/glue/curated_job.py) reads raw and reference data and overwrites the
 * curated Parquet folders (overwrite needs Delete); it writes no catalog entries. Listing is
 * granted on the whole bucket: Hadoop's S3 filesystem probes keys with HEAD and needs a 404 for
 * a missing one, which S3 gives only with an unconditioned s3:ListBucket (it reveals key names
 * only, no contents). Spark's Glue metastore client also looks up the "default" database.
 */
export function jobRole(scope: Construct, p: JobRoleProps): Role {
  const { layout } = p;
  const writable = [layout.curatedPrefix, layout.glueTempPrefix];
  return glueRole(
    scope,
    'CuratedJobRole',
    'curated job: read raw + reference, overwrite the curated folders',
    new PolicyDocument({
      statements: [
        new PolicyStatement({ sid: 'JobAssets', actions: ['s3:GetObject'], resources: [...p.assetObjectArns] }),
        new PolicyStatement({ sid: 'LakeList', actions: ['s3:ListBucket'], resources: [p.bucketArn] }),
        new PolicyStatement({
          sid: 'LakeRead',
          actions: ['s3:GetObject'],
          resources: [layout.rawTable, layout.referencePrefix, ...writable].map((prefix) => objectsUnder(p.bucketArn, prefix)),
        }),
        new PolicyStatement({
          sid: 'CuratedWrite',
          actions: ['s3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
          resources: writable.map((w) => objectsUnder(p.bucketArn, w)),
        }),
        new PolicyStatement({
          sid: 'CatalogRead',
          actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartition', 'glue:GetPartitions', 'glue:BatchGetPartition', 'glue:GetUserDefinedFunctions'],
          resources: [...glueTableResources(scope, { database: p.database, tables: [p.rawTable, ...p.referenceTables] }), glueArn(scope, 'database', 'default')],
        }),
        new PolicyStatement({ sid: 'WorkflowRunProperties', actions: ['glue:GetWorkflowRunProperties'], resources: [glueArn(scope, 'workflow', p.workflowName)] }),
        ...glueLogStatements(scope, ['/aws-glue/jobs/output', '/aws-glue/jobs/error', '/aws-glue/jobs/logs-v2']),
        putMetricDataStatement('Glue'),
      ],
    }),
  );
}
