/**
 * Kinesis benchmark: pre-fills a 4-shard kinesalite stream, then drains the same stream four
 * times in one run: (i) a bare GetRecords loop over every shard from TRIM_HORIZON, the ceiling of
 * what any reader can get out of this emulator on this machine; (ii) the KinesisSource alone;
 * (iii) the whole service as composed from config (KinesisSource → normalize → pass-through enrich
 * → partition → batch → Parquet files in a temp dir → file checkpoints); (iv) the bare loop again.
 * The figure asked for is `ratio` = pipeline / bare (target ≥ 0.8), including the final flush;
 * `readRatio` leaves that flush out. The reference is the faster of the two bare drains, which
 * bracket the pipeline's, so a machine that gets busier or quieter during the run does not favour
 * the pipeline. Absolute rates depend on kinesalite and the machine.
 *
 * Both loops use the client the service builds (consumers/kinesis/create.ts), keep Kinesis's own
 * limit of 5 GetRecords calls per second per shard (200 ms apart) and ask for 10,000 records a
 * call, so they differ only in what happens to the records. The pipeline is timed from the start
 * of the composed pipeline, not from composing the runtime (config, clients, checkpoint store),
 * which a service does once: the figure is a drain rate.
 *
 * kinesalite runs as a child process so it does not share the event loop being measured, but it
 * shares the machine's cores: every CPU second this process spends is one the emulator may wait
 * for. Hence the CPU seconds per drain, of this process (all its threads) and of kinesalite.
 *
 *   npm run bench -- --source kinesis [--events 200000] [--json]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { MIN_CALL_INTERVAL_MS } from '../consumers/kinesis/shard-reader.js';
import { KinesisSourceConfig } from '../consumers/kinesis/config.js';
import { KinesisSource } from '../consumers/kinesis/source.js';
import { Drain, putAll } from '../consumers/kinesis/test-support.js';
import { LocalLeaseCoordinator } from '../src/checkpoints/local-coordinator.js';
import { MemoryCheckpointStore } from '../src/checkpoints/memory-store.js';
import { SILENT_LOGGER } from '../src/core/logger.js';
import { parseConfig } from '../src/config/load.js';
import { MemoryMetrics, NO_METRICS } from '../src/core/metrics.js';
import { createLogger } from '../src/observability/logger.js';
import { buildPipeline } from '../src/pipeline/build-pipeline.js';
import { composeRuntime } from '../src/runtime/compose.js';
import { eventLines } from '../test/fixtures/events.js';
import { createStream, type Kinesalite, startKinesalite } from '../test/stack/kinesalite.js';

export const STREAM = 'bench-inventory';
export const SHARDS = 4;
const LIMIT = 10_000;
/**
 * Batches are flushed at this age so objects are written while the stream is still being read:
 * with the 60 s default a drain this short would hold the whole backlog in memory and write every
 * object (one per hour partition and shard, ~200) after the last read.
 */
const BATCH_AGE_MS = 1000;

type Send = Pick<KinesisClient, 'send'>;

