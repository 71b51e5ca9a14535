import { describe, expect, it } from 'vitest';
import { METRIC } from '../core/metrics.js';
import { PromMetrics } from './prom-metrics.js';

describe('PromMetrics', () => {
  it('renders counters, gauges and histograms, whatever label subsets callers use', async () => {
    const m = new PromMetrics({ defaultMetrics: false });
    m.inc(METRIC.received, { source: 'kinesis', shard: 's/1' }, 3);
    m.inc(METRIC.received, { source: 'kafka' });
    m.inc(METRIC.received, { bogus: 'x' });
    m.set(METRIC.iteratorAgeMs, 1500, { shard: 's/1' });
    m.observe(METRIC.flushSeconds, 0.2);
    const text = await m.text();
    expect(text).toContain('integrator_events_received_total{source="kinesis",shard="s/1"} 3');
    expect(text).toContain('integrator_events_received_total{source="kafka"} 1');
    expect(text).toContain('integrator_iterator_age_ms{shard="s/1"} 1500');
    expect(text).toMatch(/integrator_flush_seconds_count 1/);
  });
});
