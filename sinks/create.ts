import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../src/core/logger.js';
import type { Metrics } from '../src/core/metrics.js';
import type { DeadLetterSink, ObjectStore, Sink } from '../src/core/ports.js';
import type { SinkConfig } from './config.js';
import { DlqSink } from './dlq-sink.js';
import type { Encoder } from './encoding/encoder.js';
import { NdjsonGzEncoder } from './encoding/ndjson.js';
import { ParquetEncoder } from './encoding/parquet.js';
import { FileObjectStore } from './file/store.js';
import { LakeSink } from './lake-sink.js';
import { createS3Client } from './s3/client.js';
import { type S3Api, S3ObjectStore } from './s3/store.js';

export interface SinkDeps {
  /** An S3 client to use instead of one built from `config.aws` (tests, emulators). */
  readonly s3?: S3Api;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Where S3 sinks encode files before upload; file sinks use `<dir>/.tmp` (same filesystem). */
  readonly tmpDir?: string;
  /** Parquet batches encoded at once (DuckDB connections); defaults to 8. */
  readonly encodeConcurrency?: number;
}

export interface Sinks {
  readonly sink: Sink;
  readonly dlq: DeadLetterSink;
  readonly store: ObjectStore;
  close(): Promise<void>;
}

function createEncoder(config: SinkConfig, deps: SinkDeps): Encoder {
  return config.format === 'parquet' ? new ParquetEncoder({ compression: config.compression, maxConcurrency: deps.encodeConcurrency }) : new NdjsonGzEncoder();
}

/** Builds the lake sink, the dead-letter sink and their store from the `sink` config section. */
export function createSinks(config: SinkConfig, deps: SinkDeps): Sinks {
  const log = deps.log.child({ component: 'sink', type: config.type });
  let store: ObjectStore;
  let tmp: string;
  let destroyClient = (): void => {};
  if (config.type === 'file') {
    const fileStore = new FileObjectStore(config.dir);
    store = fileStore;
    tmp = fileStore.tmpDir;
  } else {
    const client = deps.s3 ?? createS3Client(config.aws, config.forcePathStyle);
    if (!deps.s3) destroyClient = () => (client as { destroy?: () => void }).destroy?.();
    store = new S3ObjectStore({
      client,
      bucket: config.bucket,
      prefix: config.prefix,
      partSizeBytes: config.partSizeBytes,
      serverSideEncryption: config.serverSideEncryption,
      kmsKeyId: config.kmsKeyId,
      metrics: deps.metrics,
      log,
    });
    tmp = deps.tmpDir ?? join(tmpdir(), `inventory-integrator-${process.pid}`);
  }
  const sink = new LakeSink({ encoder: createEncoder(config, deps), store, table: config.table, tmpDir: tmp, metrics: deps.metrics, log });
  const dlq = new DlqSink({ store, prefix: config.dlqPrefix, metrics: deps.metrics, log });
  return {
    sink,
    dlq,
    store,
    async close() {
      await sink.close();
      await dlq.close();
      destroyClient();
    },
  };
}
