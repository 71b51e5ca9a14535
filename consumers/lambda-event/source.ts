import type { _Record } from '@aws-sdk/client-kinesis';
import { Observable } from 'rxjs';
import type { Envelope } from '../../src/core/envelope.js';
import { IntegratorError } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import type { Source, SourceContext, SourceHealth } from '../../src/core/ports.js';
import { formatPosition, type Position, shardKey } from '../../src/core/position.js';
import { toEnvelopes } from '../kinesis/records.js';
import { type DynamoDbEventRecord, type KinesisEventRecord, type ParsedStreamEvent, parseStreamEvent, type StreamEventRecord } from './event.js';

/** What a Lambda stream handler returns with ReportBatchItemFailures on. */
export interface BatchItemFailure {
  readonly itemIdentifier: string;
}

interface Tracked {
  readonly position: Position;
  /** The sequence number of the Lambda record this envelope came from. */
  readonly itemIdentifier: string;
}

interface ShardLedger {
  /** Envelopes of this shard in stream order (several per KPL aggregate). */
  readonly entries: Tracked[];
  /** How many leading entries are delivered: what the pipeline's commits say. */
  delivered: number;
}

/**
 * A finite source made from one Lambda event: emits the event's records as one poll and
 * completes. Delivery is learnt only through `commit` (the pipeline's highest contiguous
 * delivered position per shard), and `failures()` turns what is not covered into the
 * `batchItemFailures` Lambda resumes from. The event source mapping keeps the stream position
 * itself, so nothing is persisted here.
 */
export class LambdaEventSource implements Source {
  readonly kind: 'kinesis' | 'dynamodb';
  /** The stream (or table) of the event's first record: a real event holds one. */
  readonly stream: string;
  private readonly envelopes: Envelope[] = [];
  private readonly shards = new Map<string, ShardLedger>();
  private opened = false;

  constructor(
    event: ParsedStreamEvent,
    private readonly log: Logger,
    receivedAt: number = Date.now(),
  ) {
    this.kind = event.kind;
    this.stream = event.records[0]?.stream ?? '';
    for (const group of shardRuns(event.records)) {
      const envs = event.kind === 'kinesis' ? kinesisEnvelopes(group, receivedAt, log) : group.map((r) => dynamoDbEnvelope(r, receivedAt));
      for (const env of envs) this.track(env, env.position.seq);
      this.envelopes.push(...envs);
    }
  }

  /** Parses and validates a raw Lambda event (throws IntegratorError on a malformed one). */
  static fromEvent(event: unknown, log: Logger, receivedAt?: number): LambdaEventSource {
    return new LambdaEventSource(parseStreamEvent(event), log, receivedAt);
  }

  get size(): number {
    return this.envelopes.length;
  }

  open(_ctx: SourceContext): Observable<readonly Envelope[]> {
    return new Observable<readonly Envelope[]>((sub) => {
      if (this.opened) {
        sub.error(new IntegratorError('INTERNAL', 'a Lambda event source is opened once, by one pipeline'));
        return;
      }
      this.opened = true;
      sub.next(this.envelopes);
      sub.complete();
    });
  }

  async commit(position: Position): Promise<void> {
    const s = this.shards.get(shardKey(position));
    // Commits only ever move forward, so the search starts at the last delivered entry.
    const i = s ? s.entries.findIndex((e, j) => j >= s.delivered - 1 && samePosition(e.position, position)) : -1;
    if (!s || i < 0) throw new IntegratorError('INTERNAL', `commit of ${formatPosition(position)}, which this event did not carry`);
    s.delivered = Math.max(s.delivered, i + 1);
  }

  async stop(): Promise<void> {
    // Finite: everything was emitted when the pipeline subscribed.
  }

  health(): SourceHealth {
    return { connected: true, shards: this.shards.size };
  }

  /**
   * The first record of each shard not yet delivered. Lambda resumes a shard at the lowest
   * sequence number reported, so records after it are read again (at least once); a KPL
   * aggregate delivered only in part is reported whole, by its sequence number.
   */
  failures(): BatchItemFailure[] {
    const out: BatchItemFailure[] = [];
    for (const s of this.shards.values()) {
      const next = s.entries[s.delivered];
      if (next) out.push({ itemIdentifier: next.itemIdentifier });
    }
    return out;
  }

  /** Delivered and undelivered record counts, for the invocation log line. */
  progress(): { delivered: number; pending: number } {
    let delivered = 0;
    let pending = 0;
    for (const s of this.shards.values()) {
      delivered += s.delivered;
      pending += s.entries.length - s.delivered;
    }
    return { delivered, pending };
  }

  private track(env: Envelope, itemIdentifier: string): void {
    const key = shardKey(env.position);
    let s = this.shards.get(key);
    if (!s) this.shards.set(key, (s = { entries: [], delivered: 0 }));
    s.entries.push({ position: env.position, itemIdentifier });
  }
}

const samePosition = (a: Position, b: Position): boolean => a.seq === b.seq && a.sub === b.sub;

/** Consecutive records of one shard (a real event holds one shard; this keeps order if not). */
function* shardRuns(records: readonly StreamEventRecord[]): Generator<StreamEventRecord[]> {
  let run: StreamEventRecord[] = [];
  for (const r of records) {
    if (run.length > 0 && (run[0]!.shard !== r.shard || run[0]!.stream !== r.stream)) {
      yield run;
      run = [];
    }
    run.push(r);
  }
  if (run.length > 0) yield run;
}

/** Through the Kinesis source's own converter, so KPL aggregates split the same way. */
function kinesisEnvelopes(group: readonly StreamEventRecord[], receivedAt: number, log: Logger): Envelope[] {
  const first = group[0]!;
  const records: _Record[] = group.map((r) => {
    const k = (r.raw as KinesisEventRecord).kinesis;
    const ts = k.approximateArrivalTimestamp;
    return {
      SequenceNumber: r.seq,
      Data: Buffer.from(k.data, 'base64'),
      PartitionKey: k.partitionKey ?? '',
      ...(ts === undefined ? {} : { ApproximateArrivalTimestamp: new Date(Math.round(ts * 1000)) }),
    };
  });
  const { envelopes, corrupt } = toEnvelopes(records, { stream: first.stream, shard: first.shard }, receivedAt);
  for (const c of corrupt) log.warn({ stream: first.stream, shard: first.shard, seq: c.seq, reason: c.reason }, 'corrupt KPL aggregate: sent to the DLQ whole');
  return envelopes;
}

function dynamoDbEnvelope(r: StreamEventRecord, receivedAt: number): Envelope {
  const raw = r.raw as DynamoDbEventRecord;
  const created = raw.dynamodb.ApproximateCreationDateTime;
  const size = typeof raw.dynamodb.SizeBytes === 'number' ? raw.dynamodb.SizeBytes : JSON.stringify(raw).length;
  const position: Position = { source: 'dynamodb', stream: r.stream, shard: r.shard, seq: r.seq };
  const env: Envelope = { position, payload: { kind: 'dynamodb', record: raw }, receivedAt, size };
  return typeof created === 'number' && Number.isFinite(created) ? { ...env, arrivedAt: Math.round(created * 1000) } : env;
}
