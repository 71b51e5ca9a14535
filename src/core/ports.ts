import type { Observable } from 'rxjs';
import type { Envelope, RawPayload } from './envelope.js';
import type { ErrorCode } from './errors.js';
import type { FlowGate } from './flow-gate.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { ChangeList } from './change-columns.js';
import type { Enrichment, InventoryChange } from './model.js';
import type { Position, SourceKind } from './position.js';

// ---------------------------------------------------------------- sources

export interface SourceContext {
  readonly gate: FlowGate;
  readonly log: Logger;
  readonly metrics: Metrics;
  /**
   * Flushes the open batches of the given shards (shard keys from `shardKey`; all when omitted)
   * and resolves once everything received from them so far is delivered and committed. Kafka
   * calls it before its partitions are revoked.
   */
  flush(shardKeys?: readonly string[]): Promise<void>;
}

export interface Source {
  readonly kind: SourceKind;
  /**
   * Emits polls: chunks of envelopes, each shard's envelopes in stream order. Completes when a
   * finite source is exhausted, or after `stop()`.
   */
  open(ctx: SourceContext): Observable<readonly Envelope[]>;
  /**
   * The highest contiguous position of a shard whose records are all delivered (written to the
   * lake or the DLQ). Never called before the write. Persist it; for a closed shard whose last
   * record this is, mark the shard finished so its children may start.
   */
  commit(position: Position): Promise<void>;
  /** Stop fetching; `open()`'s observable completes once what was fetched has been emitted. */
  stop(): Promise<void>;
  /** For /readyz: connected, and when it last made progress. */
  health?(): SourceHealth;
}

export interface SourceHealth {
  readonly connected: boolean;
  readonly lastPollAt?: number;
  readonly shards?: number;
  readonly detail?: string;
}

// ---------------------------------------------------------------- checkpoints and leases

/** Checkpoint sequence that marks a closed shard as fully delivered. */
export const SHARD_END = 'SHARD_END';

export interface Checkpoint {
  readonly source: SourceKind;
  readonly stream: string;
  readonly shard: string;
  /** Last delivered sequence, or SHARD_END. */
  readonly seq: string;
  readonly sub?: number;
  readonly updatedAt: number;
}

export interface CheckpointStore {
  get(source: SourceKind, stream: string, shard: string): Promise<Checkpoint | undefined>;
  list(source?: SourceKind, stream?: string): Promise<readonly Checkpoint[]>;
  /** Moves a checkpoint forward (or anywhere, for `checkpoints set`). */
  put(cp: Omit<Checkpoint, 'updatedAt'>): Promise<void>;
  delete(source: SourceKind, stream: string, shard: string): Promise<void>;
  close?(): Promise<void>;
}

export interface ShardInfo {
  readonly shard: string;
  /** Parent and adjacent parent after a split or merge; they must finish first. */
  readonly parents: readonly string[];
  /** Closed shards have an ending sequence number. */
  readonly closed?: boolean;
}

export interface OwnedShard {
  readonly shard: string;
  /** Where to resume: the checkpointed sequence (read after it), or undefined to use the configured start. */
  readonly checkpoint?: { readonly seq: string; readonly sub?: number };
}

/**
 * Which shards this worker may read (Kinesis and DynamoDB Streams). A single worker owns all;
 * the DynamoDB lease table shares them among workers, KCL-style.
 */
export interface LeaseCoordinator {
  /** Registers the shards that exist now (idempotent). */
  syncShards(source: SourceKind, stream: string, shards: readonly ShardInfo[]): Promise<void>;
  /** Takes and renews leases; returns the shards this worker holds whose parents are finished. */
  claim(source: SourceKind, stream: string): Promise<readonly OwnedShard[]>;
  /** Records delivery; throws IntegratorError LEASE_LOST when another worker holds the shard now. */
  checkpoint(position: Position): Promise<void>;
  /** Marks a closed shard finished (SHARD_END) so its children can be claimed. */
  finishShard(source: SourceKind, stream: string, shard: string): Promise<void>;
  /** Whether this worker still holds the shard (checked before each fetch). */
  holds(source: SourceKind, stream: string, shard: string): boolean;
  /** Gives every lease back (after the final checkpoint, on graceful shutdown). */
  releaseAll(): Promise<void>;
}

