import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { type IVpc, SecurityGroup, SubnetType } from 'aws-cdk-lib/aws-ec2';
import { PolicyDocument, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Code, EventSourceMapping, Function as LambdaFunction, Runtime, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { allowDatabaseAccess } from './database-access.js';
import type { LakeLayout } from './layout.js';
import { dynamoDbStreamReadStatements, gluePartitionStatements, kinesisReadStatements, lakeWriteStatements } from './policies.js';
import type { LambdaProps } from './props.js';
import { integratorEnvironment, type SourceRef } from './runtime-env.js';

export interface LambdaStackProps extends StackProps {
  readonly name: string;
  readonly lambda: LambdaProps;
  readonly vpc?: IVpc;
  readonly bucketArn: string;
  readonly bucketName: string;
  readonly layout: LakeLayout;
  readonly glueDatabase: string;
  readonly sources: readonly SourceRef[];
  readonly databaseSecurityGroupId?: string;
  readonly databasePort: number;
}

/**
 * The serverless mode: one function behind an event source mapping per stream. The handler
 * reports `batchItemFailures`; Lambda then retries from the lowest failed sequence number, and
 * bisects a batch that keeps failing, a bounded number of times and for a bounded record age,
 * before handing the batch's description to the on-failure queue and moving on. Poison records
 * never get there: the handler writes them to the lake's DLQ prefix and reports success.
 */
export class LambdaStack extends Stack {
  readonly fn: LambdaFunction;
  readonly failureQueue: Queue;

  constructor(scope: Construct, id: string, props: LambdaStackProps) {
    super(scope, id, props);
    const l = props.lambda;
    if (l.sources.length === 0) throw new Error('lambda.sources is empty: name at least one of kinesis, dynamodb (or disable the lambda mode)');
    if (l.maxRetryAttempts < 0 || l.maxRetryAttempts > 10_000) throw new Error(`lambda.maxRetryAttempts must be bounded, 0..10000 (got ${l.maxRetryAttempts})`);
    if (l.maxRecordAgeSeconds < 60 || l.maxRecordAgeSeconds > 604_800) throw new Error(`lambda.maxRecordAgeSeconds must be 60..604800 (got ${l.maxRecordAgeSeconds})`);

    const logGroup = new LogGroup(this, 'Logs', { retention: RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    const statements = [
      new PolicyStatement({ sid: 'OwnLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
      ...lakeWriteStatements(props.bucketArn, [props.layout.rawTable, props.layout.dlqPrefix]),
      ...gluePartitionStatements(this, { database: props.glueDatabase, tables: [props.layout.rawTable] }),
      // What the event source mappings need to read each stream, on that stream only.
      ...props.sources.flatMap((s) => (s.kind === 'kinesis' ? kinesisReadStatements(s.streamArn) : dynamoDbStreamReadStatements(s.streamArn))),
    ];
    if (props.sources.some((s) => s.kind === 'kinesis')) {
      // Lambda's Kinesis poller also describes the stream the old way.
      statements.push(new PolicyStatement({ sid: 'KinesisDescribe', actions: ['kinesis:DescribeStream'], resources: props.sources.filter((s) => s.kind === 'kinesis').map((s) => s.streamArn) }));
    }
    if (props.sources.some((s) => s.kind === 'dynamodb')) {
      // ListStreams has no resource-level permission; Lambda's DynamoDB poller calls it.
      statements.push(new PolicyStatement({ sid: 'DynamoDbListStreams', actions: ['dynamodb:ListStreams'], resources: ['*'] }));
    }
    if (l.inVpc && props.vpc) {
      // ENIs for a VPC-attached function are created before they have an ARN to scope to.
      statements.push(
        new PolicyStatement({
          sid: 'VpcNetworkInterfaces',
          actions: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
          resources: ['*'],
        }),
      );
    }
    const role = new Role(this, 'Role', {
      description: 'inventory-integrator lambda: read its streams, write raw + dlq, catalog partitions',
      assumedBy: new ServicePrincipal('lambda.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': this.account } } }),
      inlinePolicies: { leastPrivilege: new PolicyDocument({ statements }) },
    });

    const securityGroup =
      l.inVpc && props.vpc ? new SecurityGroup(this, 'SecurityGroup', { vpc: props.vpc, description: 'inventory-integrator lambda', allowAllOutbound: true }) : undefined;
    if (securityGroup && props.databaseSecurityGroupId !== undefined) allowDatabaseAccess(this, 'Lambda', props.databaseSecurityGroupId, securityGroup, props.databasePort);

    this.fn = new LambdaFunction(this, 'Handler', {
      functionName: `${props.name}-stream-handler`,
      description: 'inventory-integrator: Kinesis / DynamoDB Streams batches → raw Parquet lake',
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.X86_64,
      handler: 'index.handler',
      code: l.code ?? Code.fromAsset(l.bundleDir),
      memorySize: l.memoryMiB,
      timeout: Duration.seconds(l.timeoutSeconds),
      role,
      logGroup,
      environment: {
        ...integratorEnvironment({ region: this.region, bucketName: props.bucketName, layout: props.layout, glueDatabase: props.glueDatabase }),
        NODE_OPTIONS: '--enable-source-maps --max-semi-space-size=32',
      },
      ...(securityGroup && props.vpc ? { vpc: props.vpc, vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS }, securityGroups: [securityGroup] } : {}),
    });

    this.failureQueue = new Queue(this, 'FailedBatches', {
      queueName: `${props.name}-failed-batches`,
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.failureQueue.metricApproximateNumberOfMessagesVisible().createAlarm(this, 'FailedBatchesAlarm', {
      alarmDescription: 'a stream batch exhausted its retries: its records are not in the lake; replay the range named in the message',
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    const onFailure = new SqsDlq(this.failureQueue);

    for (const source of props.sources) {
      const mapping = new EventSourceMapping(this, source.kind === 'kinesis' ? 'KinesisMapping' : 'DynamoDbMapping', {
        target: this.fn,
        eventSourceArn: source.streamArn,
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: l.batchSize,
        maxBatchingWindow: Duration.seconds(l.maxBatchingWindowSeconds),
        parallelizationFactor: l.parallelizationFactor,
        reportBatchItemFailures: true,
        bisectBatchOnError: true,
        retryAttempts: l.maxRetryAttempts,
        maxRecordAge: Duration.seconds(l.maxRecordAgeSeconds),
        onFailure,
      });
      // Lambda validates the role's read permissions when it creates the mapping.
      mapping.node.addDependency(role);
    }
  }
}
