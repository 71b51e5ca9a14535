/** Where a record sits in its source. The pair (stream, shard) is the unit of ordering and checkpointing. */
export const SOURCE_KINDS = ['dynamodb', 'kinesis', 'kafka', 'file'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

export interface Position {
  readonly source: SourceKind;
  /** Stream name (Kinesis stream, DynamoDB table, Kafka topic, file stream name). */
  readonly stream: string;
  /** Shard id, Kafka partition number, or "0" for a file. */
  readonly shard: string;
  /** Sequence number, Kafka offset or line number, as a decimal string. */
  readonly seq: string;
  /** Sub-sequence inside a KPL-aggregated Kinesis record; absent elsewhere. */
  readonly sub?: number;
}

/** Identifies one shard of one stream: the key of ack tracking, batching and checkpoints. */
export function shardKey(p: Pick<Position, 'source' | 'stream' | 'shard'>): string {
  return `${p.source}|${p.stream}|${p.shard}`;
}

/** Orders decimal sequence strings of any length (Kinesis sequence numbers exceed 2^64). */
export function compareSeq(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function comparePosition(a: Position, b: Position): number {
  const c = compareSeq(a.seq, b.seq);
  if (c !== 0) return c;
  return (a.sub ?? -1) - (b.sub ?? -1);
}

export function formatPosition(p: Position): string {
  return `${p.source}:${p.stream}/${p.shard}@${p.seq}${p.sub === undefined ? '' : `.${p.sub}`}`;
}
