/**
 * Where the enriched run's time goes: the enrich benchmark's two pipelines (pass-through and
 * PostgreSQL lookups), alternated, each with the CPU seconds of the JS thread, of the process's
 * other threads (DuckDB, libuv, V8's GC helpers) and of PostgreSQL, the time the JS thread was
 * ready to run but waited for a core, and the GC pauses. Wall ratios swing with the shared
 * machine's load; these splits say which side of the ratio moved.
 *
 *   npm run bench:enrich-cpu -- [--events 1000000] [--rounds 3] [--in-memory] [--modes pass,enriched] [--profile cpu|heap]
 *
 * --in-memory adds a third run: the same SQL enricher answered from rows fetched beforehand, after
 * a microtask instead of a query. Against it, the PostgreSQL run shows what waiting for the
 * database costs (changes that wait for their lookups survive scavenges and go cold, the driver
 * parses rows), apart from what the lookups and the enriched columns cost.
 *
 * --modes runs only the pipelines named (pass, enriched, in-memory), so that a profiler attached to
 * the whole process (`perf record`) sees one of them.
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
import type { PostgresEnrichmentConfig } from '../src/enrichment/config.js';
import { resolveTarget } from '../src/enrichment/connection.js';
import { createEnricher } from '../src/enrichment/create.js';
import { redactor } from '../src/enrichment/db-errors.js';
import type { LookupSpec } from '../src/enrichment/identifiers.js';
import type { LookupClient, LookupRow } from '../src/enrichment/lookup-client.js';
import { PgLookupClient } from '../src/enrichment/pg-client.js';
import { lookupSpecs, SqlEnricher } from '../src/enrichment/sql-enricher.js';
import { createLogger } from '../src/observability/logger.js';
import { buildPipeline } from '../src/pipeline/build-pipeline.js';
import { composeRuntime } from '../src/runtime/compose.js';
import type { Logger } from '../src/core/logger.js';
import type { Enricher } from '../src/core/ports.js';
import { benchConfig, prepareEnrichBench } from './enrich.js';

const TICKS_PER_SECOND = 100;
const MODES = ['pass', 'enriched', 'in-memory'];

/** utime + stime (+ the reaped children's, for PostgreSQL's exited backends) of a /proc stat line. */
function cpuSeconds(stat: string, children: boolean): number {
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]) + (children ? Number(f[13]) + Number(f[14]) : 0);
  return ticks / TICKS_PER_SECOND;
}

/**
 * CPU seconds of the JS thread and of the others, and the seconds the JS thread spent runnable
 * but waiting for a core (schedstat's run-queue time): on 2 cores, the CPU that DuckDB, V8's GC
 * helpers and PostgreSQL take is partly taken from the JS thread this way.
 */
async function threadSeconds(): Promise<{ js: number; other: number; jsWaiting: number }> {
  let js = 0;
  let other = 0;
  for (const tid of await readdir('/proc/self/task')) {
    const s = cpuSeconds(await readFile(`/proc/self/task/${tid}/stat`, 'utf8'), false);
    if (Number(tid) === process.pid) js += s;
    else other += s;
  }
  const schedstat = await readFile(`/proc/self/task/${process.pid}/schedstat`, 'utf8').catch(() => '');
  const jsWaiting = Number(schedstat.split(' ')[1] ?? Number.NaN) / 1e9;
  return { js, other, jsWaiting };
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
    // Every allocation, not only what is still live at the end: what the scavenger had to deal with.
    await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  }
  return async (file) => {
    const { profile } = kind === 'cpu' ? await session.post('Profiler.stop') : await session.post('HeapProfiler.stopSampling');
    await writeFile(`${file}.${kind === 'cpu' ? 'cpuprofile' : 'heapprofile'}`, JSON.stringify(profile));
    session.disconnect();
  };
}

/** Answers lookups from every row of both tables, fetched once through the real client. */
class PreloadedClient implements LookupClient {
  readonly dialect = 'postgres' as const;
  readonly label = 'preloaded';
  readonly maxKeysPerQuery = Number.MAX_SAFE_INTEGER;
  private readonly rows = new Map<string, Map<string, LookupRow>>();

  async load(client: LookupClient, spec: LookupSpec, keys: readonly string[]): Promise<void> {
    this.rows.set(spec.name, new Map((await client.select(spec, keys)).map((r) => [r.key, r])));
  }

  async select(spec: LookupSpec, keys: readonly string[]): Promise<LookupRow[]> {
    const rows = this.rows.get(spec.name);
    if (!rows) throw new Error(`${spec.name} rows were not loaded`);
    await null;
    const out: LookupRow[] = [];
    for (const k of keys) {
      const r = rows.get(k);
      if (r) out.push(r);
    }
    return out;
  }

