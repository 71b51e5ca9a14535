import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { type IVpc, Peer, Port, SecurityGroup, SubnetType } from 'aws-cdk-lib/aws-ec2';
import { Cluster, ContainerImage, ContainerInsights, CpuArchitecture, FargateService, FargateTaskDefinition, LinuxParameters, LogDrivers, OperatingSystemFamily, Secret } from 'aws-cdk-lib/aws-ecs';
import { PolicyDocument, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret as SecretsManagerSecret } from 'aws-cdk-lib/aws-secretsmanager';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import type { LakeLayout } from './layout.js';
import { dynamoDbStreamReadStatements, gluePartitionStatements, glueTriggerStatements, kinesisReadStatements, lakeWriteStatements, leaseTableStatements } from './policies.js';
import type { ContainerProps } from './props.js';
import { integratorEnvironment, type SourceRef } from './runtime-env.js';
import { allowDatabaseAccess } from './database-access.js';

export const SERVICE_PORT = 8080;
const CONFIG_ENV = 'INTEGRATOR_CONFIG_YAML';
/** The compiled CLI entry (bin/inventory-integrator.js and the Dockerfile's ENTRYPOINT run it too). */
export const CLI_ENTRY = 'dist/src/runtime/main.js';

export interface ServiceStackProps extends StackProps {
  readonly name: string;
  readonly vpc: IVpc;
  readonly container: ContainerProps;
  readonly bucketArn: string;
  readonly bucketName: string;
  readonly layout: LakeLayout;
  readonly leaseTableArn: string;
  readonly leaseTableName: string;
  readonly source: SourceRef;
  readonly glue: { readonly database: string; readonly crawler: string; readonly job: string; readonly workflow: string };
  readonly databaseSecurityGroupId?: string;
  readonly databasePort: number;
  readonly metricsScrapeCidr?: string;
}

/** Node's own fetch: the slim image has no curl, and a shell-free check cannot be mis-quoted. */
const HEALTH_PROBE = `fetch('http://127.0.0.1:${SERVICE_PORT}/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`;

/**
 * The long-running mode: `inventory-integrator run` on Fargate, two or more tasks sharing the
 * stream's shards through the lease table. ECS sends SIGTERM on scale-in and deployments; the
 * service flushes, checkpoints and hands back its leases within shutdownDeadlineSeconds, and
 * stopTimeout gives it that long plus a margin before SIGKILL.
 */
