import { type ISecurityGroup, Port, SecurityGroup } from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';

/** Opens the RDS security group to one of ours on the database port, and nothing else. */
export function allowDatabaseAccess(scope: Construct, id: string, databaseSecurityGroupId: string, from: ISecurityGroup, port: number): void {
  const database = SecurityGroup.fromSecurityGroupId(scope, `${id}DatabaseSecurityGroup`, databaseSecurityGroupId, { mutable: true });
  database.addIngressRule(from, Port.tcp(port), `${id}: enrichment lookups`);
}
