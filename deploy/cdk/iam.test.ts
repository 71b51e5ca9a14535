import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { auditStatement, auditTemplate } from './policy-audit.js';
import { RESOURCE_STAR_ACTIONS } from './policies.js';
import { type Synthesized, synthesize, testProps } from './test-system.js';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** Every Allow statement a role gets: its inline policies and the AWS::IAM::Policy resources attached to it. */
function roleStatements(t: Template, roleIdPrefix: string): Statement[] {
  const roles = Object.entries(t.findResources('AWS::IAM::Role')).filter(([id]) => id.startsWith(roleIdPrefix));
  if (roles.length !== 1) throw new Error(`expected one role ${roleIdPrefix}*, found ${roles.map(([id]) => id).join(', ') || 'none'}`);
  const [id, role] = roles[0]!;
  const inline = ((role.Properties.Policies ?? []) as Array<{ PolicyDocument: { Statement: Statement[] } }>).flatMap((p) => p.PolicyDocument.Statement);
  const attached = Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${id}"`))
    .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
  return [...inline, ...attached].filter((s) => s.Effect === 'Allow');
}

const actionsOf = (ss: Statement[]) => new Set(ss.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])));
const resourcesFor = (ss: Statement[], action: string) =>
  ss.filter((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]).includes(action)).flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]));

/** The S3 object ARNs are Fn::Join tokens; what matters is the literal prefix after the bucket ARN. */
const objectPrefixes = (resources: unknown[]) =>
  resources.map((r) => {
    const m = /"(\/[^"]*\*)"\]\]\}$/.exec(JSON.stringify(r));
    if (!m) throw new Error(`not a bucket-prefix ARN: ${JSON.stringify(r)}`);
    return m[1];
  });

let sys: Synthesized;
beforeAll(() => {
  sys = synthesize();
});

describe('IAM audit of the synthesized templates', () => {
  it('finds no wildcard action, no NotAction/NotResource, no managed policy and only allow-listed actions on Resource "*" in any stack', () => {
    const violations = Object.entries(sys.templates).flatMap(([name, t]) => auditTemplate(t.toJSON(), name));
    expect(violations).toEqual([]);
  });

  it('stays clean with every option on: SSM config, database secret and security group, metrics scraping, Lambda outside the VPC', () => {
    const { templates } = synthesize(
      testProps((p) => ({
        ...p,
        network: { ...p.network, databaseSecurityGroupId: 'sg-0123456789abcdef0', metricsScrapeCidr: '10.0.0.0/16' },
        container: {
          ...p.container,
          source: 'dynamodb',
          config: { kind: 'ssm', parameterName: '/integrator/config' },
          databasePasswordSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds-password-AbCdEf',
        },
        lambda: { ...p.lambda, inVpc: false, sources: ['kinesis'] },
      })),
    );
    const violations = Object.entries(templates).flatMap(([name, t]) => auditTemplate(t.toJSON(), name));
    expect(violations).toEqual([]);
    // And the statements on "*" that do appear are the ones AWS forces.
    const lambda = roleStatements(templates.lambda!, 'Role');
    expect(lambda.filter((s) => s.Resource === '*')).toEqual([]);
  });

  it('every role can be assumed only by its service, from this account', () => {
    for (const [name, t] of Object.entries(sys.templates)) {
      for (const [id, role] of Object.entries(t.findResources('AWS::IAM::Role'))) {
        const trust = (role.Properties.AssumeRolePolicyDocument as { Statement: Array<{ Principal: { Service?: string }; Condition?: unknown }> }).Statement;
        for (const s of trust) {
          expect(s.Principal.Service, `${name}/${id}`).toMatch(/^(ecs-tasks|lambda|glue)\.amazonaws\.com$/);
          if (!id.startsWith('TaskTaskExecutionRole') && !id.startsWith('TaskExecutionRole')) {
            expect(s.Condition, `${name}/${id}`).toEqual({ StringEquals: { 'aws:SourceAccount': expect.anything() } });
          }
        }
      }
    }
  });
});

