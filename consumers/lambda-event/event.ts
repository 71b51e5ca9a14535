import { IntegratorError } from '../../src/core/errors.js';

/**
 * The two event shapes a stream event source mapping delivers, as documented by AWS
 * ("Using Lambda with Kinesis" / "with DynamoDB"), and their validation. Only the fields the
 * handler relies on are typed; the rest travel along untouched (a DynamoDB record reaches the
 * decoder, and the DLQ, whole).
 *
 *   Kinesis:  { eventSource: 'aws:kinesis', eventID: 'shardId-000000000006:<seq>',
 *               eventSourceARN: 'arn:aws:kinesis:<region>:<account>:stream/<name>',
 *               kinesis: { data: <base64>, sequenceNumber, partitionKey, approximateArrivalTimestamp: <epoch s> } }
 *   DynamoDB: { eventSource: 'aws:dynamodb', eventID, eventName: INSERT|MODIFY|REMOVE,
 *               eventSourceARN: 'arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>',
 *               dynamodb: { SequenceNumber, ApproximateCreationDateTime: <epoch s>, SizeBytes, Keys, NewImage, OldImage } }
 */
export interface KinesisEventRecord {
  readonly eventSource: 'aws:kinesis';
  readonly eventID: string;
  readonly eventSourceARN: string;
  readonly kinesis: {
    readonly data: string;
    readonly sequenceNumber: string;
    readonly partitionKey?: string;
    readonly approximateArrivalTimestamp?: number;
  };
}

export interface DynamoDbEventRecord {
  readonly eventSource: 'aws:dynamodb';
  readonly eventID?: string;
  readonly eventName?: string;
  readonly eventSourceARN: string;
  readonly dynamodb: {
    readonly SequenceNumber: string;
    readonly ApproximateCreationDateTime?: number;
    readonly SizeBytes?: number;
  };
}

/** One record of the event, validated, with where it sits in its stream. */
export interface StreamEventRecord {
  /** Stream name (Kinesis) or table name (DynamoDB), from eventSourceARN. */
  readonly stream: string;
  readonly shard: string;
  /** The sequence number: what `batchItemFailures[].itemIdentifier` must name. */
  readonly seq: string;
  readonly raw: KinesisEventRecord | DynamoDbEventRecord;
}

export interface ParsedStreamEvent {
  readonly kind: 'kinesis' | 'dynamodb';
  /** In event order (stream order within each shard). */
  readonly records: readonly StreamEventRecord[];
}

const SOURCES = { 'aws:kinesis': 'kinesis', 'aws:dynamodb': 'dynamodb' } as const;
const SEQUENCE = /^\d{1,128}$/;
const KINESIS_ARN = /^arn:aws[a-z-]*:kinesis:[^:]*:\d*:stream\/([A-Za-z0-9_.-]{1,128})$/;
const DYNAMODB_ARN = /^arn:aws[a-z-]*:dynamodb:[^:]*:\d*:table\/([A-Za-z0-9_.-]{3,255})\/stream\/([^/]+)$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function malformed(message: string): IntegratorError {
  return new IntegratorError('SOURCE_READ_FAILED', `malformed Lambda stream event: ${message}`, { retriable: false });
}

/**
 * The shard label of DynamoDB records. A DynamoDB Streams Lambda event does not name the shard
 * (its eventID is a per-record id, not "shardId:seq" as for Kinesis), so every record of one
 * stream gets the stream's label, the last part of its ARN ("2024-01-01T00:00:00.000"). It is
 * stable across invocations and retries, which is what event ids and object keys need; it
 * differs from the shard ids the container's DynamoDB Streams source uses, so the same record
 * gets a different eventId in the two modes (run one mode per stream). Lambda sends the records
 * of one shard per invocation, in order, so a batch still holds one shard's range.
 */
export const dynamoDbShardLabel = (streamLabel: string): string => streamLabel;