export class ServiceStack extends Stack {
  readonly service: FargateService;
  readonly taskRole: Role;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props);
    const c = props.container;
    if (c.desiredCount < 2) throw new Error(`container.desiredCount must be at least 2 (got ${c.desiredCount}): one task must keep reading while another is replaced`);
    if (c.shutdownDeadlineSeconds + 10 > 120) throw new Error(`container.shutdownDeadlineSeconds must leave 10 s under Fargate's 120 s stopTimeout (got ${c.shutdownDeadlineSeconds})`);

    this.taskRole = new Role(this, 'TaskRole', {
      description: 'inventory-integrator service: read its stream, write raw + dlq, checkpoint, catalog',
      assumedBy: new ServicePrincipal('ecs-tasks.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': this.account } } }),
      inlinePolicies: {
        leastPrivilege: new PolicyDocument({
          statements: [
            ...lakeWriteStatements(props.bucketArn, [props.layout.rawTable, props.layout.dlqPrefix]),
            ...leaseTableStatements(props.leaseTableArn),
            ...(props.source.kind === 'kinesis' ? kinesisReadStatements(props.source.streamArn) : dynamoDbStreamReadStatements(props.source.streamArn)),
            ...gluePartitionStatements(this, { database: props.glue.database, tables: [props.layout.rawTable] }),
            ...glueTriggerStatements(this, props.glue.crawler, props.glue.job, props.glue.workflow),
          ],
        }),
      },
    });

    const taskDefinition = new FargateTaskDefinition(this, 'Task', {
      cpu: c.cpu,
      memoryLimitMiB: c.memoryMiB,
      taskRole: this.taskRole,
      runtimePlatform: { operatingSystemFamily: OperatingSystemFamily.LINUX, cpuArchitecture: c.arm64 ? CpuArchitecture.ARM64 : CpuArchitecture.X86_64 },
    });
    const logGroup = new LogGroup(this, 'Logs', { retention: RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });

    const secrets: Record<string, Secret> = {};
    if (c.config.kind === 'ssm') {
      secrets[CONFIG_ENV] = Secret.fromSsmParameter(StringParameter.fromStringParameterName(this, 'ConfigParameter', c.config.parameterName));
    }
    if (c.databasePasswordSecretArn !== undefined) {
      // The enrichment config names it: enrichment.passwordEnv: ENRICHMENT_DB_PASSWORD.
      secrets.ENRICHMENT_DB_PASSWORD = Secret.fromSecretsManager(SecretsManagerSecret.fromSecretCompleteArn(this, 'DbPassword', c.databasePasswordSecretArn), 'password');
    }
    const linuxParameters = new LinuxParameters(this, 'Linux', { initProcessEnabled: true }); // an init as PID 1 forwards SIGTERM and reaps

    taskDefinition.addContainer('integrator', {
      image: c.image.kind === 'asset' ? ContainerImage.fromAsset(c.image.contextDir, { file: c.image.dockerfile }) : ContainerImage.fromRegistry(c.image.uri),
      essential: true,
      ...(c.config.kind === 'ssm'
        ? {
            // ECS can inject a parameter only as an environment variable; the CLI reads a file.
            // /tmp is writable by the image's non-root user; exec keeps the CLI the signal target.
            entryPoint: ['/bin/sh', '-c'],
            command: [`printf '%s' "$${CONFIG_ENV}" > /tmp/integrator.yaml && exec node ${CLI_ENTRY} run --config /tmp/integrator.yaml`],
          }
        : {}),
      environment: integratorEnvironment({
        region: this.region,
        bucketName: props.bucketName,
        layout: props.layout,
        glueDatabase: props.glue.database,
        leaseTableName: props.leaseTableName,
        source: props.source,
        curatedJobName: props.glue.job,
        servicePort: SERVICE_PORT,
        shutdownDeadlineMs: c.shutdownDeadlineSeconds * 1000,
      }),
      secrets,
      portMappings: [{ containerPort: SERVICE_PORT, name: 'http' }],
      healthCheck: {
        command: ['CMD', 'node', '-e', HEALTH_PROBE],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(60),
      },
      stopTimeout: Duration.seconds(c.shutdownDeadlineSeconds + 10),
      linuxParameters,
      logging: LogDrivers.awsLogs({ streamPrefix: 'integrator', logGroup }),
    });

    const securityGroup = new SecurityGroup(this, 'TaskSecurityGroup', {
      vpc: props.vpc,
      description: 'inventory-integrator tasks: outbound to AWS APIs and RDS; inbound only /metrics scraping when configured',
      allowAllOutbound: true,
    });
    if (props.metricsScrapeCidr !== undefined) securityGroup.addIngressRule(Peer.ipv4(props.metricsScrapeCidr), Port.tcp(SERVICE_PORT), 'Prometheus scrape of /metrics');
    if (props.databaseSecurityGroupId !== undefined) allowDatabaseAccess(this, 'Service', props.databaseSecurityGroupId, securityGroup, props.databasePort);

    const cluster = new Cluster(this, 'Cluster', { vpc: props.vpc, containerInsightsV2: ContainerInsights.ENABLED });
    this.service = new FargateService(this, 'Service', {
      cluster,
      taskDefinition,
      desiredCount: c.desiredCount,
      // Never below the full count during a deployment: leases move to the new tasks gradually.
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
      vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [securityGroup],
      assignPublicIp: false,
    });
  }
}
