/**
 * Every metric name the service reports, kept in one place so dashboards and alerts do not chase
 * renames. The core only sees this small interface; observability/ backs it with prom-client.
 */
export const METRIC = {
  received: 'integrator_events_received_total',
  written: 'integrator_events_written_total',
  deadLettered: 'integrator_events_dead_lettered_total',
  dropped: 'integrator_events_dropped_total',
  batchRecords: 'integrator_batch_records',
  batchBytes: 'integrator_batch_bytes',
  flushSeconds: 'integrator_flush_seconds',
  eventToLakeSeconds: 'integrator_event_to_lake_seconds',
  objectsWritten: 'integrator_objects_written_total',
  sinkRetries: 'integrator_sink_retries_total',
  sinkFailures: 'integrator_sink_failures_total',
  bufferedBytes: 'integrator_buffered_bytes',
  inFlightRecords: 'integrator_in_flight_records',
  checkpointsCommitted: 'integrator_checkpoints_committed_total',
  checkpointLagRecords: 'integrator_checkpoint_lag_records',
  iteratorAgeMs: 'integrator_iterator_age_ms',
  enrichCacheHits: 'integrator_enrichment_cache_hits_total',
  enrichCacheMisses: 'integrator_enrichment_cache_misses_total',
  enrichQueries: 'integrator_enrichment_queries_total',
  enrichFailures: 'integrator_enrichment_failures_total',
  catalogCalls: 'integrator_catalog_calls_total',
  catalogFailures: 'integrator_catalog_failures_total',
  curatedRuns: 'integrator_curated_job_runs_total',
  leasesHeld: 'integrator_leases_held',
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

export type Labels = Readonly<Record<string, string>>;

export interface Metrics {
  inc(name: MetricName, labels?: Labels, value?: number): void;
  observe(name: MetricName, value: number, labels?: Labels): void;
  set(name: MetricName, value: number, labels?: Labels): void;
}

/** Counts in memory; what tests, the bench and the demo summary read. */
export class MemoryMetrics implements Metrics {
  readonly counters = new Map<string, number>();
  readonly gauges = new Map<string, number>();
  readonly observations = new Map<string, number[]>();

  private static key(name: string, labels?: Labels): string {
    if (!labels) return name;
    const parts = Object.keys(labels)
      .sort()
      .map((k) => `${k}=${labels[k]}`);
    return `${name}{${parts.join(',')}}`;
  }

  inc(name: MetricName, labels?: Labels, value = 1): void {
    const k = MemoryMetrics.key(name, labels);
    this.counters.set(k, (this.counters.get(k) ?? 0) + value);
  }

  observe(name: MetricName, value: number, labels?: Labels): void {
    const k = MemoryMetrics.key(name, labels);
    let list = this.observations.get(k);
    if (!list) this.observations.set(k, (list = []));
    if (list.length < 100_000) list.push(value);
  }

  set(name: MetricName, value: number, labels?: Labels): void {
    this.gauges.set(MemoryMetrics.key(name, labels), value);
  }

  /** Sum of a counter over all label sets. */
  total(name: MetricName): number {
    let sum = 0;
    for (const [k, v] of this.counters) if (k === name || k.startsWith(`${name}{`)) sum += v;
    return sum;
  }
}

export const NO_METRICS: Metrics = { inc() {}, observe() {}, set() {} };
