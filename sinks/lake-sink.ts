import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { IntegratorError } from '../src/core/errors.js';
import type { Logger } from '../src/core/logger.js';
import { METRIC, type Metrics } from '../src/core/metrics.js';
import type { ObjectStore, OutputBatch, Sink, WrittenObject } from '../src/core/ports.js';
import type { Encoder } from './encoding/encoder.js';
import { objectKey } from './key.js';

export interface LakeSinkOptions {
  readonly encoder: Encoder;
  readonly store: ObjectStore;
  /** Raw table name: the first folder of every key. */
  readonly table: string;
  /** Where files are encoded before they move into the store. */
  readonly tmpDir: string;
  readonly metrics: Metrics;
  readonly log: Logger;
}

/**
 * Writes each batch as one object: encode to a local temp file, then hand the file to the store
 * (rename into a directory, upload to S3) under the key its positions determine.
 */
export class LakeSink implements Sink {
  constructor(private readonly opts: LakeSinkOptions) {}

  async write(batch: OutputBatch): Promise<WrittenObject> {
    const { encoder, store, table, tmpDir, metrics, log } = this.opts;
    if (batch.records.length === 0) throw new IntegratorError('INTERNAL', `empty batch for partition ${batch.partition.path}: nothing to write`);
    const key = objectKey(table, batch, encoder.extension);
    const started = performance.now();
    await mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, `${randomUUID()}.${encoder.extension}`);
    let bytes: number;
    try {
      ({ bytes } = await encoder.encodeToFile(batch.records, tmp));
      await store.putFile(key, tmp);
    } finally {
      // Gone already after a rename; left behind only when something failed.
      await rm(tmp, { force: true });
    }
    const seconds = (performance.now() - started) / 1000;
    metrics.inc(METRIC.objectsWritten, { table });
    metrics.observe(METRIC.batchRecords, batch.records.length, { table });
    metrics.observe(METRIC.batchBytes, bytes, { table });
    metrics.observe(METRIC.flushSeconds, seconds, { table });
    log.debug({ key, records: batch.records.length, bytes, seconds }, 'object written');
    return { key, records: batch.records.length, bytes, partition: batch.partition };
  }

  async close(): Promise<void> {
    await this.opts.encoder.close();
  }
}
