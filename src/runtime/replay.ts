import { readFile } from 'node:fs/promises';
import { MemoryCheckpointStore } from '../checkpoints/memory-store.js';
import type { IntegratorConfig } from '../config/schema.js';
import { IntegratorError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Metrics } from '../core/metrics.js';
import type { Checkpoint, Source, WrittenObject } from '../core/ports.js';
import type { SourceKind } from '../core/position.js';
import { NO_CATALOG } from '../catalog/create.js';
import { buildPipeline, type PipelineSummary } from '../pipeline/build-pipeline.js';
import { BoundedSource, type ReplayEnd } from './bounded-source.js';
import { composeRuntime, openCheckpointStore } from './compose.js';
import { DryRunDlq, DryRunSink } from './dry-run-sink.js';
import type { Progress } from './progress.js';

export type ReplayStart =
  | { readonly kind: 'checkpoint'; readonly file?: string }
  | { readonly kind: 'timestamp'; readonly ms: number }
  | { readonly kind: 'sequence'; readonly seq: string; readonly shard?: string };

export interface ReplayOptions {
  readonly start: ReplayStart;
  readonly end: ReplayEnd;
  readonly dryRun: boolean;
  /** With nothing read for this long the replay has caught up. */
  readonly idleMs: number;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly progress?: Progress;
}

export interface ReplaySummary extends PipelineSummary {
  /** With --dry-run: the objects the replay would write. */
  readonly plannedObjects?: readonly WrittenObject[];
}

const streamOf = (c: IntegratorConfig['source']): { source: SourceKind; stream: string } => {
  switch (c.type) {
    case 'kinesis':
      return { source: 'kinesis', stream: c.streamName };
    case 'dynamodb':
      return { source: 'dynamodb', stream: c.tableName };
    case 'kafka':
      return { source: 'kafka', stream: c.topic };
    case 'file':
      return { source: 'file', stream: c.stream ?? c.path.replace(/^.*\//, '').replace(/\.[^.]*$/, '') };
  }
};

/** Where each shard starts: a copy of checkpoints, never the service's own store. */
async function seedCheckpoints(config: IntegratorConfig, start: ReplayStart): Promise<MemoryCheckpointStore> {
  const seeded = new MemoryCheckpointStore();
  const { source, stream } = streamOf(config.source);
  if (start.kind === 'checkpoint') {
    let list: readonly Checkpoint[];
    if (start.file) {
      const parsed = JSON.parse(await readFile(start.file, 'utf8')) as unknown;
      if (!Array.isArray(parsed)) throw new IntegratorError('CONFIG_INVALID', `${start.file} must hold a JSON array of checkpoints, as "checkpoints list --json" prints`);
      list = parsed as Checkpoint[];
    } else {
      const live = await openCheckpointStore(config);
      try {
        list = await live.store.list(source, stream);
      } finally {
        await live.close();
      }
    }
    for (const c of list) if (c.source === source && c.stream === stream) await seeded.put(c);
  } else if (start.kind === 'sequence') {
    if (!start.shard && config.source.type !== 'file') throw new IntegratorError('CONFIG_INVALID', '--from-sequence needs --shard for a stream with shards');
    await seeded.put({ source, stream, shard: start.shard ?? '0', seq: start.seq });
  }
  return seeded;
}

/** The source settings that make a shard start at the requested time, where the stream can. */
function startConfig(config: IntegratorConfig, start: ReplayStart): IntegratorConfig['source'] {
  const src = config.source;
  if (src.type === 'kafka') {
    throw new IntegratorError('CONFIG_INVALID', 'replay does not drive Kafka: reset the consumer group instead (kafka-consumer-groups --reset-offsets --to-datetime …) and run the service');
  }
  if (start.kind !== 'timestamp') return src.type === 'file' ? { ...src, startAt: 'checkpoint' } : src;
  if (src.type === 'kinesis') return { ...src, startAt: 'AT_TIMESTAMP', startTimestamp: new Date(start.ms).toISOString() };
  if (src.type === 'dynamodb') return { ...src, startAt: 'TRIM_HORIZON' };
  throw new IntegratorError('CONFIG_INVALID', 'a file has no arrival times: replay a file from a checkpoint or a line (--from-sequence)');
}

/**
 * Re-reads a range of a stream through the same pipeline into the same object keys. Batches are
 * cut by size only (no age), so replaying the same range twice cuts them at the same records
 * and writes the same objects.
 */
export async function runReplay(config: IntegratorConfig, opts: ReplayOptions): Promise<ReplaySummary> {
  const source = startConfig(config, opts.start);
  const replayConfig: IntegratorConfig = {
    ...config,
    source,
    checkpoints: { type: 'file', path: '(replay: in memory)' },
    batching: { ...config.batching, maxAgeMs: 24 * 3600 * 1000 },
  };
  const checkpoints = await seedCheckpoints(config, opts.start);
  const startedAt = Date.now();
  const fromMs = opts.start.kind === 'timestamp' ? opts.start.ms : undefined;
  const endMs = opts.end.kind === 'timestamp' ? opts.end.ms : opts.end.kind === 'now' ? startedAt : undefined;
  const dry = opts.dryRun ? { sink: new DryRunSink(config.sink.table, config.sink.format === 'parquet' ? 'parquet' : 'ndjson.gz'), dlq: new DryRunDlq() } : undefined;
  const onlyShard = opts.start.kind === 'sequence' ? opts.start.shard : undefined;
  const wrap = (inner: Source) =>
    new BoundedSource(inner, {
      end: opts.end,
      startedAt,
      idleMs: opts.idleMs,
      ...(onlyShard ? { onlyShard } : {}),
      ...(source.type === 'dynamodb' && fromMs !== undefined ? { startFilter: { kind: 'timestamp' as const, ms: fromMs } } : {}),
      onProgress: ({ records, latestTime }) =>
        opts.progress?.update({
          records,
          ...(fromMs !== undefined && endMs !== undefined && latestTime !== undefined ? { fraction: Math.min(1, Math.max(0, (latestTime - fromMs) / Math.max(1, endMs - fromMs))) } : {}),
        }),
    });
  const runtime = await composeRuntime(replayConfig, { log: opts.log, metrics: opts.metrics }, { checkpoints, wrapSource: wrap, ...(dry ? { sinks: dry, catalog: NO_CATALOG } : {}) });
  try {
    const summary = await buildPipeline(runtime.ports, runtime.options).start().done;
    return dry ? { ...summary, plannedObjects: dry.sink.objects } : summary;
  } finally {
    opts.progress?.stop();
    await runtime.close();
  }
}
