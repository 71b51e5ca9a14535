import { mkdir, rm, rmdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { buildLakeCurated } from '../src/catalog/curated-duckdb.js';
import { type DemoDatabase, openDemoDatabase } from './demo-database.js';
import { inspectLake } from './demo-lake.js';
import { checkPrerequisites, type DemoSource, type MissingPrerequisite } from './demo-prereqs.js';
import { createProducer, type DemoProducer, type Produced, produceSteadily } from './demo-produce.js';
import { runLakeQuery } from './demo-query.js';
import { buildReport, type DemoReport } from './demo-report.js';
import { ENRICH_CONNECTIONS_PER_SERVICE, ENRICH_POOL, MAX_RECORD_BYTES, type RunningService, serviceConfig, startService } from './demo-services.js';
import { type DemoStack, startDemoStack } from './demo-stack.js';
import { buildWorkload } from './demo-workload.js';

export interface DemoOptions {
  /** Inventory changes over all sources (a few malformed records per source come on top). */
  readonly events: number;
  /** Leave the lake directory when done (else the whole working directory is removed). */
  readonly keep: boolean;
  /** Working directory: the lake goes to <dir>/lake, configs and logs to <dir>/run (both replaced on each run). */
  readonly dir: string;
  /** Progress lines. */
  readonly say: (line: string) => void;
  readonly signal?: AbortSignal;
  /** Use the embedded PostgreSQL even when a server runs at 127.0.0.1:5432. */
  readonly embeddedDatabase?: boolean;
  /** How long the producers take to send the workload; default scales with `events`. */
  readonly produceMs?: number;
}

export interface DemoResult {
  readonly report: DemoReport;
  readonly sources: readonly DemoSource[];
  readonly missing: readonly MissingPrerequisite[];
  readonly database: string;
  readonly lakeDir: string;
  readonly lakeKept: boolean;
  /** The DuckDB queries a user can run on the lake, and what the curated one returned. */
  readonly queries: { readonly raw: string; readonly curated: string; readonly curatedRows: ReadonlyArray<Record<string, unknown>> };
  readonly serviceExitCodes: Readonly<Record<string, number | null>>;
  readonly seconds: number;
}

/** A path as a user types it: relative to the current directory when below it. */
export const shown = (p: string): string => {
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith('..') ? rel : p;
};

export function lakeQueries(lakeDir: string): { raw: string; curated: string } {
  const lake = shown(lakeDir).split('\\').join('/');
  return {
    raw: `SELECT source, event_type, count(*) AS events, sum(delta) AS net_units FROM read_parquet('${lake}/inventory_changes/**/*.parquet', hive_partitioning = true) GROUP BY ALL ORDER BY ALL`,
    curated: `SELECT customer_tier, order_channel, count(*) AS sales, -sum(delta) AS units_sold FROM read_parquet('${lake}/curated/inventory_changes_curated/**/*.parquet') WHERE event_type = 'sale' GROUP BY ALL ORDER BY units_sold DESC`,
  };
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason as Error);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** Polls each service's /metrics until it has written or dead-lettered all its source received. */
async function waitDelivered(services: readonly RunningService[], expected: ReadonlyMap<DemoSource, number>, timeoutMs: number, signal?: AbortSignal): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(services);
  const last = new Map<DemoSource, string>();
  while (pending.size > 0 && Date.now() < deadline) {
    for (const s of [...pending]) {
      if (s.exitCode() !== undefined) throw new Error(`the ${s.source} service exited (code ${s.exitCode()}) before delivering everything; its log (${s.logFile}):\n${s.tail()}`);
      try {
        const c = await s.counts();
        last.set(s.source, `${c.written} written + ${c.deadLettered} dead-lettered of ${expected.get(s.source)} (received ${c.received})`);
        if (c.written + c.deadLettered >= expected.get(s.source)!) pending.delete(s);
      } catch {
        /* /metrics busy: try again */
      }
    }
    if (pending.size > 0) await sleep(300, signal);
  }
  return [...pending].map((s) => `the ${s.source} service did not deliver everything within ${Math.round(timeoutMs / 1000)} s: ${last.get(s.source) ?? 'no metrics'}`);
}

async function waitReady(services: readonly RunningService[], timeoutMs: number, signal?: AbortSignal): Promise<DemoSource[]> {
  const deadline = Date.now() + timeoutMs;
  let waiting = [...services];
  while (waiting.length > 0 && Date.now() < deadline) {
    const ready = await Promise.all(waiting.map((s) => s.ready()));
    waiting = waiting.filter((_, i) => !ready[i]);
    if (waiting.length > 0) await sleep(250, signal);
  }
  return waiting.map((s) => s.source);
}

/**
 * The whole demo: local stack, database, one service per source writing one lake, a paced
 * workload, the curated build, and the report. Everything started is stopped in `finally`,
 * whatever failed; the run directory (configs, logs) is kept only when something failed.
 */