  async close(): Promise<void> {}
}

async function preloadedEnricher(config: PostgresEnrichmentConfig, bench: Awaited<ReturnType<typeof prepareEnrichBench>>, log: Logger): Promise<() => Enricher> {
  const specs = lookupSpecs(config.lookups);
  const redact = redactor([]);
  const pg = new PgLookupClient(resolveTarget(config), { queryTimeoutMs: 60_000, connectTimeoutMs: 10_000, log, redact });
  const preloaded = new PreloadedClient();
  try {
    await preloaded.load(pg, specs.order, Array.from(bench.universe.orderRows(), (o) => o.orderId));
    await preloaded.load(pg, specs.customer, Array.from(bench.universe.customerIds()));
  } finally {
    await pg.close();
  }
  const opts = { lookups: config.lookups, cache: config.cache, resilience: config.resilience, policy: config.policy, onMissing: config.onMissing };
  return () => new SqlEnricher(preloaded, opts, { log, metrics: new MemoryMetrics(), redact });
}

/** One run's [wall, JS thread CPU, other threads' CPU, PostgreSQL CPU, JS thread waiting for a core], in seconds. */
const figures = (r: readonly number[]): string =>
  `wall ${r[0]!.toFixed(2)} s, JS thread ${r[1]!.toFixed(2)} (+${r[4]!.toFixed(2)} s waiting for a core), other threads ${r[2]!.toFixed(2)}, postgres ${r[3]!.toFixed(2)} CPU-s`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '1000000' },
      rounds: { type: 'string', default: '3' },
      'in-memory': { type: 'boolean', default: false },
      modes: { type: 'string' },
      profile: { type: 'string' },
    },
  });
  const events = Number(values.events);
  const rounds = Number(values.rounds);
  if (!Number.isInteger(events) || events < 1 || !Number.isInteger(rounds) || rounds < 1) throw new Error('--events and --rounds must be positive whole numbers');
  const modes = values.modes?.split(',') ?? (values['in-memory'] ? ['pass', 'enriched', 'in-memory'] : ['pass', 'enriched']);
  const unknown = modes.filter((m) => !MODES.includes(m));
  if (unknown.length > 0 || modes.length === 0) throw new Error(`--modes takes a comma-separated list of ${MODES.join(', ')}; got ${JSON.stringify(values.modes)}`);
  const dir = await mkdtemp(join(tmpdir(), 'bench-enrich-cpu-'));
  const bench = await prepareEnrichBench(dir, events).catch(async (err: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw err;
  });
  const log = createLogger({ level: 'warn' });
  try {
    const rows: Record<string, number[][]> = {};
    const inMemory = modes.includes('in-memory') ? await preloadedEnricher(parseConfig(benchConfig(bench.input, dir, bench.enrichment)).enrichment as PostgresEnrichmentConfig, bench, log) : undefined;
    for (let round = 0; round < rounds; round++) {
      // The order swaps every round, as in the enrich benchmark.
      for (const mode of round % 2 === 0 ? modes : [...modes].reverse()) {
        const enrichment = mode === 'pass' ? { type: 'none' } : bench.enrichment;
        const config = parseConfig(benchConfig(bench.input, join(dir, `${mode}${round}`), enrichment));
        const enricher = mode === 'in-memory' ? inMemory!() : await createEnricher(config.enrichment, { log, metrics: new MemoryMetrics() });
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
        const row = [wall, cpu1.js - cpu0.js, cpu1.other - cpu0.other, pg, cpu1.jsWaiting - cpu0.jsWaiting];
        (rows[mode] ??= []).push(row);
        const gcs = [...gc].map(([k, g]) => `${k} ${g.count}/${Math.round(g.ms)}ms`).join(', ');
        process.stdout.write(`${mode.padEnd(9)} round ${round}: ${figures(row)}; GC ${gcs}\n`);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    const med = (mode: string, k: number) => median(rows[mode]!.map((r) => r[k]!));
    for (const mode of modes) {
      process.stdout.write(`median ${mode.padEnd(9)}: ${figures(rows[mode]![0]!.map((_, k) => med(mode, k)))}\n`);
    }
    for (const mode of rows.pass ? modes.filter((m) => m !== 'pass') : []) {
      process.stdout.write(`ratio pass/${mode}: wall ${(med('pass', 0) / med(mode, 0)).toFixed(3)}, JS thread CPU ${(med('pass', 1) / med(mode, 1)).toFixed(3)}\n`);
    }
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
