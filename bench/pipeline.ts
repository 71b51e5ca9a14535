import { execFileSync } from 'node:child_process';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parseConfig } from '../src/config/load.js';
import { MemoryMetrics } from '../src/core/metrics.js';
import { createLogger } from '../src/observability/logger.js';
import { buildPipeline } from '../src/pipeline/build-pipeline.js';
import { composeRuntime } from '../src/runtime/compose.js';
import { rssSampler } from './rss.js';

/**
 * Issue 2's benchmark: file source → normalize → pass-through enrich → Parquet (zstd) in a local
 * Hive-partitioned directory, against DuckDB (one thread) turning the same NDJSON into the same
 * partitioned Parquet.
 */
export async function run(args: { events: number }): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-pipeline-'));
  try {
    const input = generateInChild(join(dir, 'events.ndjson'), args.events);
    await settle(input.path);
    const pipeline = await measurePipeline(input.path, dir);
    const ceiling = await measureDuckDb(input.path, join(dir, 'ceiling'));
    return {
      events: args.events,
      inputMb: Math.round((await stat(input.path)).size / 1e5) / 10,
      eventsPerSec: Math.round(args.events / pipeline.seconds),
      peakRssMb: Math.round(pipeline.peakRssMb),
      objects: pipeline.objects,
      partitions: pipeline.partitions,
      ceilingEventsPerSec: Math.round(args.events / ceiling),
      ratio: Math.round((ceiling / pipeline.seconds) * 1000) / 1000,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The input is generated in a child process so that the generator's memory does not count in
 * the pipeline's peak RSS.
 */
function generateInChild(path: string, events: number): { path: string } {
  execFileSync(process.execPath, ['--import', 'tsx', 'bench/generate.ts', '--out', path, '--events', String(events), '--seed', '42'], { stdio: ['ignore', 'ignore', 'inherit'] });
  return { path };
}

/**
 * Writes the generated file's dirty pages to disk before anything is timed: their write-back
 * (200 MB) otherwise ran during whichever measurement came first, the pipeline's, taking CPU
 * from it and not from the DuckDB reference measured after it.
 */
async function settle(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

const benchConfig = (path: string, dir: string) =>
  parseConfig({
    source: { type: 'file', path, stream: 'bench' },
    sink: { type: 'file', dir: join(dir, 'lake'), format: 'parquet', compression: 'zstd' },
    checkpoints: { type: 'file', path: join(dir, 'checkpoints.json') },
    logging: { level: 'warn' },
  });

/**
 * Loads the adapters the runtime imports on demand, untimed: under tsx the first import of a
 * changed file includes compiling it, which a built service never does (and the DuckDB
 * reference's module is loaded before its clock starts too).
 */
async function warmUp(path: string, dir: string): Promise<void> {
  const runtime = await composeRuntime(benchConfig(path, join(dir, 'warm-up')), { log: createLogger({ level: 'warn' }), metrics: new MemoryMetrics() });
  await runtime.close();
}

async function measurePipeline(path: string, dir: string) {
  await warmUp(path, dir);
  const config = benchConfig(path, dir);
  const log = createLogger({ level: 'warn' });
  const rss = rssSampler();
  const t0 = performance.now();
  const runtime = await composeRuntime(config, { log, metrics: new MemoryMetrics() });
  const summary = await buildPipeline(runtime.ports, runtime.options).start().done;
  await runtime.close();
  const seconds = (performance.now() - t0) / 1000;
  const peakRssMb = rss.stop();
  if (summary.written !== summary.received) throw new Error(`pipeline wrote ${summary.written} of ${summary.received} events`);
  return { seconds, peakRssMb, objects: summary.objects, partitions: summary.partitions };
}

async function measureDuckDb(path: string, out: string): Promise<number> {
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await db.connect();
  const t0 = performance.now();
  await con.run(`
    COPY (
      SELECT eventType AS event_type, sku, warehouseId AS warehouse_id,
             quantityBefore::BIGINT AS quantity_before, quantityAfter::BIGINT AS quantity_after,
             coalesce(delta, quantityAfter - quantityBefore)::BIGINT AS delta,
             orderId AS order_id, customerId AS customer_id,
             (eventTime::TIMESTAMPTZ AT TIME ZONE 'UTC') AS event_time,
             strftime(eventTime::TIMESTAMPTZ AT TIME ZONE 'UTC', '%Y-%m-%d') AS dt,
             strftime(eventTime::TIMESTAMPTZ AT TIME ZONE 'UTC', '%H') AS hour
      FROM read_json('${path.replace(/'/g, "''")}', format = 'newline_delimited',
        columns = {eventType: 'VARCHAR', sku: 'VARCHAR', warehouseId: 'VARCHAR', quantityBefore: 'BIGINT', quantityAfter: 'BIGINT',
                   delta: 'BIGINT', orderId: 'VARCHAR', customerId: 'VARCHAR', eventTime: 'VARCHAR'})
    ) TO '${out.replace(/'/g, "''")}' (FORMAT parquet, PARTITION_BY (dt, hour), COMPRESSION zstd)`);
  const seconds = (performance.now() - t0) / 1000;
  con.closeSync();
  db.closeSync();
  return seconds;
}
