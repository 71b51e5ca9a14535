import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError, applyEnvOverrides, parseConfig } from '../config/load.js';
import type { IntegratorConfig } from '../config/schema.js';

/** YAML (or JSON, a subset) config text; `INTEGRATOR_CONFIG_YAML` is the container's name for it. */
export const CONFIG_TEXT_ENV = ['INTEGRATOR_CONFIG', 'INTEGRATOR_CONFIG_YAML'] as const;
/** A path to a YAML config file, e.g. one shipped in the bundle directory. */
export const CONFIG_FILE_ENV = 'INTEGRATOR_CONFIG_FILE';

/**
 * The `source` section a Lambda config may leave out: the event says which stream a record comes
 * from, so only the decoding settings of a source matter here (DynamoDB field mapping, Kinesis
 * maxRecordBytes). Without one, the defaults of both apply. The name never reaches a position.
 */
const EVENT_SOURCE_PLACEHOLDER = { type: 'kinesis', streamName: 'from-the-lambda-event' };

/**
 * The handler's configuration, from the environment only (a function has no command line):
 * INTEGRATOR_CONFIG (YAML/JSON text) or INTEGRATOR_CONFIG_FILE (a path), then the
 * INTEGRATOR__A__B=value overrides the deploy stacks set (bucket, table, catalog), then the
 * same zod schema as every other mode. With neither variable the overrides alone make the
 * config, which is how deploy/cdk/lambda-stack.ts configures the function.
 */
export function loadLambdaConfig(env: NodeJS.ProcessEnv = process.env): IntegratorConfig {
  const textVar = CONFIG_TEXT_ENV.find((n) => env[n] !== undefined && env[n] !== '');
  const file = env[CONFIG_FILE_ENV];
  if (textVar && file) throw new ConfigError([`set either ${textVar} or ${CONFIG_FILE_ENV}, not both`], 'environment');
  let origin = 'environment';
  let text: string | undefined;
  if (textVar) {
    origin = textVar;
    text = env[textVar];
  } else if (file) {
    origin = file;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError([`${CONFIG_FILE_ENV}: cannot read config file "${file}": ${(err as Error).message}`], file);
    }
  }
  let doc: unknown = {};
  if (text !== undefined) {
    try {
      doc = parseYaml(text) ?? {};
    } catch (err) {
      throw new ConfigError([`${origin} is not valid YAML or JSON: ${(err as Error).message}`], origin);
    }
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ConfigError([`${origin} must hold a mapping at the top level`], origin);
  const withEnv = applyEnvOverrides(doc as Record<string, unknown>, env);
  const source = withEnv.source as { type?: unknown } | undefined;
  if (source === undefined) withEnv.source = { ...EVENT_SOURCE_PLACEHOLDER };
  else if (typeof source === 'object' && source !== null && source.type !== 'kinesis' && source.type !== 'dynamodb') {
    throw new ConfigError(
      [`key "source.type": value ${JSON.stringify(source.type)} cannot run in Lambda: records come from the event; leave "source" out or use kinesis/dynamodb for their decoding settings`],
      origin,
    );
  }
  return parseConfig(withEnv, origin);
}
