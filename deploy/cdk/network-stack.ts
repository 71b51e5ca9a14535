import { Stack, type StackProps } from 'aws-cdk-lib';
import { GatewayVpcEndpointAwsService, type IVpc, SubnetType, Vpc } from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';

export interface NetworkStackProps extends StackProps {
  /** Reuse the VPC of the RDS database (lookup needs an explicit account/region env). */
  readonly vpcId?: string;
}

/**
 * Where the service and the function run: private subnets with a NAT for the AWS APIs that have
 * no gateway endpoint (Kinesis, Glue), and the RDS database reachable for enrichment.
 */
export class NetworkStack extends Stack {
  readonly vpc: IVpc;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    if (props.vpcId !== undefined) {
      this.vpc = Vpc.fromLookup(this, 'Vpc', { vpcId: props.vpcId });
      return;
    }
    const vpc = new Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 1,
      subnetConfiguration: [
        { name: 'public', subnetType: SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'private', subnetType: SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
    });
    // S3 and DynamoDB traffic (objects and checkpoints, the bulk of it) stays off the NAT.
    vpc.addGatewayEndpoint('S3', { service: GatewayVpcEndpointAwsService.S3 });
    vpc.addGatewayEndpoint('DynamoDb', { service: GatewayVpcEndpointAwsService.DYNAMODB });
    this.vpc = vpc;
  }
}
