import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../config/load.js';
import { loadLambdaConfig } from './lambda-config.js';
import { checkLambdaConfig } from './lambda-runtime.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lambda-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sink = 'sink:\n  type: s3\n  bucket: lake-bucket\n  format: ndjson\n';

describe('loadLambdaConfig', () => {
  it('reads YAML text from INTEGRATOR_CONFIG and needs no source section', () => {
    const c = loadLambdaConfig({ INTEGRATOR_CONFIG: sink });
    expect(c.sink).toMatchObject({ type: 's3', bucket: 'lake-bucket', format: 'ndjson' });
    expect(c.source).toMatchObject({ type: 'kinesis', maxRecordBytes: 1024 * 1024 });
  });

  it('reads JSON, a file, or only the INTEGRATOR__ overrides the deploy stacks set', async () => {
    expect(loadLambdaConfig({ INTEGRATOR_CONFIG: JSON.stringify({ sink: { type: 'file', dir: '/tmp/l' } }) }).sink).toMatchObject({ type: 'file', dir: '/tmp/l' });
    const file = join(dir, 'c.yaml');
    await writeFile(file, sink);
    expect(loadLambdaConfig({ INTEGRATOR_CONFIG_FILE: file, INTEGRATOR__SINK__FORMAT: 'parquet' }).sink).toMatchObject({ bucket: 'lake-bucket', format: 'parquet' });
    const fromEnv = loadLambdaConfig({ INTEGRATOR__SINK__TYPE: 's3', INTEGRATOR__SINK__BUCKET: 'b-1', INTEGRATOR__CATALOG__TYPE: 'glue', INTEGRATOR__CATALOG__DATABASE: 'lake_db' });
    expect(fromEnv.sink).toMatchObject({ type: 's3', bucket: 'b-1' });
    expect(fromEnv.catalog).toMatchObject({ type: 'glue', database: 'lake_db' });
  });

  it('keeps the decoding settings of a kinesis or dynamodb source section', () => {
    const c = loadLambdaConfig({ INTEGRATOR_CONFIG: `${sink}source:\n  type: dynamodb\n  tableName: inv\n  mapping:\n    quantity: onHand\n` });
    expect(c.source).toMatchObject({ type: 'dynamodb', mapping: { quantity: 'onHand' } });
  });

  it.each([
    [{ INTEGRATOR_CONFIG: `${sink}source:\n  type: kafka\n  brokers: [a:9092]\n  topic: t\n  groupId: g\n` }, /"source\.type": value "kafka" cannot run in Lambda/],
    [{ INTEGRATOR_CONFIG: sink, INTEGRATOR_CONFIG_FILE: '/x.yaml' }, /either INTEGRATOR_CONFIG or INTEGRATOR_CONFIG_FILE/],
    [{ INTEGRATOR_CONFIG_FILE: '/nonexistent/integrator.yaml' }, /cannot read config file "\/nonexistent\/integrator.yaml"/],
    [{ INTEGRATOR_CONFIG: 'sink: [unclosed' }, /INTEGRATOR_CONFIG is not valid YAML or JSON/],
    [{ INTEGRATOR_CONFIG: '- a\n- b\n' }, /must hold a mapping/],
    [{}, /key "sink"/],
    [{ INTEGRATOR_CONFIG: `${sink}  colour: blue\n` }, /unknown key "sink.colour"/],
  ])('fails with a ConfigError naming the problem (%#)', (env, message) => {
    expect(() => loadLambdaConfig(env)).toThrow(ConfigError);
    expect(() => loadLambdaConfig(env)).toThrow(message);
  });
});

describe('checkLambdaConfig', () => {
  const parquet = loadLambdaConfig({ INTEGRATOR_CONFIG: sink.replace('ndjson', 'parquet') });
  it('refuses Parquet when DuckDB cannot load, and passes NDJSON without it', () => {
    expect(() => checkLambdaConfig(parquet, () => "Cannot find module '@duckdb/node-api'")).toThrow(/"sink.format": value "parquet" needs DuckDB .*set sink.format: ndjson/);
    expect(() => checkLambdaConfig(parquet, () => undefined)).not.toThrow();
    expect(() => checkLambdaConfig(loadLambdaConfig({ INTEGRATOR_CONFIG: sink }), () => 'missing')).not.toThrow();
  });

  it('refuses the local DuckDB catalog, whose state would live on a function instance disk', () => {
    const c = loadLambdaConfig({ INTEGRATOR_CONFIG: `${sink}catalog:\n  type: duckdb\n` });
    expect(() => checkLambdaConfig(c, () => undefined)).toThrow(/"catalog.type": value "duckdb" cannot run in Lambda/);
  });
});
