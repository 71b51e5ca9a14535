import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Code } from 'aws-cdk-lib/aws-lambda';
import { afterAll } from 'vitest';
import { defaultProps, type SystemProps } from './props.js';
import { buildSystem, type System } from './system.js';

/** Test support: a system synthesizable without Docker or an esbuild bundle. */

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

let scratch: string | undefined;
function scratchDir(): string {
  scratch ??= mkdtempSync(join(tmpdir(), 'integrator-cdk-'));
  return scratch;
}
// Each test file that synthesizes gets its own folder (files run in their own module graph).
afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

export type PropsPatch = (p: SystemProps) => SystemProps;

export function testProps(patch: PropsPatch = (p) => p): SystemProps {
  const d = defaultProps(REPO_ROOT);
  return patch({
    ...d,
    container: { ...d.container, image: { kind: 'registry', uri: 'public.ecr.aws/docker/library/node:22-bookworm-slim' } },
    lambda: {
      ...d.lambda,
      sources: ['kinesis', 'dynamodb'],
      code: Code.fromInline('exports.handler = async () => ({ batchItemFailures: [] });'),
    },
  });
}

export interface Synthesized {
  readonly system: System;
  readonly templates: Record<string, Template>;
}

export function synthesize(props: SystemProps = testProps()): Synthesized {
  const app = new App({ outdir: mkdtempSync(join(scratchDir(), 'out-')) });
  const system = buildSystem(app, props);
  const stacks = { lake: system.lake, catalog: system.catalog, sources: system.sources, network: system.network, service: system.service, lambda: system.lambda };
  const templates: Record<string, Template> = {};
  for (const [name, stack] of Object.entries(stacks)) if (stack) templates[name] = Template.fromStack(stack);
  return { system, templates };
}

/** The one resource of a type in a template (fails when there is not exactly one). */
export function only(template: Template, type: string): { Properties: Record<string, unknown>; [k: string]: unknown } {
  const found = Object.values(template.findResources(type));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0] as { Properties: Record<string, unknown> };
}