/** Checks the event and pins every record to its stream, shard and sequence number. */
export function parseStreamEvent(event: unknown): ParsedStreamEvent {
  if (!isObject(event)) throw malformed(`expected an object with "Records", got ${event === null ? 'null' : Array.isArray(event) ? 'an array' : typeof event}`);
  const records = event.Records;
  if (!Array.isArray(records)) throw malformed('"Records" is missing or not an array (is this function attached to a Kinesis or DynamoDB Streams event source mapping?)');
  if (records.length === 0) throw malformed('"Records" is empty: a stream event source mapping never invokes with no records');
  let kind: ParsedStreamEvent['kind'] | undefined;
  const out: StreamEventRecord[] = [];
  records.forEach((r: unknown, i) => {
    if (!isObject(r)) throw malformed(`Records[${i}] is not an object`);
    const es = r.eventSource;
    const k = typeof es === 'string' && Object.hasOwn(SOURCES, es) ? SOURCES[es as keyof typeof SOURCES] : undefined;
    if (!k) throw malformed(`Records[${i}].eventSource ${JSON.stringify(es)} is not supported: this handler serves "aws:kinesis" and "aws:dynamodb" event source mappings`);
    if (kind && k !== kind) throw malformed(`Records[${i}].eventSource ${JSON.stringify(es)} differs from the first record's: one event must come from one stream`);
    kind = k;
    out.push(k === 'kinesis' ? kinesisRecord(r, i) : dynamoDbRecord(r, i));
  });
  return { kind: kind!, records: out };
}

function kinesisRecord(r: Record<string, unknown>, i: number): StreamEventRecord {
  const arn = r.eventSourceARN;
  const stream = typeof arn === 'string' ? KINESIS_ARN.exec(arn)?.[1] : undefined;
  if (!stream) throw malformed(`Records[${i}].eventSourceARN ${JSON.stringify(arn)} is not a Kinesis stream ARN (arn:aws:kinesis:<region>:<account>:stream/<name>)`);
  const k = r.kinesis;
  if (!isObject(k)) throw malformed(`Records[${i}] has no "kinesis" object`);
  const seq = k.sequenceNumber;
  if (typeof seq !== 'string' || !SEQUENCE.test(seq)) throw malformed(`Records[${i}].kinesis.sequenceNumber ${JSON.stringify(seq)} is not a decimal sequence number`);
  if (typeof k.data !== 'string') throw malformed(`Records[${i}].kinesis.data is not a base64 string`);
  const ts = k.approximateArrivalTimestamp;
  if (ts !== undefined && (typeof ts !== 'number' || !Number.isFinite(ts))) throw malformed(`Records[${i}].kinesis.approximateArrivalTimestamp ${JSON.stringify(ts)} is not epoch seconds`);
  // eventID is "<shardId>:<sequenceNumber>"; the shard id itself never holds a colon.
  const id = r.eventID;
  const colon = typeof id === 'string' ? id.indexOf(':') : -1;
  const shard = colon > 0 ? (id as string).slice(0, colon) : '';
  if (!shard || (id as string).slice(colon + 1) !== seq) {
    throw malformed(`Records[${i}].eventID ${JSON.stringify(id)} is not "<shardId>:${seq}"`);
  }
  return { stream, shard, seq, raw: r as unknown as KinesisEventRecord };
}

function dynamoDbRecord(r: Record<string, unknown>, i: number): StreamEventRecord {
  const arn = r.eventSourceARN;
  const m = typeof arn === 'string' ? DYNAMODB_ARN.exec(arn) : null;
  if (!m) throw malformed(`Records[${i}].eventSourceARN ${JSON.stringify(arn)} is not a DynamoDB stream ARN (arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>)`);
  const d = r.dynamodb;
  if (!isObject(d)) throw malformed(`Records[${i}] has no "dynamodb" object`);
  const seq = d.SequenceNumber;
  if (typeof seq !== 'string' || !SEQUENCE.test(seq)) throw malformed(`Records[${i}].dynamodb.SequenceNumber ${JSON.stringify(seq)} is not a decimal sequence number`);
  return { stream: m[1]!, shard: dynamoDbShardLabel(m[2]!), seq, raw: r as unknown as DynamoDbEventRecord };
}
