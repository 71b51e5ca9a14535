import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_ENTRY } from './service-stack.js';
import { REPO_ROOT } from './test-system.js';

/** Docker is not available where the tests run; these are the invariants the file must keep. */

interface Stage {
  readonly from: string;
  readonly name?: string;
  readonly lines: string[];
}

function stages(text: string): Stage[] {
  const logical = text
    .replace(/\\\n/g, ' ') // line continuations
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const out: Stage[] = [];
  for (const line of logical) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) out.push({ from: from[1]!, ...(from[2] ? { name: from[2] } : {}), lines: [] });
    else out.at(-1)?.lines.push(line);
  }
  return out;
}

const dockerfile = readFileSync(join(REPO_ROOT, 'deploy/Dockerfile'), 'utf8');
const all = stages(dockerfile);
const final = all.at(-1)!;
const instr = (s: Stage, name: string) => s.lines.filter((l) => l.toUpperCase().startsWith(`${name} `));

describe('deploy/Dockerfile', () => {
  it('is multi-stage on node:22-bookworm-slim', () => {
    expect(all.length).toBeGreaterThanOrEqual(2);
    for (const s of all) expect(s.from).toBe('node:22-bookworm-slim');
  });

  it('builds with npm ci and npm run build, and installs only production dependencies in the final stage', () => {
    const build = all[0]!;
    expect(instr(build, 'RUN').some((l) => /\bnpm ci\b/.test(l))).toBe(true);
    expect(instr(build, 'RUN').some((l) => /\bnpm run build\b/.test(l))).toBe(true);
    const finalRuns = instr(final, 'RUN');
    expect(finalRuns.some((l) => /\bnpm ci\b.*--omit=dev/.test(l))).toBe(true);
    expect(finalRuns.some((l) => /npm run build|\bnpm (ci|install)\b(?!.*--omit=dev)/.test(l))).toBe(false);
    // Compiled code comes from the build stage, never the sources or their dev tooling.
    expect(instr(final, 'COPY').filter((l) => l.includes('--from=')).every((l) => /--from=build \/app\/dist\//.test(l))).toBe(true);
  });

  it('runs as a non-root user', () => {
    const users = instr(final, 'USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)!.split(/\s+/)[1]).not.toMatch(/^(root|0)(:|$)/);
    // USER comes before the process starts, after the last RUN that needs root.
    const idx = (l: string) => final.lines.indexOf(l);
    expect(idx(users.at(-1)!)).toBeGreaterThan(Math.max(...instr(final, 'RUN').map(idx)));
  });

  it('starts the compiled CLI in exec form with the default config, and health-checks /healthz', () => {
    expect(instr(final, 'ENTRYPOINT')).toEqual([`ENTRYPOINT ["node", "${CLI_ENTRY}"]`]);
    expect(instr(final, 'CMD')).toEqual(['CMD ["run", "--config", "/config/integrator.yaml"]']);
    expect(existsSync(join(REPO_ROOT, CLI_ENTRY.replace(/^dist\//, '').replace(/\.js$/, '.ts')))).toBe(true);
    const health = instr(final, 'HEALTHCHECK');
    expect(health).toHaveLength(1);
    expect(health[0]).toContain('http://127.0.0.1:8080/healthz');
    expect(instr(final, 'EXPOSE')).toEqual(['EXPOSE 8080']);
  });

  it('copies only files that exist into the final stage', () => {
    for (const line of instr(final, 'COPY').filter((l) => !l.includes('--from='))) {
      const parts = line.split(/\s+/).slice(1, -1);
      for (const src of parts) expect(existsSync(join(REPO_ROOT, src)), `${line}: ${src}`).toBe(true);
    }
  });

  it('keeps node_modules, build output and local state out of the build context', () => {
    const ignore = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const entry of ['**/node_modules', 'dist', '.git', '.lake', 'deploy/cdk.out']) expect(ignore).toContain(entry);
  });
});
