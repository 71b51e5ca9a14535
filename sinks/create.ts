import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAdapter } from '../src/core/load-adapter.js';
import type { Logger } from '../src/core/logger.js';
import type { Metrics } from '../src/core/metrics.js';
import type { DeadLetterSink, ObjectStore, Sink } from '../src/core/ports.js';
import type { FileSinkConfig, S3SinkConfig, SinkConfig } from './config.js';
import { DlqSink } from './dlq-sink.js';
import type { Encoder } from './encoding/encoder.js';
import { NdjsonGzEncoder } from './encoding/ndjson.js';
import { FileObjectStore } from './file/store.js';
import { LakeSink } from './lake-sink.js';
import type { S3Api } from './s3/store.js';

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

/** A store, where files are encoded before they are put in it, and what closing it takes. */
interface OpenedStore {
  readonly store: ObjectStore;
  readonly tmpDir: string;
  readonly close: () => Promise<void>;
}

function openFileStore(config: FileSinkConfig): OpenedStore {
  const store = new FileObjectStore(config.dir);
  return { store, tmpDir: store.tmpDir, close: async () => {} };
}

/** Loaded only for an S3 lake: it brings the AWS SDK (~20 MB), which a local lake never needs. */
async function openS3Store(config: S3SinkConfig, deps: SinkDeps, log: Logger): Promise<OpenedStore> {
  const [{ createS3Client }, { S3ObjectStore }] = await loadAdapter('sink.type "s3"', () => Promise.all([import('./s3/client.js'), import('./s3/store.js')]));
  const client = deps.s3 ?? createS3Client(config.aws, config.forcePathStyle);
  const store = new S3ObjectStore({
    client,
    bucket: config.bucket,
    prefix: config.prefix,
    partSizeBytes: config.partSizeBytes,
    serverSideEncryption: config.serverSideEncryption,
    kmsKeyId: config.kmsKeyId,
    metrics: deps.metrics,
    log,
  });
  // Our own scratch folder, one per sink (a replay beside the service gets its own), removed on
  // close so that runs do not leave one behind each in /tmp. An injected folder is the caller's.
  const tmpDir = deps.tmpDir ?? join(tmpdir(), `inventory-integrator-${process.pid}-${randomUUID().slice(0, 8)}`);
  const close = async () => {
    // An injected client belongs to the caller.
    if (!deps.s3) (client as { destroy?: () => void }).destroy?.();
    if (deps.tmpDir === undefined) await rm(tmpDir, { recursive: true, force: true });
  };
  return { store, tmpDir, close };
}

/** Parquet brings DuckDB (~35 MB): imported only when the format asks for it. */
async function createEncoder(config: SinkConfig, deps: SinkDeps): Promise<Encoder> {
  if (config.format === 'ndjson') return new NdjsonGzEncoder();
  const { ParquetEncoder } = await loadAdapter('sink.format "parquet"', () => import('./encoding/parquet.js'));
  return new ParquetEncoder({ compression: config.compression, maxConcurrency: deps.encodeConcurrency });
}

/**
 * Builds the lake sink, the dead-letter sink and their store from the `sink` config section.
 * The S3 store and the Parquet encoder are imported only when configured.
 */
export async function createSinks(config: SinkConfig, deps: SinkDeps): Promise<Sinks> {
  const log = deps.log.child({ component: 'sink', type: config.type });
  // The encoder first: it holds nothing until its first batch, whereas a store may hold a client.
  const encoder = await createEncoder(config, deps);
  const opened = config.type === 'file' ? openFileStore(config) : await openS3Store(config, deps, log);
  const { store, tmpDir } = opened;
  const sink = new LakeSink({ encoder, store, table: config.table, tmpDir, metrics: deps.metrics, log });
  const dlq = new DlqSink({ store, prefix: config.dlqPrefix, metrics: deps.metrics, log });
  return {
    sink,
    dlq,
    store,
    async close() {
      await sink.close();
      await dlq.close();
      await opened.close();
    },
  };
}
