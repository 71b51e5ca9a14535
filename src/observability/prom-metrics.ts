import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { type Labels, METRIC, type MetricName, type Metrics } from '../core/metrics.js';

const HELP: Record<MetricName, string> = {
  [METRIC.received]: 'records read from a source',
  [METRIC.written]: 'records written to the lake',
  [METRIC.deadLettered]: 'records sent to the DLQ, by reason code',
  [METRIC.dropped]: 'records dropped (should stay 0)',
  [METRIC.batchRecords]: 'records per written object',
  [METRIC.batchBytes]: 'payload bytes per written object',
  [METRIC.flushSeconds]: 'time to encode and store one batch',
  [METRIC.eventToLakeSeconds]: 'from reading a record to its object being stored',
  [METRIC.objectsWritten]: 'objects written to the lake',
  [METRIC.sinkRetries]: 'failed writes that will be retried',
  [METRIC.sinkFailures]: 'writes that failed for good',
  [METRIC.bufferedBytes]: 'bytes held in open batches',
  [METRIC.inFlightRecords]: 'records received and not yet delivered',
  [METRIC.checkpointsCommitted]: 'checkpoints written',
  [METRIC.checkpointLagRecords]: 'records received and not yet covered by a checkpoint',
  [METRIC.iteratorAgeMs]: 'how far behind the tip of the stream a shard reader is',
  [METRIC.enrichCacheHits]: 'enrichment cache hits',
  [METRIC.enrichCacheMisses]: 'enrichment cache misses',
  [METRIC.enrichQueries]: 'enrichment queries sent to the database',
  [METRIC.enrichFailures]: 'enrichment lookups that failed',
  [METRIC.catalogCalls]: 'catalog API calls',
  [METRIC.catalogFailures]: 'catalog API calls that failed',
  [METRIC.curatedRuns]: 'curated job runs, by final state',
  [METRIC.leasesHeld]: 'shard leases this worker holds',
};

const HISTOGRAMS = new Set<MetricName>([METRIC.batchRecords, METRIC.batchBytes, METRIC.flushSeconds, METRIC.eventToLakeSeconds]);
const GAUGES = new Set<MetricName>([METRIC.bufferedBytes, METRIC.inFlightRecords, METRIC.checkpointLagRecords, METRIC.iteratorAgeMs, METRIC.leasesHeld]);

const BUCKETS: Partial<Record<MetricName, number[]>> = {
  [METRIC.batchRecords]: [1, 10, 100, 1000, 10_000, 100_000, 1_000_000],
  [METRIC.batchBytes]: [1e3, 1e4, 1e5, 1e6, 1e7, 1e8],
  [METRIC.flushSeconds]: [0.005, 0.02, 0.05, 0.1, 0.5, 1, 5, 30],
  [METRIC.eventToLakeSeconds]: [0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
};

/**
 * Every label name any component may use. prom-client fixes a metric's label names at creation
 * and throws on others, so each metric declares them all and unknown names are dropped rather
 * than crashing the service over a metric.
 */
const LABEL_NAMES = ['source', 'stream', 'shard', 'code', 'reason', 'lookup', 'table', 'retriable', 'state', 'operation', 'result', 'kind'] as const;
const KNOWN = new Set<string>(LABEL_NAMES);

function clean(labels: Labels | undefined): Record<string, string> | undefined {
  if (!labels) return undefined;
  const out: Record<string, string> = {};
  for (const k in labels) if (KNOWN.has(k)) out[k] = labels[k]!;
  return out;
}

/** Metrics in Prometheus form. */
export class PromMetrics implements Metrics {
  readonly registry = new Registry();
  private readonly metrics = new Map<string, Counter | Gauge | Histogram>();

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  private get(name: MetricName): Counter | Gauge | Histogram {
    let m = this.metrics.get(name);
    if (!m) {
      const base = { name, help: HELP[name], labelNames: LABEL_NAMES, registers: [this.registry] };
      m = HISTOGRAMS.has(name) ? new Histogram({ ...base, buckets: BUCKETS[name] ?? [] }) : GAUGES.has(name) ? new Gauge(base) : new Counter(base);
      this.metrics.set(name, m);
    }
    return m;
  }

  inc(name: MetricName, labels?: Labels, value = 1): void {
    const m = this.get(name) as Counter;
    const l = clean(labels);
    l ? m.inc(l, value) : m.inc(value);
  }

  observe(name: MetricName, value: number, labels?: Labels): void {
    const m = this.get(name) as Histogram;
    const l = clean(labels);
    l ? m.observe(l, value) : m.observe(value);
  }

  set(name: MetricName, value: number, labels?: Labels): void {
    const m = this.get(name) as Gauge;
    const l = clean(labels);
    l ? m.set(l, value) : m.set(value);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/** Reports to several sinks at once (Prometheus for scraping, memory for summaries). */
export class FanOutMetrics implements Metrics {
  constructor(private readonly targets: readonly Metrics[]) {}
  inc(name: MetricName, labels?: Labels, value?: number): void {
    for (const t of this.targets) t.inc(name, labels, value);
  }
  observe(name: MetricName, value: number, labels?: Labels): void {
    for (const t of this.targets) t.observe(name, value, labels);
  }
  set(name: MetricName, value: number, labels?: Labels): void {
    for (const t of this.targets) t.set(name, value, labels);
  }
}
