import { asyncScheduler, lastValueFrom, map, mergeMap, type SchedulerLike, Subject, defaultIfEmpty, merge, ignoreElements, finalize } from 'rxjs';
import { availableParallelism } from 'node:os';
import type { Envelope } from '../core/envelope.js';
import { ManualGate } from '../core/flow-gate.js';
import type { Logger } from '../core/logger.js';
import { METRIC, type Metrics } from '../core/metrics.js';
import { type InventoryChange, NOT_ENRICHED } from '../core/model.js';
import type { Catalog, DeadLetter, DeadLetterSink, Enricher, Sink, Source, SourceContext } from '../core/ports.js';
import type { BatchingConfig, PartitioningConfig } from '../config/schema.js';
import type { Position } from '../core/position.js';
import { type BatchItem, batchByPartition, type FlushRequest, type PendingBatch } from './batch.js';
import type { DecodeResult } from './decode/types.js';
import { decodeFailure } from './decode/types.js';
import { DeliveryLedger } from './delivery-ledger.js';
import { enrichPoll } from './enrich.js';
import { DecodePool } from './decode/decode-pool.js';
import type { NormalizeOptions } from './normalize.js';
import { Partitioner } from './partition.js';
import { deliverWithRetry } from './deliver.js';
import { orderedMergeMap } from './ordered-merge-map.js';

export interface PipelinePorts {
  readonly source: Source;
  readonly enricher: Enricher;
  readonly sink: Sink;
  readonly dlq: DeadLetterSink;
  readonly catalog: Catalog;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Drives batch ages; a TestScheduler in marble tests. */
  readonly scheduler?: SchedulerLike;
  readonly now?: () => number;
}

export interface PipelineOptions {
  /** Raw table name: the first folder of every object key and the catalog table. */
  readonly table: string;
  readonly batching: BatchingConfig;
  readonly partitioning: PartitioningConfig;
  readonly maxRecordBytes: number;
  readonly decodeDynamoDb?: (record: unknown) => DecodeResult;
}

export interface PipelineSummary {
  readonly received: number;
  readonly written: number;
  readonly deadLettered: number;
  readonly objects: number;
  readonly partitions: number;
  readonly commits: number;
}

export interface RunningPipeline {
  /** Settles when the source has ended and everything received is delivered and checkpointed. */
  readonly done: Promise<PipelineSummary>;
  /** Stops reading, flushes open batches, commits, and resolves with the summary. */
  stop(): Promise<PipelineSummary>;
  /** Flushes open batches (of some shards) and waits until they are checkpointed. */
  flush(shardKeys?: readonly string[]): Promise<void>;
  stats(): PipelineSummary & { inFlight: number; watermark: number; lagByShard: Record<string, number> };
}

/**
 * Memory a buffered record holds beyond its text (counted as its payload size, an upper bound):
 * its ChangeColumns slots (~90 B), the ledger's sequence and flag, the batch index. Measured on
 * Node 20 at about 250 B; an underestimate lets the budget overshoot, which is the one thing a
 * budget must not do.
 */
const RECORD_OVERHEAD_BYTES = 300;

const shardLabels = (p: Position) => ({ source: p.source, shard: `${p.stream}/${p.shard}` });

type ReceivedPoll = Array<{ readonly env: Envelope; readonly shardKey: string; readonly index: number }>;
type DecodedPoll = Array<{ readonly r: ReceivedPoll[number]; readonly change: InventoryChange }>;

/**
 * 'auto': none below four cores, where the second core is DuckDB's and a worker only adds the
 * cost of moving results between threads (measured: more CPU in all, 150 MB more memory); above,
 * one per two cores beyond the first two, at most two.
 */
const decodeWorkerCount = (n: number | 'auto'): number => (n === 'auto' ? Math.min(2, Math.max(0, Math.floor((availableParallelism() - 2) / 2))) : n);

export interface LetterGroup {
  readonly shardKey: string;
  readonly letters: DeadLetter[];
  readonly indices: number[];
}

/**
 * The one pipeline every run mode uses:
 * source → normalize → enrich → partition → batch → sink → ack → checkpoint → catalog.
 */
export function buildPipeline(ports: PipelinePorts, options: PipelineOptions): { start(): RunningPipeline } {
  return { start: () => start(ports, options) };
}

