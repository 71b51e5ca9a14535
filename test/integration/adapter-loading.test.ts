import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/**
 * Composes the runtime in a fresh process and prints the npm packages it has loaded. The AWS
 * SDK, kafkajs, pg, mysql2 and DuckDB's Node API are CommonJS, so the require cache lists them
 * even when they were imported from ESM.
 */
const CHILD = `
import { createRequire } from 'node:module';
const { parseConfig } = await import(${JSON.stringify(join(ROOT, 'src/config/load.ts'))});
const { composeRuntime } = await import(${JSON.stringify(join(ROOT, 'src/runtime/compose.ts'))});
const { SILENT_LOGGER } = await import(${JSON.stringify(join(ROOT, 'src/core/logger.ts'))});
const { MemoryMetrics } = await import(${JSON.stringify(join(ROOT, 'src/core/metrics.ts'))});
const runtime = await composeRuntime(parseConfig(JSON.parse(process.env.CONFIG)), { log: SILENT_LOGGER, metrics: new MemoryMetrics() });
await runtime.close();
const packages = new Set(Object.keys(createRequire(import.meta.url).cache).map((f) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(f)?.[1]).filter(Boolean));
process.stdout.write(JSON.stringify([...packages].sort()));
`;

function packagesLoadedBy(config: object): string[] {
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, CONFIG: JSON.stringify(config) },
  });
  return JSON.parse(out) as string[];
}

// Each costs 13-30 MB of memory once imported; issue 2's budget cannot carry them unused.
const UNUSED_BY_A_LOCAL_RUN = /^(@aws-sdk\/client-|@aws-sdk\/lib-storage$|kafkajs$|pg$|mysql2$)/;

/** Only the adapters a configuration names are imported (src/core/load-adapter.ts). */
describe('composeRuntime imports', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'adapter-loading-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const local = (format: 'parquet' | 'ndjson') => ({
    source: { type: 'file', path: join(dir, 'events.ndjson'), stream: 's' },
    sink: { type: 'file', dir: join(dir, `lake-${format}`), format },
    checkpoints: { type: 'file', path: join(dir, 'checkpoints.json') },
  });

  it('no AWS client, kafkajs, pg or mysql2 for a file source into a local Parquet lake', () => {
    const loaded = packagesLoadedBy(local('parquet'));
    expect(loaded.filter((p) => UNUSED_BY_A_LOCAL_RUN.test(p))).toEqual([]);
  });

  it('and not DuckDB either when the lake is NDJSON without a catalog', () => {
    const loaded = packagesLoadedBy(local('ndjson'));
    expect(loaded.filter((p) => UNUSED_BY_A_LOCAL_RUN.test(p) || p.startsWith('@duckdb/'))).toEqual([]);
  });
});
