import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { applyEnvOverrides, parseConfig } from '../../src/config/load.js';
import { DEFAULT_LAYOUT } from './layout.js';
import { integratorEnvironment, type RuntimeRefs } from './runtime-env.js';
import { REPO_ROOT } from './test-system.js';

/** What the stacks resolve to at deploy time, written out. */
const REFS: RuntimeRefs = {
  region: 'eu-west-1',
  bucketName: 'inventory-lake-bucket',
  layout: DEFAULT_LAYOUT,
  glueDatabase: 'inventory_lake',
  leaseTableName: 'inventory-integrator-leases',
  source: { kind: 'kinesis', streamArn: 'arn:aws:kinesis:eu-west-1:123456789012:stream/inventory-changes' },
  curatedJobName: 'inventory-integrator-curated',
  servicePort: 8080,
  shutdownDeadlineMs: 45_000,
};

const bakedYaml = () => (parseYaml(readFileSync(join(REPO_ROOT, 'deploy/cdk/integrator.yaml'), 'utf8')) ?? {}) as Record<string, unknown>;

describe('the environment the stacks give the runtime', () => {
  it('turns the image’s baked YAML into a complete, valid config pointing at the deployed resources', () => {
    const config = parseConfig(applyEnvOverrides(bakedYaml(), integratorEnvironment(REFS)), 'baked + env');
    expect(config.source).toMatchObject({ type: 'kinesis', streamName: 'inventory-changes', aws: { region: 'eu-west-1' } });
    expect(config.sink).toMatchObject({ type: 's3', bucket: 'inventory-lake-bucket', table: 'inventory_changes', dlqPrefix: 'dlq', aws: { region: 'eu-west-1' } });
    expect(config.checkpoints).toMatchObject({ type: 'dynamodb', tableName: 'inventory-integrator-leases', createTable: false });
    expect(config.catalog).toMatchObject({ type: 'glue', database: 'inventory_lake', curated: { jobName: 'inventory-integrator-curated' } });
    expect(config.service).toMatchObject({ port: 8080, shutdownDeadlineMs: 45_000 });
  });

  it('points a DynamoDB-stream service at the table and its stream', () => {
    const source = { kind: 'dynamodb', streamArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/inv/stream/2024-01-01T00:00:00.000', tableName: 'inv' } as const;
    const config = parseConfig(applyEnvOverrides({}, integratorEnvironment({ ...REFS, source })), 'env');
    expect(config.source).toMatchObject({ type: 'dynamodb', tableName: 'inv', streamArn: source.streamArn });
  });

  it('gives the Lambda no source, checkpoints or curated job: the event source mapping owns positions', () => {
    const env = integratorEnvironment({ region: 'eu-west-1', bucketName: 'b-1', layout: DEFAULT_LAYOUT, glueDatabase: 'inventory_lake' });
    expect(Object.keys(env).filter((k) => /SOURCE|CHECKPOINTS|CURATED/.test(k))).toEqual([]);
    expect(env).toMatchObject({ INTEGRATOR__SINK__TYPE: 's3', INTEGRATOR__CATALOG__TYPE: 'glue' });
  });

  it('makes a YAML still wired to a local sink fail at start-up, naming the key', () => {
    const local = { source: { type: 'file', path: 'x.ndjson' }, sink: { type: 'file', dir: '.lake' } };
    expect(() => parseConfig(applyEnvOverrides(local, integratorEnvironment(REFS)), 'local.yaml')).toThrow(/sink/);
  });
});
