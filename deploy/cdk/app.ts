import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { propsFromContext } from './context.js';
import { auditTemplate } from './policy-audit.js';
import { buildSystem } from './system.js';

/**
 * Entry point of the CDK app: `npx aws-cdk@2 synth|deploy --app "npx tsx deploy/cdk/app.ts"`
 * (see deploy/README.md), or `npx tsx deploy/cdk/app.ts [-c key=value ...]` to synthesize into
 * deploy/cdk.out without the CDK CLI. The IAM audit runs after every synth and fails it.
 */

/** The repository root: the first folder upwards holding package.json (works from dist/ too). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the repository root (no package.json above deploy/cdk)');
    dir = up;
  }
  return dir;
}

/** `-c key=value` / `--context key=value` when run without the CDK CLI (which passes them itself). */
function argvContext(argv: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] !== '-c' && argv[i] !== '--context') continue;
    const pair = argv[++i] ?? '';
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`context argument "${pair}" must be key=value`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

const root = repoRoot();
const app = new App({
  context: argvContext(process.argv.slice(2)),
  ...(process.env.CDK_OUTDIR ? {} : { outdir: resolve(root, 'deploy/cdk.out') }),
});
buildSystem(app, propsFromContext((key) => app.node.tryGetContext(key), root));
const assembly = app.synth();

const violations = assembly.stacks.flatMap((s) => auditTemplate(s.template as Parameters<typeof auditTemplate>[0], s.stackName));
if (violations.length > 0) {
  for (const v of violations) console.error(`IAM audit: ${v.where}: ${v.problem}`);
  process.exitCode = 1;
}
