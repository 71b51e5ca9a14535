import { describe, expect, it } from 'vitest';
import { propsFromContext } from './context.js';
import { REPO_ROOT } from './test-system.js';

const from = (ctx: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => propsFromContext((k) => ctx[k], REPO_ROOT, env);

describe('CDK context → system props', () => {
  it('defaults: both modes, the Dockerfile as image asset, the bundle from dist/lambda, no env', () => {
    const p = from({});
    expect(p.container).toMatchObject({ enabled: true, source: 'kinesis', desiredCount: 2, image: { kind: 'asset', dockerfile: 'deploy/Dockerfile' }, config: { kind: 'image' } });
    expect(p.lambda).toMatchObject({ enabled: true, sources: ['dynamodb'], bundleDir: `${REPO_ROOT}/dist/lambda` });
    expect(p.glue.jobScriptPath).toBe(`${REPO_ROOT}/deploy/glue/curated_job.py`);
    expect(p.env).toBeUndefined();
  });

  it('reads strings from -c (booleans, numbers and lists included) and the CLI’s default env', () => {
    const p = from(
      { container: 'false', lambdaSources: 'kinesis, dynamodb', desiredCount: '3', containerImage: 'repo/img:1', configParameter: '/cfg', vpcId: 'vpc-1' },
      { CDK_DEFAULT_ACCOUNT: '123456789012', CDK_DEFAULT_REGION: 'eu-west-1' },
    );
    expect(p.container).toMatchObject({ enabled: false, desiredCount: 3, image: { kind: 'registry', uri: 'repo/img:1' }, config: { kind: 'ssm', parameterName: '/cfg' } });
    expect(p.lambda.sources).toEqual(['kinesis', 'dynamodb']);
    expect(p.network.vpcId).toBe('vpc-1');
    expect(p.env).toEqual({ account: '123456789012', region: 'eu-west-1' });
  });

  it('names the key and the value it cannot use', () => {
    expect(() => from({ lambda: 'yes' })).toThrow('context "lambda": expected true or false, got "yes"');
    expect(() => from({ desiredCount: '1' })).toThrow('context "desiredCount": expected an integer 2..100, got "1"');
    expect(() => from({ lambdaSources: 'kinesis,kafka' })).toThrow('context "lambdaSources": "kafka" is not one of kinesis, dynamodb');
    expect(() => from({ containerSource: 'kinesis,dynamodb' })).toThrow('context "containerSource": name exactly one of kinesis, dynamodb');
  });
});
