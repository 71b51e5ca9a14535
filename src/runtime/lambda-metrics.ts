import type { Labels, MetricName, Metrics } from '../core/metrics.js';

/** CloudWatch accepts at most 100 values per metric in one EMF document. */
const MAX_VALUES = 100;
export const EMF_NAMESPACE = 'InventoryIntegrator';

/**
 * Metrics for the Lambda mode, where nobody scrapes /metrics: counts accumulate during an
 * invocation and leave as one CloudWatch Embedded Metric Format line on stdout at its end
 * (Lambda ships stdout to CloudWatch Logs, which extracts the metrics). Names are METRIC's;
 * labels are summed away except the dimensions the line is written with (source, stream),
 * which keeps the line small and the metric count bounded.
 */
export class EmfMetrics implements Metrics {
  private counters = new Map<string, number>();
  private values = new Map<string, number[]>();
  private gauges = new Map<string, number>();

  inc(name: MetricName, _labels?: Labels, value = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + value);
  }

  observe(name: MetricName, value: number): void {
    let list = this.values.get(name);
    if (!list) this.values.set(name, (list = []));
    // Beyond the cap the sample keeps its first values; counters stay exact.
    if (list.length < MAX_VALUES) list.push(value);
  }

  set(name: MetricName, value: number): void {
    this.gauges.set(name, value);
  }

  /** The EMF document of what was counted since the last flush (undefined when nothing was), and a reset. */
  flush(dimensions: Readonly<Record<string, string>>, timestamp: number = Date.now()): string | undefined {
    const doc: Record<string, unknown> = { ...dimensions };
    const defs: Array<{ Name: string; Unit: string }> = [];
    for (const [name, v] of this.counters) {
      doc[name] = v;
      defs.push({ Name: name, Unit: 'Count' });
    }
    for (const [name, list] of this.values) {
      if (list.length === 0) continue;
      doc[name] = list;
      defs.push({ Name: name, Unit: name.endsWith('_seconds') ? 'Seconds' : 'None' });
    }
    for (const [name, v] of this.gauges) {
      doc[name] = v;
      defs.push({ Name: name, Unit: 'None' });
    }
    this.counters = new Map();
    this.values = new Map();
    this.gauges = new Map();
    if (defs.length === 0) return undefined;
    doc._aws = {
      Timestamp: timestamp,
      CloudWatchMetrics: [{ Namespace: EMF_NAMESPACE, Dimensions: [Object.keys(dimensions)], Metrics: defs }],
    };
    return JSON.stringify(doc);
  }
}
