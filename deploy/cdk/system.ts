import type { App } from 'aws-cdk-lib';
import { CatalogStack } from './catalog-stack.js';
import { LakeStack } from './lake-stack.js';
import { LambdaStack } from './lambda-stack.js';
import { validateLayout } from './layout.js';
import { NetworkStack } from './network-stack.js';
import type { StreamKind, SystemProps } from './props.js';
import type { SourceRef } from './runtime-env.js';
import { ServiceStack } from './service-stack.js';
import { SourcesStack } from './sources-stack.js';

export interface System {
  readonly lake: LakeStack;
  readonly catalog: CatalogStack;
  readonly sources?: SourcesStack;
  readonly network?: NetworkStack;
  readonly service?: ServiceStack;
  readonly lambda?: LambdaStack;
}

/**
 * Wires the stacks of one deployment. The stateful stacks (lake, catalog, sources) come first;
 * the compute stacks only receive names and ARNs, so either mode can be turned off, redeployed
 * or replaced without touching the data.
 */
export function buildSystem(app: App, props: SystemProps): System {
  const layout = validateLayout(props.layout);
  const stackName = (suffix: string) => `${props.name}-${suffix}`;
  const base = { env: props.env };

  const lake = new LakeStack(app, 'Lake', {
    ...base,
    stackName: stackName('lake'),
    name: props.name,
    layout,
    versioned: props.bucketVersioned,
    dlqInfrequentAccessDays: props.dlqInfrequentAccessDays,
    dlqExpirationDays: props.dlqExpirationDays,
    leaseTableName: props.leaseTableName,
  });
  const catalog = new CatalogStack(app, 'Catalog', { ...base, stackName: stackName('catalog'), name: props.name, bucket: lake.bucket, layout, glue: props.glue });

  const wanted = new Set<StreamKind>([...(props.container.enabled ? [props.container.source] : []), ...(props.lambda.enabled ? props.lambda.sources : [])]);
  const createKinesis = wanted.has('kinesis') && props.sources.kinesisStreamArn === undefined;
  if (wanted.has('dynamodb') && (props.sources.dynamoDbStreamArn === undefined) !== (props.sources.dynamoDbTableName === undefined)) {
    throw new Error('sources: give both dynamoDbStreamArn and dynamoDbTableName, or neither (to create a table with a stream)');
  }
  const createDynamoDb = wanted.has('dynamodb') && props.sources.dynamoDbStreamArn === undefined;
  const sources =
    createKinesis || createDynamoDb ? new SourcesStack(app, 'Sources', { ...base, stackName: stackName('sources'), name: props.name, createKinesis, createDynamoDb }) : undefined;

  const refs = new Map<StreamKind, SourceRef>();
  const kinesisArn = props.sources.kinesisStreamArn ?? sources?.kinesisStreamArn;
  if (kinesisArn !== undefined) refs.set('kinesis', { kind: 'kinesis', streamArn: kinesisArn });
  const ddbArn = props.sources.dynamoDbStreamArn ?? sources?.dynamoDbStreamArn;
  const ddbTable = props.sources.dynamoDbTableName ?? sources?.dynamoDbTableName;
  if (ddbArn !== undefined && ddbTable !== undefined) refs.set('dynamodb', { kind: 'dynamodb', streamArn: ddbArn, tableName: ddbTable });
  const ref = (kind: StreamKind): SourceRef => {
    const r = refs.get(kind);
    if (!r) throw new Error(`no ${kind} source to read`); // cannot happen: created above when missing
    return r;
  };

  const needsVpc = props.container.enabled || (props.lambda.enabled && props.lambda.inVpc);
  const network = needsVpc ? new NetworkStack(app, 'Network', { ...base, stackName: stackName('network'), ...(props.network.vpcId ? { vpcId: props.network.vpcId } : {}) }) : undefined;
  const db = {
    databasePort: props.network.databasePort,
    ...(props.network.databaseSecurityGroupId ? { databaseSecurityGroupId: props.network.databaseSecurityGroupId } : {}),
  };

  const service =
    props.container.enabled && network
      ? new ServiceStack(app, 'Service', {
          ...base,
          ...db,
          stackName: stackName('service'),
          name: props.name,
          vpc: network.vpc,
          container: props.container,
          bucketArn: lake.bucket.bucketArn,
          bucketName: lake.bucket.bucketName,
          layout,
          leaseTableArn: lake.leaseTable.tableArn,
          leaseTableName: lake.leaseTable.tableName,
          source: ref(props.container.source),
          glue: { database: catalog.databaseName, crawler: catalog.crawlerName, job: catalog.jobName, workflow: catalog.workflowName },
          ...(props.network.metricsScrapeCidr ? { metricsScrapeCidr: props.network.metricsScrapeCidr } : {}),
        })
      : undefined;

  const lambda = props.lambda.enabled
    ? new LambdaStack(app, 'Lambda', {
        ...base,
        ...db,
        stackName: stackName('lambda'),
        name: props.name,
        lambda: props.lambda,
        ...(network && props.lambda.inVpc ? { vpc: network.vpc } : {}),
        bucketArn: lake.bucket.bucketArn,
        bucketName: lake.bucket.bucketName,
        layout,
        glueDatabase: catalog.databaseName,
        sources: [...new Set(props.lambda.sources)].map(ref),
      })
    : undefined;

  return { lake, catalog, ...(sources ? { sources } : {}), ...(network ? { network } : {}), ...(service ? { service } : {}), ...(lambda ? { lambda } : {}) };
}