export async function run(args: { events?: number }): Promise<Record<string, number>> {
  const events = args.events ?? 200_000;
  const kin = await startKinesalite();
  const dir = await mkdtemp(join(tmpdir(), 'bench-kinesis-'));
  try {
    const client = kin.client();
    await createStream(client, STREAM, SHARDS);

    let t = performance.now();
    const bytes = await prefill(client, events);
    const prefillSeconds = (performance.now() - t) / 1000;
    say(`pre-filled ${events} events (${Math.round(bytes / events)} B average) in ${prefillSeconds.toFixed(1)} s`);

    const bare1 = await measured(kin, () => bareDrain(client));
    checkBare(bare1.value.records, events);
    say(`bare GetRecords drain: ${rate(events, bare1.seconds)} events/s (${bare1.value.calls} calls, ${cpuText(bare1)})`);

    const src = await measured(kin, () => sourceDrain(client, events));
    const sourceEventsPerSec = events / src.seconds;
    say(`KinesisSource alone (commits at once, no pipeline): ${rate(events, src.seconds)} events/s (${cpuText(src)})`);

    const pipe = await measured(kin, () => pipelineDrain(kin.endpoint, events, dir));
    const pipeSeconds = pipe.value.seconds;
    const pipelineEventsPerSec = events / pipeSeconds;
    say(`pipeline drain: ${rate(events, pipeSeconds)} events/s (${pipe.value.objects} objects, ${pipeSeconds.toFixed(2)} s; ${cpuText({ ...pipe, cpu: pipe.value.cpu })})`);

    const bare2 = await measured(kin, () => bareDrain(client));
    checkBare(bare2.value.records, events);
    say(`bare GetRecords drain again: ${rate(events, bare2.seconds)} events/s (${cpuText(bare2)})`);

    const bareSeconds = Math.min(bare1.seconds, bare2.seconds);
    const bareEventsPerSec = events / bareSeconds;
    const ratio = pipelineEventsPerSec / bareEventsPerSec;
    say(`ratio pipeline / bare = ${ratio.toFixed(3)} (target ≥ 0.8; bare = the faster of ${bare1.seconds.toFixed(2)} s and ${bare2.seconds.toFixed(2)} s)`);
    return {
      events,
      shards: SHARDS,
      avgEventBytes: Math.round(bytes / events),
      prefillEventsPerSec: Math.round(events / prefillSeconds),
      bareEventsPerSec: Math.round(bareEventsPerSec),
      bareSeconds: round3(bareSeconds),
      bareFirstSeconds: round3(bare1.seconds),
      bareLastSeconds: round3(bare2.seconds),
      sourceEventsPerSec: Math.round(sourceEventsPerSec),
      pipelineEventsPerSec: Math.round(pipelineEventsPerSec),
      pipelineSeconds: round3(pipeSeconds),
      pipelineWritten: pipe.value.written,
      pipelineDeadLettered: pipe.value.deadLettered,
      pipelineObjects: pipe.value.objects,
      pipelineReadSeconds: round3(pipe.value.readSeconds),
      batchMaxAgeMs: BATCH_AGE_MS,
      ratio: round3(ratio),
      /** Reading only: how far the pipeline's reading keeps up with the bare loop, before the final flush. */
      readRatio: round3(bareSeconds / pipe.value.readSeconds),
      sourceRatio: round3(sourceEventsPerSec / bareEventsPerSec),
      /** CPU seconds of this process (every thread) per drain, over the same span as its time. */
      bareCpuSeconds: round3(bare1.cpu),
      sourceCpuSeconds: round3(src.cpu),
      pipelineCpuSeconds: round3(pipe.value.cpu),
      pipelineCpuMicrosPerEvent: Math.round((pipe.value.cpu * 1e6) / events),
      /** CPU seconds kinesalite spent serving each drain (-1 where unknown). */
      kinesaliteCpuSecondsBare: round3(bare1.emulatorCpu ?? -1),
      kinesaliteCpuSecondsPipeline: round3(pipe.emulatorCpu ?? -1),
    };
  } finally {
    await kin.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Canonical events (~240 B) keyed round-robin so the four shards fill evenly. */
export async function prefill(client: Send, events: number): Promise<number> {
  let bytes = 0;
  let batch: Array<{ pk: string; data: Buffer }> = [];
  const inFlight: Promise<void>[] = [];
  let i = 0;
  for (const line of eventLines(events)) {
    const data = Buffer.from(line);
    bytes += data.length;
    batch.push({ pk: `pk-${i++}`, data });
    if (batch.length === 2000) {
      inFlight.push(putAll(client, STREAM, batch));
      batch = [];
      if (inFlight.length >= 4) await inFlight.shift();
    }
  }
  if (batch.length > 0) inFlight.push(putAll(client, STREAM, batch));
  await Promise.all(inFlight);
  return bytes;
}

/** Every shard read to its current end from TRIM_HORIZON: iterator, GetRecords until an empty page. */
export async function bareDrain(client: Send): Promise<{ records: number; calls: number }> {
  const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: STREAM }));
  let records = 0;
  let calls = 0;
  await Promise.all(
    Shards.map(async (s) => {
      const it = await client.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: s.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
      let iterator = it.ShardIterator;
      let last = 0;
      while (iterator) {
        const wait = last + MIN_CALL_INTERVAL_MS - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        last = performance.now();
        const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: LIMIT }));
        calls++;
        const n = page.Records?.length ?? 0;
        if (n === 0) break;
        records += n;
        iterator = page.NextShardIterator;
      }
    }),
  );
  return { records, calls };
}