function start(ports: PipelinePorts, options: PipelineOptions): RunningPipeline {
  const { source, log, metrics } = ports;
  const scheduler = ports.scheduler ?? asyncScheduler;
  const now = ports.now ?? Date.now;
  const b = options.batching;
  const gate = new ManualGate();
  /**
   * Records received and not yet normalized and batched. Sources also wait while a quarter of
   * the in-flight allowance is queued raw: a queued record holds its payload (and the read
   * buffer it is a view of), which costs far more memory than a batched record.
   */
  let unprocessed = 0;
  const maxUnprocessed = Math.max(1000, b.maxInFlightRecords / 4);
  const decoder = new DecodePool(decodeWorkerCount(b.decodeWorkers), log);
  const updateGate = () => gate.set(ledger.inFlight < b.maxInFlightRecords && unprocessed < maxUnprocessed);
  const ledger = new DeliveryLedger(source, ports.catalog, options.table, log, metrics, updateGate);
  const partitioner = new Partitioner(options.partitioning.extraKeys);
  const flushRequests = new Subject<FlushRequest>();
  const letters$ = new Subject<LetterGroup>();
  const norm: NormalizeOptions = {
    maxRecordBytes: options.maxRecordBytes,
    decodeDynamoDb: options.decodeDynamoDb ?? (() => decodeFailure('RECORD_INVALID', 'DynamoDB stream records are not decodable in this configuration')),
    now,
  };
  let written = 0;
  let deadLettered = 0;
  let objects = 0;
  let stopping = false;

  const flush = async (shardKeys?: readonly string[]): Promise<void> => {
    await new Promise<void>((resolve) => flushRequests.next({ shardKeys, done: resolve }));
    await ledger.whenCommitted(shardKeys);
  };

  const ctx: SourceContext = { gate, log, metrics, flush };

  /**
   * Receipt is synchronous and in arrival order, so the ledger numbers each shard's records in
   * stream order and the in-flight count (the sources' gate) includes polls still waiting for
   * their enrichment.
   */
  const receivePoll = (poll: readonly Envelope[]): ReceivedPoll => {
    const received: ReceivedPoll = [];
    const perShard = new Map<string, { labels: { source: string; shard: string }; n: number }>();
    let last: { key: string; count: { n: number } } | undefined;
    for (const env of poll) {
      const { shardKey, index } = ledger.receive(env.position);
      received.push({ env, shardKey, index });
      if (last?.key !== shardKey) {
        let c = perShard.get(shardKey);
        if (!c) perShard.set(shardKey, (c = { labels: shardLabels(env.position), n: 0 }));
        last = { key: shardKey, count: c };
      }
      last.count.n++;
    }
    for (const c of perShard.values()) metrics.inc(METRIC.received, c.labels, c.n);
    unprocessed += received.length;
    updateGate();
    return received;
  };

  const letterGroups = () => {
    const groups = new Map<string, LetterGroup>();
    const add = (shardKey: string, index: number, l: DeadLetter) => {
      let g = groups.get(shardKey);
      if (!g) groups.set(shardKey, (g = { shardKey, letters: [], indices: [] }));
      g.letters.push(l);
      g.indices.push(index);
    };
    const send = () => {
      for (const g of groups.values()) letters$.next(g);
    };
    return { add, send };
  };

  const decodePoll = async (received: ReceivedPoll): Promise<{ records: DecodedPoll; received: number }> => {
    const normalized = await decoder.normalizeAll(
      received.map((r) => r.env),
      norm,
    );
    const good: DecodedPoll = [];
    const letters = letterGroups();
    normalized.forEach((n, k) => {
      const r = received[k]!;
      if (n.ok) good.push({ r, change: n.change });
      else letters.add(r.shardKey, r.index, n.letter);
    });
    letters.send();
    return { records: good, received: received.length };
  };

  const processPoll = async (good: { records: DecodedPoll; received: number }): Promise<BatchItem[]> => {
    try {
      return await enrichDecoded(good.records);
    } finally {
      unprocessed -= good.received;
      updateGate();
    }
  };

  const itemOf = (r: ReceivedPoll[number], change: InventoryChange): BatchItem => ({
    change,
    position: r.env.position,
    shardKey: r.shardKey,
    index: r.index,
    size: r.env.size + RECORD_OVERHEAD_BYTES,
    partition: partitioner.partitionOf(change),
  });

  const enrichDecoded = async (good: DecodedPoll): Promise<BatchItem[]> => {
    const letters = letterGroups();
    const letter = letters.add;
    const items: BatchItem[] = [];
    if (good.length > 0 && ports.enricher.passThrough && good.every((g) => g.change.enrichment === NOT_ENRICHED)) {
      // Nothing to look up: the changes go to the batcher as normalized.
      for (const { r, change } of good) items.push(itemOf(r, change));
    } else if (good.length > 0) {
      const outcome = await enrichPoll(ports.enricher, good.map((g) => g.change), b.enrichBatchRecords, log, metrics);
      for (let k = 0; k < good.length; k++) {
        const { r } = good[k]!;
        const enriched = outcome.enriched[k];
        if (enriched) items.push(itemOf(r, enriched));
        else {
          const rej = outcome.rejected[k];
          letter(r.shardKey, r.index, {
            position: r.env.position,
            code: rej?.code ?? 'ENRICHMENT_FAILED',
            reason: rej?.reason ?? 'enricher returned neither the change nor a rejection',
            payload: r.env.payload,
            receivedAt: r.env.receivedAt,
          });
        }
      }
    }
    letters.send();
    return items;
  };

  const writeBatch = async (pb: PendingBatch): Promise<void> => {
    const object = await deliverWithRetry(() => ports.sink.write(pb.batch), `write ${pb.batch.partition.path} (${pb.batch.records.length} records)`, log, metrics);
    const recs = pb.batch.records;
    const done = now();
    for (const k of [0, recs.length >> 1, recs.length - 1]) {
      const r = recs.at(k);
      if (r) metrics.observe(METRIC.eventToLakeSeconds, (done - r.ingestTime) / 1000);
    }
    metrics.inc(METRIC.written, shardLabels(pb.batch.first), recs.length);
    written += recs.length;
    objects++;
    ledger.deliver(pb.shardKey, pb.indices, { object, minEventTime: recs.minEventTime, maxEventTime: recs.maxEventTime });
    recs.release();
  };

  const writeLetters = async (g: LetterGroup): Promise<void> => {
    await deliverWithRetry(() => ports.dlq.write(g.letters), `dead-letter ${g.letters.length} records of ${g.shardKey}`, log, metrics);
    for (const l of g.letters) {
      metrics.inc(METRIC.deadLettered, { ...shardLabels(l.position), code: l.code });
      log.warn({ position: l.position, code: l.code, reason: l.reason }, 'record sent to the DLQ');
    }
    deadLettered += g.letters.length;
    ledger.deliver(g.shardKey, g.indices);
  };

  const records$ = source.open(ctx).pipe(
    map(receivePoll),
    orderedMergeMap(decodePoll, decoder.concurrency),
    orderedMergeMap(processPoll, b.pollsInProgress),
    finalize(() => letters$.complete()),
    batchByPartition(
      { maxRecords: b.maxRecords, maxBytes: b.maxBytes, maxAgeMs: b.maxAgeMs, memoryBudgetBytes: b.memoryBudgetBytes, maxBufferedRecords: Math.floor(b.maxInFlightRecords / 2) },
      flushRequests,
      scheduler,
    ),
    mergeMap(writeBatch, b.writeConcurrency),
  );
  const letterWrites$ = letters$.pipe(mergeMap(writeLetters, 2));

  const summary = (): PipelineSummary => {
    const s = ledger.stats();
    return { received: s.received, written, deadLettered, objects, partitions: s.partitions, commits: s.commits };
  };

  const done = lastValueFrom(merge(letterWrites$, records$).pipe(ignoreElements(), defaultIfEmpty(undefined)))
    .finally(() => decoder.close())
    .then(async () => {
      await ledger.drain();
      const s = summary();
      log.info({ ...s, stopping }, 'pipeline finished');
      return s;
    });
  // The run mode that started the pipeline reports its failure (once): service, Lambda, replay.

  return {
    done,
    stop: async () => {
      stopping = true;
      await source.stop();
      return done;
    },
    flush,
    stats: () => ({ ...summary(), inFlight: ledger.inFlight, watermark: ledger.watermark(), lagByShard: ledger.lagByShard() }),
  };
}
