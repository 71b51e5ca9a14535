/**
 * Where the enriched run's time goes: the enrich benchmark's two pipelines (pass-through and
 * PostgreSQL lookups), alternated, each with the CPU seconds of the JS thread, of the process's
 * other threads (DuckDB, libuv, V8's GC helpers) and of PostgreSQL, and the GC pauses. Wall
 * ratios swing with the shared machine's load; these splits say which side of the ratio moved.
 *
 *   npm run bench:enrich-cpu -- [--events 1000000] [--rounds 3] [--profile cpu|heap]
 *
 * --profile writes a V8 CPU profile or sampled allocation profile of each run to
 * /tmp/enrich-<mode><round>.cpuprofile|.heapprofile (open them in Chrome DevTools). Linux only:
 * CPU times come from /proc.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { parseConfig } from '../src/config/load.js';
import { MemoryMetrics } from '../src/core/metrics.js';
import { createEnricher } from '../src/enrichment/create.js';
import { createLogger } from '../src/observability/logger.js';
import { buildPipeline } from '../src/pipeline/build-pipeline.js';
import { composeRuntime } from '../src/runtime/compose.js';
import { benchConfig, prepareEnrichBench } from './enrich.js';

const TICKS_PER_SECOND = 100;

/** utime + stime (+ the reaped children's, for PostgreSQL's exited backends) of a /proc stat line. */
function cpuSeconds(stat: string, children: boolean): number {
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]) + (children ? Number(f[13]) + Number(f[14]) : 0);
  return ticks / TICKS_PER_SECOND;
}

async function threadSeconds(): Promise<{ js: number; other: number }> {
  let js = 0;
  let other = 0;
  for (const tid of await readdir('/proc/self/task')) {
    const s = cpuSeconds(await readFile(`/proc/self/task/${tid}/stat`, 'utf8'), false);
    if (Number(tid) === process.pid) js += s;
    else other += s;
  }
  return { js, other };
}

/** Every postgres process's CPU, with what its exited children (backends) used. */
async function postgresSeconds(): Promise<number> {
  let sum = 0;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (stat.includes('(postgres)')) sum += cpuSeconds(stat, true);
  }
  return sum;
}

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak-callbacks',
};
const gc = new Map<string, { count: number; ms: number }>();
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = GC_KINDS[(e as unknown as { detail: { kind: number } }).detail.kind] ?? 'other';
    const g = gc.get(kind) ?? { count: 0, ms: 0 };
    g.count++;
    g.ms += e.duration;
    gc.set(kind, g);
  }
}).observe({ entryTypes: ['gc'] });

async function startProfile(kind: string | undefined): Promise<((file: string) => Promise<void>) | undefined> {
  if (kind !== 'cpu' && kind !== 'heap') return undefined;
  const session = new Session();
  session.connect();
  if (kind === 'cpu') {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  } else {
    await session.post('HeapProfiler.enable');
    await session.post('HeapProfiler.startSampling', { samplingInterval: 4096 });
  }
  return async (file) => {
    const { profile } = kind === 'cpu' ? await session.post('Profiler.stop') : await session.post('HeapProfiler.stopSampling');
    await writeFile(`${file}.${kind === 'cpu' ? 'cpuprofile' : 'heapprofile'}`, JSON.stringify(profile));
    session.disconnect();
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { events: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '3' }, profile: { type: 'string' } } });
  const events = Number(values.events);
  const rounds = Number(values.rounds);
  if (!Number.isInteger(events) || events < 1 || !Number.isInteger(rounds) || rounds < 1) throw new Error('--events and --rounds must be positive whole numbers');
  const dir = await mkdtemp(join(tmpdir(), 'bench-enrich-cpu-'));
  const bench = await prepareEnrichBench(dir, events).catch(async (err: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw err;
  });
  const log = createLogger({ level: 'warn' });
  try {
    const rows: Record<string, number[][]> = {};
    for (let round = 0; round < rounds; round++) {
      // The order swaps every round, as in the enrich benchmark.
      for (const mode of round % 2 === 0 ? ['pass', 'enriched'] : ['enriched', 'pass']) {
        const enrichment = mode === 'pass' ? { type: 'none' } : bench.enrichment;
        const config = parseConfig(benchConfig(bench.input, join(dir, `${mode}${round}`), enrichment));
        const enricher = await createEnricher(config.enrichment, { log, metrics: new MemoryMetrics() });
        gc.clear();
        const stop = await startProfile(values.profile);
        const cpu0 = await threadSeconds();
        const pg0 = await postgresSeconds();
        const t0 = performance.now();
        const runtime = await composeRuntime(config, { log, metrics: new MemoryMetrics() }, { enricher });
        await buildPipeline(runtime.ports, runtime.options).start().done;
        await runtime.close();
        const wall = (performance.now() - t0) / 1000;
        const cpu1 = await threadSeconds();
        const pg = (await postgresSeconds()) - pg0;
        await stop?.(join(tmpdir(), `enrich-${mode}${round}`));
        // Let the last GC entries arrive.
        await new Promise((r) => setTimeout(r, 20));
        const row = [wall, cpu1.js - cpu0.js, cpu1.other - cpu0.other, pg];
        (rows[mode] ??= []).push(row);
        const gcs = [...gc].map(([k, g]) => `${k} ${g.count}/${Math.round(g.ms)}ms`).join(', ');
        process.stdout.write(`${mode.padEnd(8)} round ${round}: wall ${row[0]!.toFixed(2)} s, JS thread ${row[1]!.toFixed(2)}, other threads ${row[2]!.toFixed(2)}, postgres ${row[3]!.toFixed(2)} CPU-s; GC ${gcs}\n`);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    const med = (mode: string, k: number) => median(rows[mode]!.map((r) => r[k]!));
    for (const mode of ['pass', 'enriched']) {
      process.stdout.write(`median ${mode.padEnd(8)}: wall ${med(mode, 0).toFixed(2)} s, JS thread ${med(mode, 1).toFixed(2)}, other threads ${med(mode, 2).toFixed(2)}, postgres ${med(mode, 3).toFixed(2)} CPU-s\n`);
    }
    process.stdout.write(`ratio pass/enriched: wall ${(med('pass', 0) / med('enriched', 0)).toFixed(3)}, JS thread CPU ${(med('pass', 1) / med('enriched', 1)).toFixed(3)}\n`);
  } finally {
    await bench.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`enrich-cpu failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
