import { RESOURCE_STAR_ACTIONS } from './policies.js';

/**
 * Checks every policy document of a synthesized template: identity policies (inline and
 * managed), role trust policies and resource policies. An Allow statement may not
 *  - use NotAction or NotResource (both grant everything not listed),
 *  - name an action with a wildcard (`*`, `s3:*`, or a partial one like `s3:Get*`),
 *  - apply to Resource "*" unless every action is in RESOURCE_STAR_ACTIONS.
 * Deny statements are not checked: a broad Deny (enforceSSL's `s3:*`) only takes away.
 * AWS managed policies attached to a role are reported too: their statements are invisible here.
 */

export interface Violation {
  readonly where: string;
  readonly problem: string;
}

interface Statement {
  Sid?: string;
  Effect?: string;
  Action?: unknown;
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
}

type Resource = { Type?: string; Properties?: Record<string, unknown> };

const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** `arn:aws:s3:::*` and the like: every resource of a service, as good as "*". */
const ALL_OF_SERVICE = /^arn:[^:]+:[^:]+:[^:]*:[^:]*:\*$/;

function documentsOf(resource: Resource): Array<{ label: string; doc: unknown }> {
  const p = resource.Properties ?? {};
  switch (resource.Type) {
    case 'AWS::IAM::Policy':
    case 'AWS::IAM::ManagedPolicy':
    case 'AWS::S3::BucketPolicy':
    case 'AWS::SQS::QueuePolicy':
    case 'AWS::SNS::TopicPolicy':
      return [{ label: 'PolicyDocument', doc: p.PolicyDocument }];
    case 'AWS::KMS::Key':
      return [{ label: 'KeyPolicy', doc: p.KeyPolicy }];
    case 'AWS::IAM::Role':
      return [
        { label: 'AssumeRolePolicyDocument', doc: p.AssumeRolePolicyDocument },
        ...list(p.Policies).map((pol, i) => {
          const named = pol as { PolicyName?: unknown; PolicyDocument?: unknown };
          return { label: `Policies[${typeof named.PolicyName === 'string' ? named.PolicyName : i}]`, doc: named.PolicyDocument };
        }),
      ];
    default:
      return [];
  }
}

export function auditStatement(where: string, s: Statement): Violation[] {
  if (s.Effect !== 'Allow') return [];
  const out: Violation[] = [];
  const bad = (problem: string) => out.push({ where, problem });
  if (s.NotAction !== undefined) bad('Allow with NotAction');
  if (s.NotResource !== undefined) bad('Allow with NotResource');
  const actions = list(s.Action);
  for (const a of actions) {
    if (typeof a !== 'string') bad(`action is not a literal string: ${JSON.stringify(a)}`);
    else if (a.includes('*')) bad(`wildcard action "${a}"`);
  }
  const resources = list(s.Resource);
  const star = resources.some((r) => r === '*' || (typeof r === 'string' && ALL_OF_SERVICE.test(r)));
  if (star) {
    for (const a of actions) {
      if (typeof a === 'string' && !(a in RESOURCE_STAR_ACTIONS)) bad(`action "${a}" on Resource "*" (not in RESOURCE_STAR_ACTIONS)`);
    }
  }
  return out;
}

/** All violations in one template (the JSON of `Template.fromStack(stack).toJSON()`). */
export function auditTemplate(template: { Resources?: Record<string, Resource> }, stackName = 'stack'): Violation[] {
  const out: Violation[] = [];
  for (const [id, resource] of Object.entries(template.Resources ?? {})) {
    for (const { label, doc } of documentsOf(resource)) {
      list((doc as { Statement?: unknown } | undefined)?.Statement).forEach((st, i) => {
        const s = st as Statement;
        out.push(...auditStatement(`${stackName}/${id}.${label}[${s.Sid ?? i}]`, s));
      });
    }
    if (resource.Type === 'AWS::IAM::Role') {
      for (const arn of list(resource.Properties?.ManagedPolicyArns)) {
        out.push({ where: `${stackName}/${id}.ManagedPolicyArns`, problem: `managed policy attached (statements not auditable): ${JSON.stringify(arn)}` });
      }
    }
  }
  return out;
}

/** Every Allow statement of a template, for tests that look at what a role may do. */
export function allowStatements(template: { Resources?: Record<string, Resource> }): Array<{ resourceId: string; statement: Statement }> {
  const out: Array<{ resourceId: string; statement: Statement }> = [];
  for (const [id, resource] of Object.entries(template.Resources ?? {})) {
    for (const { doc } of documentsOf(resource)) {
      for (const st of list((doc as { Statement?: unknown } | undefined)?.Statement)) {
        if ((st as Statement).Effect === 'Allow') out.push({ resourceId: id, statement: st as Statement });
      }
    }
  }
  return out;
}
