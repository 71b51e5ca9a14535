/**
 * One service process for the Kafka end-to-end test: KafkaSource → the real pipeline → a Parquet
 * lake in a local directory. Settings come as one JSON argument; SIGTERM stops it gracefully,
 * SIGKILL is the crash the test inflicts. Prints "ready" once the pipeline runs.
 *
 *   node --import tsx consumers/kafka/e2e-worker.ts '{"brokers":["127.0.0.1:1234"],"topic":"t","groupId":"g","lakeDir":"/tmp/lake"}'
 */
import { createSinks } from '../../sinks/create.js';
import { BatchingConfig, PartitioningConfig } from '../../src/config/schema.js';
import { type Logger, SILENT_LOGGER } from '../../src/core/logger.js';
import { MemoryMetrics } from '../../src/core/metrics.js';
import { PassThroughEnricher } from '../../src/enrichment/pass-through.js';
import { buildPipeline } from '../../src/pipeline/build-pipeline.js';
import { createKafkaSource } from './create.js';
import { sourceConfig } from './test-kit.js';

export interface KafkaWorkerSettings {
  readonly brokers: string[];
  readonly topic: string;
  readonly groupId: string;
  readonly lakeDir: string;
}

export const TABLE = 'inventory_changes';

/** Warnings and errors to stderr as JSON lines, so a failing test can show what the worker saw. */
const stderrLogger = (bindings: Record<string, unknown> = {}): Logger => {
  const write = (level: string) => (obj: object, msg?: string) =>
    process.stderr.write(`${JSON.stringify({ level, msg, ...bindings, ...obj }, (_k, v: unknown) => (v instanceof Error ? v.message : typeof v === 'bigint' ? String(v) : v))}\n`);
  return { debug() {}, info: write('info'), warn: write('warn'), error: write('error'), child: (b) => stderrLogger({ ...bindings, ...b }) };
};

export async function startWorkerPipeline(s: KafkaWorkerSettings, log: Logger = SILENT_LOGGER) {
  const metrics = new MemoryMetrics();
  const source = createKafkaSource(sourceConfig(s.brokers, s.topic, s.groupId), { log, metrics });
  const sinks = await createSinks({ type: 'file', dir: s.lakeDir, format: 'parquet', compression: 'zstd', table: TABLE, dlqPrefix: 'dlq' }, { log: SILENT_LOGGER, metrics });
  const running = buildPipeline(
    {
      source,
      enricher: new PassThroughEnricher(),
      sink: sinks.sink,
      dlq: sinks.dlq,
      catalog: { partitionsCommitted: async () => undefined, close: async () => undefined },
      log: SILENT_LOGGER,
      metrics,
    },
    { table: TABLE, batching: BatchingConfig.parse({ maxAgeMs: 200, maxRecords: 500 }), partitioning: PartitioningConfig.parse({}), maxRecordBytes: 4096 },
  ).start();
  return {
    running,
    source,
    stop: async () => {
      const summary = await running.stop();
      await sinks.close();
      return summary;
    },
  };
}

if (process.argv[1]?.endsWith('e2e-worker.ts')) {
  const settings = JSON.parse(process.argv[2] ?? '{}') as KafkaWorkerSettings;
  const w = await startWorkerPipeline(settings, stderrLogger());
  process.once('SIGTERM', () => {
    void w.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
  w.running.done.catch((err: unknown) => {
    process.stderr.write(`pipeline failed: ${String(err)}\n`);
    process.exit(1);
  });
  process.stdout.write('ready\n');
}
