import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { IntegratorConfig } from '../src/config/schema.js';

type Schema = {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  default?: unknown;
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  items?: Schema;
  minimum?: number;
  maximum?: number;
};

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function typeOf(s: Schema): string {
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (s.enum) return s.enum.map((e) => `\`${String(e)}\``).join(' | ');
  if (s.anyOf) return s.anyOf.map(typeOf).join(' | ');
  if (s.type === 'array') return `list of ${s.items ? typeOf(s.items) : 'values'}`;
  const t = Array.isArray(s.type) ? s.type.join(' | ') : (s.type ?? 'any');
  const range = s.minimum !== undefined && s.maximum !== undefined && s.maximum < 1e15 ? ` (${s.minimum}–${s.maximum})` : s.minimum !== undefined ? ` (≥ ${s.minimum})` : '';
  return `${t}${range}`;
}

function rows(s: Schema, path: string, out: string[], required: boolean): void {
  if (s.oneOf) {
    for (const variant of s.oneOf) {
      const kind = variant.properties?.type?.const;
      out.push(`| **${path}** (type \`${String(kind)}\`) | | | |`);
      rows(variant, path, out, required);
    }
    return;
  }
  if (s.properties) {
    for (const [k, v] of Object.entries(s.properties)) {
      const p = path ? `${path}.${k}` : k;
      const isObj = Boolean(v.properties || v.oneOf);
      if (isObj) rows(v, p, out, (s.required ?? []).includes(k));
      else out.push(`| \`${p}\` | ${cell(typeOf(v))} | ${v.default !== undefined ? `\`${cell(JSON.stringify(v.default))}\`` : (s.required ?? []).includes(k) ? 'required' : ''} | ${cell(v.description ?? '')} |`);
    }
  }
}

/** docs/configuration.md from the zod schema: the schema is the documentation. */
export function configReference(): string {
  const schema = z.toJSONSchema(IntegratorConfig, { io: 'input', unrepresentable: 'any' }) as Schema;
  const out: string[] = [
    '# Configuration reference',
    '',
    'Generated from the zod schema (`npm run docs:config`); do not edit by hand. One YAML file, then',
    'environment overrides: `INTEGRATOR__SECTION__KEY=value` (path segments in SCREAMING_SNAKE_CASE,',
    'values read as YAML scalars), e.g. `INTEGRATOR__BATCHING__MAX_RECORDS=5000`. Unknown keys and bad',
    'values stop the start-up with exit code 2 and a message naming the key, the value and what is allowed.',
    '`inventory-integrator config check --config FILE` prints the resolved configuration, secrets masked.',
    '',
    '| key | type | default | meaning |',
    '|---|---|---|---|',
  ];
  rows(schema, '', out, true);
  return `${out.join('\n')}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(new URL('../docs/configuration.md', import.meta.url), configReference());
  process.stdout.write('wrote docs/configuration.md\n');
}