export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const t0 = Date.now();
  const { signal, say } = o;
  const dir = resolve(o.dir);
  const lakeDir = join(dir, 'lake');
  const runDir = join(dir, 'run');
  const services: RunningService[] = [];
  const producers: DemoProducer[] = [];
  let stack: DemoStack | undefined;
  let db: DemoDatabase | undefined;
  let failed = true;
  try {
    const { sources, missing } = checkPrerequisites();
    for (const m of missing) say(`${m.tool} is missing, so the ${m.source} source is skipped (${m.why}); install it with: ${m.install}`);
    if (sources.length === 0) throw new Error('no source can run on this machine');
    // Only the demo's own subdirectories are replaced: --dir may name a directory holding more.
    await rm(lakeDir, { recursive: true, force: true });
    await rm(runDir, { recursive: true, force: true });
    await mkdir(runDir, { recursive: true });
    await mkdir(lakeDir, { recursive: true });

    const now = Date.now();
    const workload = buildWorkload({ events: o.events, sources, now, tooLargeBytes: MAX_RECORD_BYTES + 36 * 1024 });
    say(`starting the local stack for ${sources.join(', ')} and the database …`);
    const [stackResult, dbResult] = await Promise.allSettled([
      startDemoStack(sources),
      openDemoDatabase({ maxConnections: sources.length * ENRICH_CONNECTIONS_PER_SERVICE + 2, embeddedOnly: o.embeddedDatabase, say }),
    ]);
    if (stackResult.status === 'fulfilled') stack = stackResult.value;
    if (dbResult.status === 'fulfilled') db = dbResult.value;
    if (stackResult.status === 'rejected') throw stackResult.reason;
    if (dbResult.status === 'rejected') throw new Error(`the database did not start: ${(dbResult.reason as Error).message}`, { cause: dbResult.reason });
    for (const line of stack!.described) say(`  ${line}`);
    say(`  ${db!.description}`);
    const seeded = await db!.seed(workload.rows, workload.start);
    say(`seeded ${seeded.customers} customers and ${seeded.orders} orders`);
    signal?.throwIfAborted();

    say(`starting ${sources.length} service(s): inventory-integrator run --config ${shown(runDir)}/service-<source>.yaml …`);
    const started = await Promise.allSettled(
      sources.map((src) => startService(src, (port) => serviceConfig(src, stack!, { lakeDir, runDir }, db!.enrichmentConfig(ENRICH_POOL), port), runDir)),
    );
    for (const r of started) if (r.status === 'fulfilled') services.push(r.value);
    const failedStart = started.find((r) => r.status === 'rejected');
    if (failedStart) throw new Error(`a service did not start: ${(failedStart.reason as Error).message}`);
    for (const s of services) say(`  ${s.source}: pid ${s.pid}, http://127.0.0.1:${s.port}/metrics`);
    const notReady = await waitReady(services, 30_000, signal);
    if (notReady.length > 0) say(`  not ready after 30 s (continuing; they catch up): ${notReady.join(', ')}`);

    const produceMs = o.produceMs ?? Math.min(15_000, Math.max(1_500, o.events * 3));
    const total = [...workload.ops.values()].reduce((n, ops) => n + ops.length, 0);
    say(`producing ${total} records (${o.events} inventory changes, DynamoDB item creations, malformed records) over ${(produceMs / 1000).toFixed(1)} s …`);
    for (const src of sources) producers.push(await createProducer(src, stack!));
    const produced: Produced[] = await Promise.all(
      sources.map((src, i) => produceSteadily(src, workload.ops.get(src)!, producers[i]!, { durationMs: produceMs, ...(signal ? { signal } : {}) })),
    );
    for (const p of produced) say(`  ${p.source}: ${p.good + p.malformed.length} records sent in ${((p.lastSentAt - p.firstSentAt) / 1000).toFixed(1)} s`);
    const expected = new Map(produced.map((p) => [p.source, p.good + p.malformed.length]));
    say(`produced; waiting until every record is in the lake or the DLQ …`);
    const problems = await waitDelivered(services, expected, 60_000 + o.events * 10, signal);

    say('stopping the services (SIGTERM: flush, checkpoint, exit) …');
    const codes = await Promise.all(
      services.map(async (s) => {
        const t = Date.now();
        const code = await s.stop();
        say(`  ${s.source}: exited ${code} after ${((Date.now() - t) / 1000).toFixed(1)} s`);
        return code;
      }),
    );
    const serviceExitCodes = Object.fromEntries(services.map((s, i) => [s.source, codes[i]!]));
    services.forEach((s, i) => {
      if (codes[i] !== 0) problems.push(`the ${s.source} service exited with code ${codes[i]} (log: ${s.logFile})`);
    });

    say('building the curated layer (reference tables exported from the database, then the curated SQL in DuckDB) …');
    const referenceRows = await db!.exportReference(lakeDir);
    const curated = await buildLakeCurated(lakeDir);
    const report = buildReport(produced, await inspectLake(lakeDir), { tables: curated.tables, referenceRows });
    const queries = lakeQueries(lakeDir);
    const curatedRows = await runLakeQuery(queries.curated);
    failed = problems.length > 0 || report.problems.length > 0;
    return {
      report: { ...report, problems: [...problems, ...report.problems] },
      sources,
      missing,
      database: db!.description,
      lakeDir,
      lakeKept: o.keep,
      queries: { ...queries, curatedRows },
      serviceExitCodes,
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    const steps: Array<[string, () => Promise<unknown>]> = [
      ['services', () => Promise.all(services.map((s) => s.stop(10_000)))],
      ['producers', () => Promise.all(producers.map((p) => p.close()))],
      ['local stack', () => stack?.stop() ?? Promise.resolve()],
      ['database', () => db?.close() ?? Promise.resolve()],
    ];
    for (const [what, step] of steps) await step().catch((err: unknown) => say(`could not stop the ${what}: ${(err as Error).message}`));
    // A failed run keeps everything for a look; a good one keeps the lake only when asked.
    if (failed) say(`kept for a look: the lake in ${shown(lakeDir)}, configs and service logs in ${shown(runDir)}`);
    else {
      await rm(runDir, { recursive: true, force: true });
      if (!o.keep) await rm(lakeDir, { recursive: true, force: true });
      await rmdir(dir).catch(() => undefined); // only when nothing else is in it
    }
  }
}
