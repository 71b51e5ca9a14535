import { DEFAULT_LAYOUT } from './layout.js';
import { defaultProps, type StreamKind, type SystemProps } from './props.js';

/** Reads one context value; undefined when absent. */
export type ContextReader = (key: string) => unknown;

const STREAMS: readonly StreamKind[] = ['kinesis', 'dynamodb'];

function str(get: ContextReader, key: string): string | undefined {
  const v = get(key);
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' && typeof v !== 'number') throw new Error(`context "${key}": expected a string, got ${JSON.stringify(v)}`);
  return String(v);
}

function bool(get: ContextReader, key: string, fallback: boolean): boolean {
  const v = get(key);
  if (v === undefined || v === null || v === '') return fallback;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw new Error(`context "${key}": expected true or false, got ${JSON.stringify(v)}`);
}

function int(get: ContextReader, key: string, fallback: number, min: number, max: number): number {
  const v = get(key);
  if (v === undefined || v === null || v === '') return fallback;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`context "${key}": expected an integer ${min}..${max}, got ${JSON.stringify(v)}`);
  return n;
}

function streams(get: ContextReader, key: string, fallback: readonly StreamKind[]): readonly StreamKind[] {
  const raw = str(get, key);
  if (raw === undefined) return fallback;
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of list) if (!(STREAMS as readonly string[]).includes(s)) throw new Error(`context "${key}": "${s}" is not one of ${STREAMS.join(', ')}`);
  return [...new Set(list)] as StreamKind[];
}

function stream(get: ContextReader, key: string, fallback: StreamKind): StreamKind {
  const [one, ...rest] = streams(get, key, [fallback]);
  if (one === undefined || rest.length > 0) throw new Error(`context "${key}": name exactly one of ${STREAMS.join(', ')}`);
  return one;
}

/**
 * Every deploy-time choice, from CDK context (`-c key=value` or cdk.json). Unknown values are
 * errors naming the key; absent keys take the defaults of props.ts. See deploy/README.md.
 */
export function propsFromContext(get: ContextReader, repoRoot: string, env: NodeJS.ProcessEnv = process.env): SystemProps {
  const d = defaultProps(repoRoot);
  const account = str(get, 'account') ?? env.CDK_DEFAULT_ACCOUNT;
  const region = str(get, 'region') ?? env.CDK_DEFAULT_REGION;
  const image = str(get, 'containerImage');
  const configParameter = str(get, 'configParameter');
  const opt = <K extends string>(key: K, value: string | undefined) => (value === undefined ? {} : ({ [key]: value } as Record<K, string>));
  return {
    ...d,
    name: str(get, 'name') ?? d.name,
    ...(account !== undefined || region !== undefined ? { env: { ...opt('account', account), ...opt('region', region) } } : {}),
    layout: { ...DEFAULT_LAYOUT, ...opt('rawTable', str(get, 'rawTable')), ...opt('dlqPrefix', str(get, 'dlqPrefix')) },
    bucketVersioned: bool(get, 'bucketVersioned', d.bucketVersioned),
    leaseTableName: str(get, 'leaseTableName') ?? d.leaseTableName,
    glue: {
      ...d.glue,
      databaseName: str(get, 'glueDatabase') ?? d.glue.databaseName,
      jobScriptPath: str(get, 'glueJobScript') ?? d.glue.jobScriptPath,
      curatedSqlPath: str(get, 'glueCuratedSql') ?? d.glue.curatedSqlPath,
    },
    sources: {
      ...opt('kinesisStreamArn', str(get, 'kinesisStreamArn')),
      ...opt('dynamoDbStreamArn', str(get, 'dynamoDbStreamArn')),
      ...opt('dynamoDbTableName', str(get, 'dynamoDbTableName')),
    },
    network: {
      databasePort: int(get, 'databasePort', d.network.databasePort, 1, 65_535),
      ...opt('vpcId', str(get, 'vpcId')),
      ...opt('databaseSecurityGroupId', str(get, 'databaseSecurityGroupId')),
      ...opt('metricsScrapeCidr', str(get, 'metricsScrapeCidr')),
    },
    container: {
      ...d.container,
      enabled: bool(get, 'container', d.container.enabled),
      source: stream(get, 'containerSource', d.container.source),
      image: image === undefined ? d.container.image : { kind: 'registry', uri: image },
      config: configParameter === undefined ? d.container.config : { kind: 'ssm', parameterName: configParameter },
      desiredCount: int(get, 'desiredCount', d.container.desiredCount, 2, 100),
      arm64: bool(get, 'arm64', d.container.arm64),
      ...opt('databasePasswordSecretArn', str(get, 'databasePasswordSecretArn')),
    },
    lambda: {
      ...d.lambda,
      enabled: bool(get, 'lambda', d.lambda.enabled),
      sources: streams(get, 'lambdaSources', d.lambda.sources),
      bundleDir: str(get, 'lambdaBundleDir') ?? d.lambda.bundleDir,
      inVpc: bool(get, 'lambdaInVpc', d.lambda.inVpc),
      maxRetryAttempts: int(get, 'lambdaMaxRetryAttempts', d.lambda.maxRetryAttempts, 0, 10_000),
      maxRecordAgeSeconds: int(get, 'lambdaMaxRecordAgeSeconds', d.lambda.maxRecordAgeSeconds, 60, 604_800),
    },
  };
}