/** The source alone, to tell its cost from the pipeline's: every chunk committed as it arrives. */
async function sourceDrain(client: Send, events: number): Promise<void> {
  const config = KinesisSourceConfig.parse({ type: 'kinesis', streamName: STREAM, maxRecordsPerCall: LIMIT, idleTimeBetweenReadsMs: 200 });
  const source = new KinesisSource({ client, coordinator: new LocalLeaseCoordinator(new MemoryCheckpointStore()), config, log: SILENT_LOGGER, metrics: NO_METRICS });
  const drain = new Drain(source).start();
  await drain.until(() => drain.received.length >= events, 'the source drain', 600_000);
  await drain.stop();
  if (drain.received.length !== events) throw new Error(`source read ${drain.received.length} records, expected ${events}`);
}

/**
 * The service's own path, wired from config by the same composition root as the container
 * (checkpoints in a file, pass-through enrichment, Parquet in a directory), timed from start until
 * everything read is written and checkpointed.
 */
export async function pipelineDrain(endpoint: string, events: number, dir: string) {
  const metrics = new MemoryMetrics();
  const log = createLogger({ level: 'warn' });
  const config = parseConfig({
    source: { type: 'kinesis', streamName: STREAM, maxRecordsPerCall: LIMIT, idleTimeBetweenReadsMs: 200, aws: { endpoint, accessKeyId: 'local', secretAccessKey: 'local' } },
    sink: { type: 'file', dir: join(dir, 'lake'), format: 'parquet', compression: 'zstd' },
    checkpoints: { type: 'file', path: join(dir, 'checkpoints.json') },
    enrichment: { type: 'none' },
    batching: { maxAgeMs: BATCH_AGE_MS },
    logging: { level: 'warn' },
  });
  const runtime = await composeRuntime(config, { log, metrics });
  const c0 = process.cpuUsage();
  const t = performance.now();
  const running = buildPipeline(runtime.ports, runtime.options).start();
  while (running.stats().received < events) await new Promise((r) => setTimeout(r, 10));
  const readSeconds = (performance.now() - t) / 1000;
  // Everything is read: stopping flushes the open batches and waits for their checkpoints.
  const summary = await running.stop();
  const seconds = (performance.now() - t) / 1000;
  const c = process.cpuUsage(c0);
  say(`pipeline read everything in ${readSeconds.toFixed(2)} s, then flushed and checkpointed in ${(seconds - readSeconds).toFixed(2)} s`);
  await runtime.close();
  if (summary.written + summary.deadLettered !== events) throw new Error(`pipeline delivered ${summary.written + summary.deadLettered} of ${events}`);
  const cpu = (c.user + c.system) / 1e6;
  return { seconds, readSeconds, cpu, written: summary.written, deadLettered: summary.deadLettered, objects: summary.objects };
}

interface Measured<T> {
  readonly value: T;
  /** Wall seconds of the whole call. */
  readonly seconds: number;
  /** CPU seconds of this process, every thread. */
  readonly cpu: number;
  /** CPU seconds of the kinesalite child meanwhile. */
  readonly emulatorCpu: number | undefined;
}

async function measured<T>(kin: Kinesalite, fn: () => Promise<T>): Promise<Measured<T>> {
  const k0 = kin.cpuSeconds();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const k1 = kin.cpuSeconds();
  return { value, seconds, cpu: (c.user + c.system) / 1e6, emulatorCpu: k0 === undefined || k1 === undefined ? undefined : k1 - k0 };
}

function checkBare(records: number, events: number): void {
  if (records !== events) throw new Error(`bare drain read ${records} records, expected ${events}`);
}

const cpuText = (m: Measured<unknown>) =>
  `CPU ${m.cpu.toFixed(2)} s here${m.emulatorCpu === undefined ? '' : `, ${m.emulatorCpu.toFixed(2)} s in kinesalite`}`;
const rate = (events: number, seconds: number) => Math.round(events / seconds);
const round3 = (x: number) => Math.round(x * 1000) / 1000;
const say = (s: string) => process.stderr.write(`[bench kinesis] ${s}\n`);
