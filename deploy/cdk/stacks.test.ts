import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { only, REPO_ROOT, type Synthesized, synthesize, testProps } from './test-system.js';

let sys: Synthesized;
beforeAll(() => {
  sys = synthesize();
});

describe('lake stack', () => {
  it('encrypts the bucket, blocks public access, enforces TLS and ages out dead letters', () => {
    const t = sys.templates.lake!;
    t.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Id: 'dead-letters', Prefix: 'dlq/', Status: 'Enabled', ExpirationInDays: 365, Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }] }),
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 3 } }),
        ]),
      },
    });
    t.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  it('keys the lease table by leaseKey (string), on demand, with point-in-time recovery, retained', () => {
    const t = sys.templates.lake!;
    t.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: {
        TableName: 'inventory-integrator-leases',
        KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      },
    });
  });
});

describe('lambda stack', () => {
  it('runs index.handler on Node 22 with the deployment in its environment', () => {
    sys.templates.lambda!.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      Environment: {
        Variables: Match.objectLike({ INTEGRATOR__SINK__TYPE: 's3', INTEGRATOR__SINK__TABLE: 'inventory_changes', INTEGRATOR__SINK__DLQ_PREFIX: 'dlq', INTEGRATOR__CATALOG__DATABASE: 'inventory_lake' }),
      },
    });
  });

  it('maps Kinesis and DynamoDB streams with item failures, bisection, bounded retries and age, and an on-failure queue', () => {
    const t = sys.templates.lambda!;
    const mappings = Object.values(t.findResources('AWS::Lambda::EventSourceMapping'));
    expect(mappings).toHaveLength(2);
    const queue = Object.keys(t.findResources('AWS::SQS::Queue'))[0]!;
    for (const m of mappings as Array<{ Properties: Record<string, unknown> }>) {
      expect(m.Properties).toMatchObject({
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 5,
        MaximumRecordAgeInSeconds: 21_600,
        StartingPosition: 'TRIM_HORIZON',
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queue, 'Arn'] } } },
      });
    }
    const sources = mappings.map((m) => JSON.stringify((m as { Properties: { EventSourceArn: unknown } }).Properties.EventSourceArn));
    expect(sources.some((s) => s.includes('StreamArn'))).toBe(true); // the DynamoDB table's stream
    expect(sources.some((s) => s.includes('InventoryChanges'))).toBe(true); // the Kinesis stream
    t.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 14 * 24 * 3600, SqsManagedSseEnabled: true });
  });

  it('creates mappings only after the role that lets Lambda read the stream', () => {
    const t = sys.templates.lambda!;
    const role = Object.keys(t.findResources('AWS::IAM::Role'))[0]!;
    for (const m of Object.values(t.findResources('AWS::Lambda::EventSourceMapping')) as Array<{ DependsOn?: string[] }>) {
      expect(m.DependsOn).toContain(role);
    }
  });

  it('rejects unbounded retries and out-of-range record ages', () => {
    expect(() => synthesize(testProps((p) => ({ ...p, lambda: { ...p.lambda, maxRetryAttempts: -1 } })))).toThrow(/maxRetryAttempts must be bounded/);
    expect(() => synthesize(testProps((p) => ({ ...p, lambda: { ...p.lambda, maxRecordAgeSeconds: 10 } })))).toThrow(/maxRecordAgeSeconds must be 60\.\.604800/);
  });
});

describe('catalog stack', () => {
  it('crawls only new folders of the raw table, logging schema changes', () => {
    sys.templates.catalog!.hasResourceProperties('AWS::Glue::Crawler', {
      RecrawlPolicy: { RecrawlBehavior: 'CRAWL_NEW_FOLDERS_ONLY' },
      SchemaChangePolicy: { UpdateBehavior: 'LOG', DeleteBehavior: 'LOG' },
      Targets: { S3Targets: [Match.objectLike({ Path: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith(['/inventory_changes/'])]) }) })] },
    });
  });

  it('runs the curated job (glueetl) with the arguments its script reads, started by a workflow after the crawler succeeds', () => {
    const t = sys.templates.catalog!;
    const job = only(t, 'AWS::Glue::Job').Properties;
    expect(job).toMatchObject({
      Command: { Name: 'glueetl', PythonVersion: '3' },
      GlueVersion: '5.0',
      ExecutionProperty: { MaxConcurrentRuns: 1 },
      DefaultArguments: { '--raw_table': 'inventory_changes', '--enable-glue-datacatalog': 'true' },
    });
    // The arguments deploy/glue/curated_job.py reads (the runtime adds --partitions per run).
    const args = job.DefaultArguments as Record<string, unknown>;
    for (const [name, suffix] of [['--raw_path', '/inventory_changes/'], ['--curated_path', '/curated/'], ['--reference_path', '/reference/'], ['--TempDir', '/glue-temp/']] as const) {
      expect(JSON.stringify(args[name]), name).toContain(suffix);
    }
    expect(JSON.stringify(args['--sql_path'])).toMatch(/\.sql"/);
    const script = readFileSync(join(REPO_ROOT, 'deploy/glue/curated_job.py'), 'utf8');
    for (const name of ['raw_path', 'curated_path', 'reference_path', 'sql_path']) expect(script, name).toContain(`"${name}"`);
    t.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: 'inventory_lake' } });
    t.hasResourceProperties('AWS::Glue::Trigger', { Type: 'ON_DEMAND', Actions: [{ CrawlerName: Match.anyValue() }] });
    t.hasResourceProperties('AWS::Glue::Trigger', {
      Type: 'CONDITIONAL',
      StartOnCreation: true,
      Predicate: { Conditions: [Match.objectLike({ CrawlState: 'SUCCEEDED', LogicalOperator: 'EQUALS' })] },
      Actions: [{ JobName: Match.anyValue() }],
    });
    expect(sys.system.catalog.curatedTables).toEqual(['inventory_changes_curated', 'inventory_snapshot', 'inventory_daily']);
  });

  it('names the missing Glue script and the context key to point elsewhere', () => {
    expect(() => synthesize(testProps((p) => ({ ...p, glue: { ...p.glue, jobScriptPath: '/nonexistent/job.py' } })))).toThrow(
      /Glue job script not found at \/nonexistent\/job\.py; pass another path with -c glueJobScript=/,
    );
  });
});

