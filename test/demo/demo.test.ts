import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoResult } from '../../scripts/demo-run.js';
import { runLakeQuery } from '../../scripts/demo-query.js';
import { REPO_ROOT } from '../../scripts/demo-services.js';

/**
 * `npm run demo` end to end, small: the real command as a child process (local stack, the
 * embedded database, one service process per source, the curated build), then its JSON summary
 * is checked: every produced event in the lake, the malformed ones in the DLQ with the expected
 * codes, one curated row per distinct event, every service stopped cleanly.
 */
let tmp: string;
let child: ChildProcess | undefined;
let output = '';
let exitCode: number | null = null;
let result: DemoResult;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'demo-test-'));
  const json = join(tmp, 'summary.json');
  // node with tsx's loader (not the tsx CLI), so the pid is the demo's own.
  child = spawn(process.execPath, ['--import', 'tsx', join('scripts', 'demo.ts'), '--events', '240', '--dir', join(tmp, 'demo'), '--keep', '--embedded-db', '--json', json], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (output += b.toString()));
  exitCode = await new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
  if (existsSync(json)) result = JSON.parse(await readFile(json, 'utf8')) as DemoResult;
}, 300_000);

afterAll(async () => {
  // Only if the test gave up on it: SIGTERM lets the demo stop what it started.
  if (child?.pid && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('npm run demo (small)', () => {
  it('exits 0 and prints the summary', () => {
    expect(exitCode, output.slice(-4000)).toBe(0);
    expect(output).toContain('Result: OK');
    expect(output).toMatch(/source\s+produced\s+in lake/);
    expect(result).toBeDefined();
    expect(result.report.problems).toEqual([]);
  });

  it('puts every produced event in the lake and every malformed record in the DLQ with its code', () => {
    expect(result.sources.length).toBeGreaterThanOrEqual(1);
    for (const s of result.report.sources) {
      expect(s.produced, s.source).toBeGreaterThan(0);
      expect(s.inLake, s.source).toBe(s.produced);
      expect(s.missing, s.source).toBe(0);
      expect(s.unexpected, s.source).toBe(0);
      expect(s.malformed, s.source).toBeGreaterThan(0);
      expect(s.deadLettered, s.source).toBe(s.malformed);
      expect(s.dlqByCode, s.source).toEqual(s.expectedDlqByCode);
      expect(s.objects, s.source).toBeGreaterThan(0);
      expect(s.latency.samples, s.source).toBe(s.produced);
    }
    expect(result.report.partitions.length).toBeGreaterThan(0);
    const codes = result.report.dlqReasons.map((d) => d.code).sort();
    expect(codes).toContain('RECORD_INVALID');
  });

  it('builds one curated row per distinct event, enriched from the database', () => {
    const distinct = result.report.sources.reduce((n, s) => n + s.inLake, 0);
    expect(result.report.curated?.tables.inventory_changes_curated).toBe(distinct);
    expect(result.report.curated?.referenceRows.orders).toBeGreaterThan(0);
    const ok = result.report.sources.reduce((n, s) => n + (s.enrichment.ok ?? 0), 0);
    expect(ok).toBeGreaterThan(0);
    expect(result.queries.curatedRows.length).toBeGreaterThan(0);
  });

  it('stops every service gracefully, keeps the lake (--keep) and removes its run files', async () => {
    expect(Object.values(result.serviceExitCodes)).toEqual(result.sources.map(() => 0));
    expect(existsSync(join(tmp, 'demo', 'run'))).toBe(false);
    // The printed query works on the kept lake.
    const rows = await runLakeQuery(`SELECT count(DISTINCT event_id) AS n FROM read_parquet('${result.lakeDir}/inventory_changes/**/*.parquet')`);
    expect(Number(rows[0]!.n)).toBe(result.report.sources.reduce((n, s) => n + s.inLake, 0));
  });
});