// ---------------------------------------------------------------- enrichment

export interface EnrichmentRejection {
  readonly eventId: string;
  readonly code: ErrorCode;
  readonly reason: string;
}

export interface EnrichResult {
  /** Changes to write, with `enrichment` filled; in input order. */
  readonly enriched: readonly InventoryChange[];
  /** Changes the policy sends to the DLQ instead (policy `dlq`). */
  readonly rejected: readonly EnrichmentRejection[];
}

/** Per change, by index: the enrichment to write it with, or why the policy rejects it. */
export type EnrichOutcome = Enrichment | EnrichmentRejection;

export const isRejection = (o: EnrichOutcome): o is EnrichmentRejection => 'code' in o;

export interface Enricher {
  /** One call per micro-batch: at most one query per lookup table, never one per event. */
  enrich(changes: readonly InventoryChange[]): Promise<EnrichResult>;
  /**
   * Optional: the same lookups answered by index, one outcome per change. The pipeline prefers
   * it: it sets each enrichment on the change it decoded, where enrich() copies every change
   * (copies that live until their batch is written, which the young-generation GC copies again).
   */
  enrichEach?(changes: readonly InventoryChange[]): Promise<readonly EnrichOutcome[]>;
  /**
   * True when enrich() returns its input as is (changes are normalized NOT_ENRICHED already):
   * the pipeline then does not call it.
   */
  readonly passThrough?: boolean;
  close(): Promise<void>;
}

// ---------------------------------------------------------------- sinks

export interface PartitionRef {
  /** Hive path below the table, e.g. "dt=2026-11-21/hour=13". */
  readonly path: string;
  /** Partition column values in key order, e.g. { dt: '2026-11-21', hour: '13' }. */
  readonly values: Readonly<Record<string, string>>;
}

export interface OutputBatch {
  readonly partition: PartitionRef;
  /**
   * Every record of a batch comes from one shard, so its object key can name the range. The
   * pipeline hands over ChangeColumns (see change-columns.ts); a plain array also qualifies.
   */
  readonly records: ChangeList;
  readonly first: Position;
  readonly last: Position;
  /** Approximate payload bytes. */
  readonly bytes: number;
}

export interface WrittenObject {
  readonly key: string;
  readonly records: number;
  readonly bytes: number;
  readonly partition: PartitionRef;
}

export interface Sink {
  /**
   * Writes one batch as one object with a key derived from its positions; retries inside. The
   * batch's records are the pipeline's once the promise settles (their memory is reused): a
   * sink that keeps them copies them.
   */
  write(batch: OutputBatch): Promise<WrittenObject>;
  close(): Promise<void>;
}

export interface DeadLetter {
  readonly position: Position;
  readonly code: ErrorCode;
  readonly reason: string;
  readonly payload: RawPayload;
  readonly receivedAt: number;
}

export interface DeadLetterSink {
  /** Writes letters of one shard, in order, durably; retries inside. */
  write(letters: readonly DeadLetter[]): Promise<void>;
  close(): Promise<void>;
}

/** Where objects land: a local directory or an S3 bucket. */
export interface ObjectStore {
  /** Human-readable location for logs, e.g. "s3://bucket/prefix" or a directory. */
  readonly location: string;
  put(key: string, body: Buffer): Promise<void>;
  /** Moves a finished local file into place (rename for a directory, upload for S3). */
  putFile(key: string, localPath: string): Promise<void>;
  get(key: string): Promise<Buffer | undefined>;
  list(prefix: string): Promise<readonly string[]>;
}

// ---------------------------------------------------------------- catalog

export interface CommittedPartition {
  readonly table: string;
  readonly partition: PartitionRef;
  readonly objects: readonly WrittenObject[];
  readonly minEventTime: number;
  readonly maxEventTime: number;
}

export interface Catalog {
  /**
   * Partitions whose objects are written and checkpointed, and the event-time low watermark.
   * Must not throw: a catalog failure never blocks checkpoints; retry and report inside.
   */
  partitionsCommitted(parts: readonly CommittedPartition[], watermarkMs: number): Promise<void>;
  close(): Promise<void>;
}
