import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load.js';
import { MemoryMetrics, METRIC } from '../src/core/metrics.js';
import type { EnrichmentStatus, InventoryChange } from '../src/core/model.js';
import { type Enricher, type EnrichOutcome, type EnrichResult, isRejection } from '../src/core/ports.js';
import { createEnricher } from '../src/enrichment/create.js';
import { createLogger } from '../src/observability/logger.js';
import { buildPipeline } from '../src/pipeline/build-pipeline.js';
import { composeRuntime } from '../src/runtime/compose.js';
import { writeEventsFile } from '../test/fixtures/events.js';
import { createPostgresSample, POSTGRES } from '../test/fixtures/sql/databases.js';
import { seedPostgresFromUniverse } from '../test/fixtures/sql/universe-seed.js';
import { InventoryUniverse } from '../test/fixtures/universe.js';

/**
 * Issue 4's benchmark: the whole pipeline (file source → normalize → enrich → Parquet in a temp
 * directory) over Zipf-skewed events of 40,000 customers and 200,000 orders, once enriching from
 * the real PostgreSQL and once with the pass-through enricher, in the same run.
 *
 * queriesPerBatch (target ≤ 2) = lookup queries / enrich() calls; cacheHitRate = cache hits /
 * keys looked up (unique keys per batch, cache cold at the start); ratio (target ≥ 0.7) =
 * enriched throughput / pass-through throughput, the median of ROUNDS back-to-back pairs (the
 * seconds and rates printed are that pair's; ratioLowest and ratioHighest show the spread).
 */
