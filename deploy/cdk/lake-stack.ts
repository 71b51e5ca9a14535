import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership, StorageClass } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { LakeLayout } from './layout.js';

export interface LakeStackProps extends StackProps {
  readonly name: string;
  readonly layout: LakeLayout;
  readonly versioned: boolean;
  readonly dlqInfrequentAccessDays: number;
  readonly dlqExpirationDays: number;
  readonly leaseTableName: string;
}

/**
 * The state that outlives every deployment of the compute: the lake bucket and the
 * checkpoint/lease table. Both are retained on stack deletion (losing checkpoints means a
 * re-read from TRIM_HORIZON; losing the lake means losing the data).
 */
export class LakeStack extends Stack {
  readonly bucket: Bucket;
  readonly leaseTable: Table;

  constructor(scope: Construct, id: string, props: LakeStackProps) {
    super(scope, id, props);

    this.bucket = new Bucket(this, 'Lake', {
      // SSE-S3: every role that can read an object can decrypt it, so IAM on prefixes is the
      // whole access story (KMS would add key grants to each role; see deploy/README.md).
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: props.versioned,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'dead-letters',
          prefix: `${props.layout.dlqPrefix}/`,
          // Dead letters are kept for investigation and replay, then expire.
          transitions: [{ storageClass: StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(props.dlqInfrequentAccessDays) }],
          expiration: Duration.days(props.dlqExpirationDays),
        },
        {
          id: 'glue-temp',
          prefix: `${props.layout.glueTempPrefix}/`,
          expiration: Duration.days(7),
        },
        {
          id: 'abort-incomplete-uploads',
          // A sink killed mid-multipart leaves parts that are billed until aborted.
          abortIncompleteMultipartUploadAfter: Duration.days(3),
          ...(props.versioned ? { noncurrentVersionExpiration: Duration.days(30) } : {}),
        },
      ],
    });

    // Key schema and attribute names as in src/checkpoints/lease-table.ts (A.key = 'leaseKey').
    this.leaseTable = new Table(this, 'Leases', {
      tableName: props.leaseTableName,
      partitionKey: { name: 'leaseKey', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
