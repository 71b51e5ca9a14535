import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType, BillingMode, StreamViewType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Stream, StreamEncryption, StreamMode } from 'aws-cdk-lib/aws-kinesis';
import type { Construct } from 'constructs';

export interface SourcesStackProps extends StackProps {
  readonly name: string;
  readonly createKinesis: boolean;
  readonly createDynamoDb: boolean;
}

/**
 * The input streams, for an account that has none yet (a demo or a fresh environment). In a
 * real deployment the streams belong to the producers and are passed in by ARN instead; the
 * other stacks only ever see ARNs, so both cases look the same to them.
 */
export class SourcesStack extends Stack {
  readonly kinesisStreamArn: string | undefined;
  readonly dynamoDbStreamArn: string | undefined;
  readonly dynamoDbTableName: string | undefined;

  constructor(scope: Construct, id: string, props: SourcesStackProps) {
    super(scope, id, props);
    if (props.createKinesis) {
      const stream = new Stream(this, 'InventoryChanges', {
        streamName: `${props.name}-changes`,
        streamMode: StreamMode.ON_DEMAND,
        encryption: StreamEncryption.MANAGED,
        // A day is the default; a week leaves room to replay after an outage of the consumer.
        retentionPeriod: Duration.days(7),
      });
      stream.applyRemovalPolicy(RemovalPolicy.RETAIN);
      this.kinesisStreamArn = stream.streamArn;
    }
    if (props.createDynamoDb) {
      // Item shape as consumers/dynamodb-streams/config.ts's FieldMapping defaults expect.
      const table = new Table(this, 'Inventory', {
        tableName: `${props.name}-inventory`,
        partitionKey: { name: 'sku', type: AttributeType.STRING },
        sortKey: { name: 'warehouseId', type: AttributeType.STRING },
        billingMode: BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        // Old and new images: the decoder derives quantity before/after and the delta from them.
        stream: StreamViewType.NEW_AND_OLD_IMAGES,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      this.dynamoDbStreamArn = table.tableStreamArn;
      this.dynamoDbTableName = table.tableName;
    }
  }
}
