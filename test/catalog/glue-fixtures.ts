import { GlueClient } from '@aws-sdk/client-glue';
import { mockClient } from 'aws-sdk-client-mock';
import { type GlueCatalogConfig, GlueCatalogConfig as Schema } from '../../src/catalog/config.js';
import { GlueCatalog } from '../../src/catalog/glue-catalog.js';
import { MemoryMetrics } from '../../src/core/metrics.js';
import type { CommittedPartition } from '../../src/core/ports.js';
import { MemoryLog } from './memory-log.js';

export const HOUR = 3_600_000;
export const T0 = Date.UTC(2026, 10, 21, 0, 0, 0);

/** The committed partition of hour `i` after T0 (extra keys appended to path and values). */
export function hourPartition(i: number, extra: Record<string, string> = {}, table = 'inventory_changes'): CommittedPartition {
  const iso = new Date(T0 + i * HOUR).toISOString();
  const values: Record<string, string> = { dt: iso.slice(0, 10), hour: iso.slice(11, 13), ...extra };
  const path = Object.entries(values)
    .map(([k, v]) => `${k}=${v}`)
    .join('/');
  const partition = { path, values };
  return {
    table,
    partition,
    objects: [{ key: `${table}/${path}/kinesis-s-0-1-9.parquet`, records: 9, bytes: 900, partition }],
    minEventTime: T0 + i * HOUR + 1000,
    maxEventTime: T0 + i * HOUR + 60_000,
  };
}

/** A GlueCatalog over a mocked client; backoff and polling do not wait. */
export function glueCatalog(config: Record<string, unknown> = {}, opts: { sleep?: (ms: number) => Promise<void> } = {}) {
  const client = new GlueClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  const glue = mockClient(client);
  const log = new MemoryLog();
  const metrics = new MemoryMetrics();
  const cfg: GlueCatalogConfig = Schema.parse({ type: 'glue', database: 'lake', retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 2 }, ...config });
  const catalog = new GlueCatalog(cfg, {
    glue: client,
    log,
    metrics,
    lakeRoot: 's3://lake-bucket/raw',
    table: 'inventory_changes',
    format: 'parquet',
    sleep: opts.sleep ?? (() => Promise.resolve()),
  });
  return { catalog, glue, log, metrics };
}

export const glueError = <T extends Error>(Ctor: new (o: { message: string; $metadata: object }) => T, message = 'injected'): T =>
  new Ctor({ message, $metadata: {} });
