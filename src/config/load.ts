import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { IntegratorError } from '../core/errors.js';
import { IntegratorConfig } from './schema.js';

export const ENV_PREFIX = 'INTEGRATOR__';

/** A config problem, named by key and value; the CLI exits 2 on it. */
export class ConfigError extends IntegratorError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[], source: string) {
    super('CONFIG_INVALID', `invalid configuration (${source}):\n  - ${problems.join('\n  - ')}`, { details: { problems } });
    this.problems = problems;
  }
}

const camel = (s: string): string => s.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * INTEGRATOR__BATCHING__MAX_RECORDS=5000 sets batching.maxRecords; values are read as YAML
 * scalars so numbers and booleans keep their types.
 */
export function applyEnvOverrides(doc: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const path = name.slice(ENV_PREFIX.length).split('__').filter(Boolean).map(camel);
    if (path.length === 0) continue;
    let node: Record<string, unknown> = doc;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[path[path.length - 1]!] = parseYaml(raw) as unknown;
  }
  return doc;
}

function valueAt(doc: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = doc;
  for (const k of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

const show = (v: unknown): string => {
  if (v === undefined) return '(missing)';
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
};

export function describeIssues(error: z.ZodError, doc: unknown): string[] {
  return error.issues.map((issue) => {
    const key = issue.path.map(String).join('.') || '(root)';
    if (issue.code === 'unrecognized_keys') {
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${key === '(root)' ? k : `${key}.${k}`}"`).join(', ')}: not part of the configuration (check the spelling; every key is listed in docs/configuration.md)`;
    }
    // The refused value is shown masked like `config check` prints it: a password in a URL or a
    // secret of the wrong type must not reach the terminal or the logs through the error.
    const last = String(issue.path[issue.path.length - 1] ?? '');
    const value = valueAt(doc, issue.path);
    const shown = value !== undefined && isSecretKey(last) ? '***' : maskSecrets(value, last);
    return `key "${key}": value ${show(shown)} is not allowed: ${issue.message}`;
  });
}

export function parseConfig(doc: unknown, source = 'config'): IntegratorConfig {
  const result = IntegratorConfig.safeParse(doc);
  if (!result.success) throw new ConfigError(describeIssues(result.error, doc), source);
  return result.data;
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): IntegratorConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`cannot read config file "${file}": ${(err as Error).message}`], file);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text) ?? {};
  } catch (err) {
    throw new ConfigError([`"${file}" is not valid YAML: ${(err as Error).message}`], file);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new ConfigError([`"${file}" must hold a YAML mapping at the top level`], file);
  }
  return parseConfig(applyEnvOverrides(doc as Record<string, unknown>, env), file);
}

const SECRET_KEY = /pass(word)?|secret|token|credential|accessKey|privateKey/i;
const URL_KEY = /url|connectionString|dsn/i;
const isSecretKey = (key: string): boolean => SECRET_KEY.test(key) && !/Env$|File$/.test(key);

/** The config as `config check` prints it: secrets replaced, passwords cut out of URLs. */
export function maskSecrets(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, key));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskSecrets(v, k)]));
  }
  if (typeof value !== 'string' || value === '') return value;
  if (isSecretKey(key)) return '***';
  if (URL_KEY.test(key)) return maskUrl(value);
  return value;
}

export function maskUrl(s: string): string {
  return s.replace(/\/\/([^:/@]+):([^@]*)@/, '//$1:***@');
}