describe('service stack', () => {
  it('runs at least two Fargate tasks that health-check /healthz on 8080 and log to CloudWatch', () => {
    const t = sys.templates.service!;
    t.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      DesiredCount: 2,
      DeploymentConfiguration: Match.objectLike({ MinimumHealthyPercent: 100, DeploymentCircuitBreaker: { Enable: true, Rollback: true } }),
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
    });
    const task = only(t, 'AWS::ECS::TaskDefinition').Properties;
    const [container] = task.ContainerDefinitions as Array<Record<string, unknown>>;
    expect(container).toMatchObject({
      PortMappings: [expect.objectContaining({ ContainerPort: 8080 })],
      StopTimeout: 55,
      LinuxParameters: { InitProcessEnabled: true },
      LogConfiguration: { LogDriver: 'awslogs' },
    });
    const health = (container!.HealthCheck as { Command: string[] }).Command;
    expect(health.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
    expect(health[3]).toContain('http://127.0.0.1:8080/healthz');
    const env = Object.fromEntries((container!.Environment as Array<{ Name: string; Value: unknown }>).map((e) => [e.Name, e.Value]));
    expect(env).toMatchObject({
      INTEGRATOR__SOURCE__TYPE: 'kinesis',
      INTEGRATOR__CHECKPOINTS__TYPE: 'dynamodb',
      INTEGRATOR__CHECKPOINTS__CREATE_TABLE: 'false',
      INTEGRATOR__SERVICE__PORT: '8080',
      INTEGRATOR__SERVICE__SHUTDOWN_DEADLINE_MS: '45000',
      INTEGRATOR__CATALOG__CURATED__JOB_NAME: 'inventory-integrator-curated',
    });
    expect(task).toMatchObject({ RequiresCompatibilities: ['FARGATE'], NetworkMode: 'awsvpc' });
  });

  it('with an SSM config parameter, writes it to a file the CLI reads and lets only the execution role fetch it', () => {
    const { templates } = synthesize(testProps((p) => ({ ...p, lambda: { ...p.lambda, enabled: false }, container: { ...p.container, config: { kind: 'ssm', parameterName: '/integrator/config' } } })));
    const t = templates.service!;
    const [container] = only(t, 'AWS::ECS::TaskDefinition').Properties.ContainerDefinitions as Array<Record<string, unknown>>;
    expect(container!.EntryPoint).toEqual(['/bin/sh', '-c']);
    expect((container!.Command as string[])[0]).toMatch(/> \/tmp\/integrator\.yaml && exec node dist\/src\/runtime\/main\.js run --config \/tmp\/integrator\.yaml$/);
    expect(container!.Secrets).toEqual([expect.objectContaining({ Name: 'INTEGRATOR_CONFIG_YAML' })]);
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['ssm:GetParameters']), Resource: Match.objectLike({ 'Fn::Join': Match.anyValue() }) })]) },
    });
    expect(templates.lambda).toBeUndefined();
  });

  it('refuses a single task', () => {
    expect(() => synthesize(testProps((p) => ({ ...p, container: { ...p.container, desiredCount: 1 } })))).toThrow(/desiredCount must be at least 2/);
  });
});

describe('wiring', () => {
  it('creates input streams only when none are given', () => {
    const given = synthesize(
      testProps((p) => ({
        ...p,
        sources: {
          kinesisStreamArn: 'arn:aws:kinesis:eu-west-1:123456789012:stream/changes',
          dynamoDbStreamArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/inv/stream/2024-01-01T00:00:00.000',
          dynamoDbTableName: 'inv',
        },
      })),
    );
    expect(given.system.sources).toBeUndefined();
    given.templates.lambda!.hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: 'arn:aws:kinesis:eu-west-1:123456789012:stream/changes' });
    const [container] = only(given.templates.service!, 'AWS::ECS::TaskDefinition').Properties.ContainerDefinitions as Array<{ Environment: Array<{ Name: string; Value: unknown }> }>;
    expect(container!.Environment).toContainEqual({ Name: 'INTEGRATOR__SOURCE__STREAM_NAME', Value: 'changes' });
    expect(sys.system.sources).toBeDefined();
  });

  it('rejects a DynamoDB stream without its table name, and nested lake prefixes', () => {
    expect(() => synthesize(testProps((p) => ({ ...p, sources: { dynamoDbStreamArn: 'arn:aws:dynamodb:eu-west-1:1:table/t/stream/x' } })))).toThrow(/both dynamoDbStreamArn and dynamoDbTableName/);
    expect(() => synthesize(testProps((p) => ({ ...p, layout: { ...p.layout, curatedPrefix: 'dlq/curated' } })))).toThrow(/must not nest: "dlq\/curated" is inside "dlq"/);
  });
});