export async function run(args: { events?: number }): Promise<Record<string, number>> {
  const events = args.events ?? 1_000_000;
  const dir = await mkdtemp(join(tmpdir(), 'bench-enrich-'));
  const bench = await prepareEnrichBench(dir, events).catch(async (err: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw err;
  });
  const { universe, enrichment, input } = bench;
  try {
    const log = createLogger({ level: 'warn' });
    // The machine is shared and its speed drifts by up to 2x within minutes, so the two sides
    // are compared in pairs run back to back, the order swapped every round (a steady drift
    // then favours neither), and the ratio is the median of the pairs' ratios.
    let metrics = new MemoryMetrics();
    const pairs: Array<{ passThrough: Measured; enriched: Measured }> = [];
    for (let round = 0; round < ROUNDS; round++) {
      const pass = () => measure(input, join(dir, `pass${round}`), { type: 'none' }, () => createEnricher({ type: 'none' }, { log, metrics: new MemoryMetrics() }));
      const m = new MemoryMetrics();
      const enrich = () =>
        measure(input, join(dir, `enriched${round}`), enrichment, () => createEnricher(parseConfig(benchConfig(input, join(dir, 'x'), enrichment)).enrichment, { log, metrics: m }));
      if (round % 2 === 0) {
        const p = await pass();
        pairs.push({ passThrough: p, enriched: await enrich() });
      } else {
        const e = await enrich();
        pairs.push({ passThrough: await pass(), enriched: e });
      }
      // Every enriched run starts with a cold cache: its counts are the same each round.
      metrics = m;
    }
    const byRatio = pairs.map((p) => ({ ...p, ratio: p.passThrough.seconds / p.enriched.seconds })).sort((a, b) => a.ratio - b.ratio);
    const median = byRatio[byRatio.length >> 1];
    if (!median) throw new Error('no rounds ran');
    const { passThrough, enriched } = median;
    const hits = metrics.total(METRIC.enrichCacheHits);
    const misses = metrics.total(METRIC.enrichCacheMisses);
    const queries = metrics.total(METRIC.enrichQueries);
    const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
    return {
      events,
      customers: universe.customers,
      orders: universe.orders,
      batches: enriched.batches,
      queries,
      queriesPerBatch: round(queries / Math.max(1, enriched.batches)),
      cacheHitRate: round(hits / Math.max(1, hits + misses), 4),
      enrichedOk: enriched.statuses.ok,
      enrichedMissing: enriched.statuses.missing,
      enrichedFailed: enriched.statuses.failed,
      enrichedSkipped: enriched.statuses.skipped,
      rounds: ROUNDS,
      enrichSeconds: round(enriched.enrichSeconds, 1),
      passThroughSeconds: round(passThrough.seconds, 1),
      enrichedSeconds: round(enriched.seconds, 1),
      passThroughEventsPerSec: Math.round(events / passThrough.seconds),
      enrichedEventsPerSec: Math.round(events / enriched.seconds),
      ratio: round(median.ratio),
      ratioLowest: round(byRatio[0]!.ratio),
      ratioHighest: round(byRatio[byRatio.length - 1]!.ratio),
    };
  } finally {
    await bench.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The benchmark's database and input: PostgreSQL tables seeded with the universe's customers and
 * orders, and `events` Zipf-skewed events written to `dir`; drop() removes the tables.
 */
export async function prepareEnrichBench(dir: string, events: number) {
  const seed = 42;
  const universe = new InventoryUniverse({ seed });
  const sample = await createPostgresSample({ customers: 0, orders: 0 }, { prefix: 'bench_enr' });
  try {
    await seedPostgresFromUniverse(sample.admin, sample.tables, universe);
    const file = await writeEventsFile(join(dir, 'events.ndjson'), events, { seed });
    const enrichment = {
      type: 'postgres' as const,
      host: POSTGRES.host,
      port: POSTGRES.port,
      database: POSTGRES.database,
      user: sample.admin.user,
      lookups: { customers: { table: sample.tables.customers }, orders: { table: sample.tables.orders } },
    };
    return { universe, input: file.path, enrichment, drop: () => sample.drop() };
  } catch (err) {
    await sample.drop();
    throw err;
  }
}

/** The pipeline config of one run: the events file to Parquet files under `dir`, with `enrichment`. */
export function benchConfig(path: string, dir: string, enrichment: unknown) {
  return {
    source: { type: 'file', path, stream: 'bench' },
    sink: { type: 'file', dir: join(dir, 'lake'), format: 'parquet', compression: 'zstd' },
    checkpoints: { type: 'file', path: join(dir, 'checkpoints.json') },
    enrichment,
    // BENCH_POLLS_IN_PROGRESS=1 measures polls enriched one at a time; unset: the config default.
    batching: process.env.BENCH_POLLS_IN_PROGRESS ? { pollsInProgress: Number(process.env.BENCH_POLLS_IN_PROGRESS) } : {},
    logging: { level: 'warn' },
  };
}

/** Counts enrich() (or enrichEach()) calls and the statuses they hand out; adds nothing measurable per event. */
class CountingEnricher implements Enricher {
  batches = 0;
  /** Wall time spent inside enrich(): the lookups' share of the run. */
  ms = 0;
  readonly statuses: Record<EnrichmentStatus, number> = { ok: 0, missing: 0, failed: 0, skipped: 0 };
  /** Forwarded, so the pipeline takes the same by-index path it takes with the enricher alone. */
  readonly enrichEach?: (changes: readonly InventoryChange[]) => Promise<readonly EnrichOutcome[]>;
  constructor(private readonly inner: Enricher) {
    const each = inner.enrichEach?.bind(inner);
    if (each) {
      this.enrichEach = async (changes) => {
        this.batches++;
        const t0 = performance.now();
        const r = await each(changes);
        this.ms += performance.now() - t0;
        for (const o of r) if (!isRejection(o)) this.statuses[o.status]++;
        return r;
      };
    }
  }
  async enrich(changes: readonly InventoryChange[]): Promise<EnrichResult> {
    this.batches++;
    const t0 = performance.now();
    const r = await this.inner.enrich(changes);
    this.ms += performance.now() - t0;
    for (const c of r.enriched) this.statuses[c.enrichment.status]++;
    return r;
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * Five pairs: with best-of-three per side, the ratio of one run of the same code still swung
 * between 0.60 and 0.69 on a shared 2-core machine; an odd count gives a true median.
 */
const ROUNDS = 5;

interface Measured {
  readonly seconds: number;
  readonly batches: number;
  readonly statuses: Record<EnrichmentStatus, number>;
  readonly enrichSeconds: number;
}

async function measure(path: string, dir: string, enrichment: unknown, make: () => Promise<Enricher>): Promise<Measured> {
  const log = createLogger({ level: 'warn' });
  const enricher = new CountingEnricher(await make());
  const t0 = performance.now();
  const runtime = await composeRuntime(parseConfig(benchConfig(path, dir, enrichment)), { log, metrics: new MemoryMetrics() }, { enricher });
  const summary = await buildPipeline(runtime.ports, runtime.options).start().done;
  await runtime.close();
  const seconds = (performance.now() - t0) / 1000;
  if (summary.written !== summary.received) throw new Error(`pipeline wrote ${summary.written} of ${summary.received} events`);
  return { seconds, batches: enricher.batches, statuses: enricher.statuses, enrichSeconds: enricher.ms / 1000 };
}