describe('least privilege per run mode', () => {
  it('container task role: writes only raw and DLQ objects, reads its stream, checkpoints, catalogs partitions', () => {
    const ss = roleStatements(sys.templates.service!, 'TaskRole');
    expect([...actionsOf(ss)].sort()).toEqual(
      [
        's3:PutObject',
        's3:AbortMultipartUpload',
        'dynamodb:DescribeTable',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:Scan',
        'kinesis:DescribeStreamSummary',
        'kinesis:ListShards',
        'kinesis:GetShardIterator',
        'kinesis:GetRecords',
        'glue:GetDatabase',
        'glue:GetTable',
        'glue:CreateTable',
        'glue:UpdateTable',
        'glue:BatchCreatePartition',
        'glue:GetPartition',
        'glue:GetCrawler',
        'glue:StartCrawler',
        'glue:StartJobRun',
        'glue:GetJobRun',
        'glue:StartWorkflowRun',
        'glue:GetWorkflowRun',
      ].sort(),
    );
    expect(objectPrefixes(resourcesFor(ss, 's3:PutObject')).sort()).toEqual(['/dlq/*', '/inventory_changes/*']);
    expect(JSON.stringify(resourcesFor(ss, 'dynamodb:UpdateItem'))).toMatch(/ImportValue.*Leases/);
    expect(JSON.stringify(resourcesFor(ss, 'glue:CreateTable'))).toContain(':table/inventory_lake/inventory_changes');
    expect(JSON.stringify(resourcesFor(ss, 'glue:CreateTable'))).not.toContain('/inventory_lake/*');
  });

  it('lambda role: no lease table, no Glue jobs; writes only raw and DLQ objects', () => {
    const ss = roleStatements(sys.templates.lambda!, 'Role');
    const actions = actionsOf(ss);
    for (const forbidden of ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Scan', 'glue:StartJobRun', 'glue:CreateDatabase', 's3:GetObject', 's3:DeleteObject']) {
      expect(actions.has(forbidden), forbidden).toBe(false);
    }
    expect(objectPrefixes(resourcesFor(ss, 's3:PutObject')).sort()).toEqual(['/dlq/*', '/inventory_changes/*']);
    // The only statements on "*": DynamoDB's ListStreams and the VPC ENI calls, which have no ARNs.
    const star = ss.filter((s) => s.Resource === '*').flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(star.length).toBeGreaterThan(0);
    for (const a of star) expect(RESOURCE_STAR_ACTIONS).toHaveProperty([a]);
    expect(resourcesFor(ss, 'sqs:SendMessage')).toHaveLength(1);
  });

  it('curated job role: overwrites only the curated and temp prefixes, never the raw layer, and writes no catalog entries', () => {
    const ss = roleStatements(sys.templates.catalog!, 'CuratedJobRole');
    expect(objectPrefixes(resourcesFor(ss, 's3:PutObject')).sort()).toEqual(['/curated/*', '/glue-temp/*']);
    expect(objectPrefixes(resourcesFor(ss, 's3:DeleteObject')).sort()).toEqual(['/curated/*', '/glue-temp/*']);
    expect([...actionsOf(ss)].filter((a) => /^glue:(Create|Update|Delete|Batch(Create|Delete))/.test(a))).toEqual([]);
    expect(JSON.stringify(resourcesFor(ss, 'glue:GetWorkflowRunProperties'))).toContain(':workflow/inventory-integrator-curated-flow');
    expect(resourcesFor(ss, 'cloudwatch:PutMetricData')).toEqual(['*']);
    expect(ss.find((s) => actionsOf([s]).has('cloudwatch:PutMetricData'))!.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': 'Glue' } });
  });

  it('crawler role: reads the raw prefix, writes no objects, catalogs only the raw table', () => {
    const ss = roleStatements(sys.templates.catalog!, 'CrawlerRole');
    const actions = actionsOf(ss);
    expect([...actions].filter((a) => a.startsWith('s3:')).sort()).toEqual(['s3:GetObject', 's3:ListBucket']);
    expect(objectPrefixes(resourcesFor(ss, 's3:GetObject'))).toEqual(['/inventory_changes/*']);
    const list = ss.find((s) => actionsOf([s]).has('s3:ListBucket'))!;
    expect(list.Condition).toEqual({ StringLike: { 's3:prefix': ['inventory_changes', 'inventory_changes/*'] } });
    expect(JSON.stringify(resourcesFor(ss, 'glue:CreateTable'))).not.toContain('/inventory_lake/*');
  });
});

describe('the audit itself', () => {
  const at = (s: Partial<Statement> & Record<string, unknown>) => auditStatement('t', { Effect: 'Allow', ...s } as never).map((v) => v.problem);

  it('flags full, service-wide and partial wildcard actions', () => {
    expect(at({ Action: '*', Resource: 'arn:aws:s3:::b/*' })).toEqual(['wildcard action "*"']);
    expect(at({ Action: ['s3:*'], Resource: 'arn:aws:s3:::b/*' })).toEqual(['wildcard action "s3:*"']);
    expect(at({ Action: ['kinesis:Get*'], Resource: 'arn:aws:kinesis:r:1:stream/s' })).toEqual(['wildcard action "kinesis:Get*"']);
  });

  it('flags data actions on Resource "*" (or every resource of a service) but not the allow-listed ones', () => {
    expect(at({ Action: ['dynamodb:GetRecords'], Resource: '*' })).toEqual(['action "dynamodb:GetRecords" on Resource "*" (not in RESOURCE_STAR_ACTIONS)']);
    expect(at({ Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::*' })).toHaveLength(1);
    expect(at({ Action: ['dynamodb:ListStreams', 'cloudwatch:PutMetricData'], Resource: '*' })).toEqual([]);
  });

  it('flags NotAction / NotResource on Allow, and ignores Deny statements', () => {
    expect(at({ NotAction: ['iam:*'], Resource: 'arn:aws:s3:::b' })).toContain('Allow with NotAction');
    expect(at({ Action: 's3:GetObject', NotResource: 'arn:aws:s3:::b/x' })).toContain('Allow with NotResource');
    expect(auditStatement('t', { Effect: 'Deny', Action: 's3:*', Resource: '*' })).toEqual([]);
  });

  it('reports AWS managed policies attached to roles, whose statements it cannot see', () => {
    const v = auditTemplate({ Resources: { R: { Type: 'AWS::IAM::Role', Properties: { ManagedPolicyArns: ['arn:aws:iam::aws:policy/AdministratorAccess'] } } } });
    expect(v).toHaveLength(1);
    expect(v[0]!.problem).toMatch(/managed policy attached/);
  });
});
