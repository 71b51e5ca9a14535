import { existsSync, readFileSync } from 'node:fs';
import { Stack, type StackProps } from 'aws-cdk-lib';
import { CfnCrawler, CfnDatabase, CfnJob, CfnTrigger, CfnWorkflow } from 'aws-cdk-lib/aws-glue';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import type { Construct } from 'constructs';
import { crawlerRole, jobRole } from './glue-roles.js';
import { type LakeLayout, s3Uri } from './layout.js';
import type { GlueProps } from './props.js';

export interface CatalogStackProps extends StackProps {
  readonly name: string;
  readonly bucket: IBucket;
  readonly layout: LakeLayout;
  readonly glue: GlueProps;
}

/** The curated tables are the `-- @table <name>` markers of the curated SQL (its runners split on them). */
export function curatedTableNames(sql: string): string[] {
  const names = [...sql.matchAll(/^--\s*@table\s+([a-z_][a-z0-9_]*)\s*$/gm)].map((m) => m[1]!);
  if (names.length === 0) throw new Error('the curated SQL names no table: expected lines like "-- @table inventory_daily"');
  return names;
}

function readable(path: string, what: string, contextKey: string): string {
  if (!existsSync(path)) throw new Error(`${what} not found at ${path}; pass another path with -c ${contextKey}=<path>`);
  return path;
}

/**
 * The Glue side: the database, a crawler for the raw table (new folders only), the curated job
 * running deploy/glue's script and SQL, and a workflow (start → crawler → on success → job).
 */
export class CatalogStack extends Stack {
  readonly databaseName: string;
  readonly crawlerName: string;
  readonly jobName: string;
  readonly workflowName: string;
  readonly curatedTables: readonly string[];

  constructor(scope: Construct, id: string, props: CatalogStackProps) {
    super(scope, id, props);
    const { bucket, layout, glue } = props;
    // The runtime's config (src/catalog/config.ts) accepts only this shape; fail here, not at start-up.
    if (!/^[a-z0-9_]{1,255}$/.test(glue.databaseName)) throw new Error(`glue.databaseName "${glue.databaseName}" must be lower-case letters, digits and _`);
    this.databaseName = glue.databaseName;
    this.crawlerName = `${props.name}-raw`;
    this.jobName = `${props.name}-curated`;
    this.workflowName = `${props.name}-curated-flow`;

    const sqlPath = readable(glue.curatedSqlPath, 'curated SQL', 'glueCuratedSql');
    this.curatedTables = curatedTableNames(readFileSync(sqlPath, 'utf8'));
    const script = new Asset(this, 'CuratedJobScript', { path: readable(glue.jobScriptPath, 'Glue job script', 'glueJobScript') });
    const sql = new Asset(this, 'CuratedSql', { path: sqlPath });

    const database = new CfnDatabase(this, 'Database', {
      catalogId: this.account,
      databaseInput: { name: this.databaseName, description: 'inventory lake: raw changes and curated tables (inventory-integrator)' },
    });

    const roleProps = { bucketArn: bucket.bucketArn, layout, database: this.databaseName, rawTable: layout.rawTable };
    const crawler = new CfnCrawler(this, 'RawCrawler', {
      name: this.crawlerName,
      role: crawlerRole(this, roleProps).roleArn,
      databaseName: database.ref, // Ref of a database is its name; it also orders the creation
      targets: { s3Targets: [{ path: s3Uri(bucket.bucketName, layout.rawTable), exclusions: ['**/_*', '**/.*'] }] },
      // Partitions are append-only folders (dt=/hour=): crawl what is new, never rescan the lake.
      recrawlPolicy: { recrawlBehavior: 'CRAWL_NEW_FOLDERS_ONLY' },
      // Incremental crawls require LOG for both (Glue rejects anything else).
      schemaChangePolicy: { updateBehavior: 'LOG', deleteBehavior: 'LOG' },
      configuration: JSON.stringify({ Version: 1.0, CrawlerOutput: { Partitions: { AddOrUpdateBehavior: 'InheritFromTable' } } }),
    });

    const job = new CfnJob(this, 'CuratedJob', {
      name: this.jobName,
      role: jobRole(this, {
        ...roleProps,
        assetObjectArns: [script, sql].map((a) => a.bucket.arnForObjects(a.s3ObjectKey)),
        referenceTables: ['orders', 'customers'],
        workflowName: this.workflowName,
      }).roleArn,
      command: { name: 'glueetl', pythonVersion: '3', scriptLocation: script.s3ObjectUrl },
      glueVersion: glue.glueVersion,
      workerType: glue.workerType,
      numberOfWorkers: glue.numberOfWorkers,
      // The runtime queues runs itself (ConcurrentRunsExceededException → retry later).
      executionProperty: { maxConcurrentRuns: 1 },
      maxRetries: 0,
      timeout: 120,
      defaultArguments: {
        '--job-language': 'python',
        '--enable-glue-datacatalog': 'true',
        '--enable-continuous-cloudwatch-log': 'true',
        '--enable-metrics': 'true',
        '--TempDir': s3Uri(bucket.bucketName, layout.glueTempPrefix),
        // The arguments deploy/glue/curated_job.py reads; the runtime adds --partitions per run.
        '--raw_table': layout.rawTable,
        '--raw_path': s3Uri(bucket.bucketName, layout.rawTable),
        '--reference_path': s3Uri(bucket.bucketName, layout.referencePrefix),
        '--curated_path': s3Uri(bucket.bucketName, layout.curatedPrefix),
        '--sql_path': sql.s3ObjectUrl,
      },
    });

    const workflow = new CfnWorkflow(this, 'CuratedWorkflow', {
      name: this.workflowName,
      description: 'crawl new raw partitions, then rebuild the curated tables',
      maxConcurrentRuns: 1,
    });
    new CfnTrigger(this, 'StartTrigger', {
      name: `${props.name}-start`,
      workflowName: workflow.ref,
      // On demand only: the job needs the partitions the runtime passes as run properties.
      type: 'ON_DEMAND',
      actions: [{ crawlerName: crawler.ref }],
    });
    new CfnTrigger(this, 'AfterCrawlTrigger', {
      name: `${props.name}-after-crawl`,
      workflowName: workflow.ref,
      type: 'CONDITIONAL',
      startOnCreation: true,
      predicate: { logical: 'ANY', conditions: [{ logicalOperator: 'EQUALS', crawlerName: crawler.ref, crawlState: 'SUCCEEDED' }] },
      actions: [{ jobName: job.ref }],
    });
  }
}
