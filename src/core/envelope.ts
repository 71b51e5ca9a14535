import type { Position } from './position.js';

/**
 * What a source hands the pipeline before any decoding. Bytes stay bytes so that a record that
 * fails to decode reaches the DLQ exactly as it arrived.
 */
export type RawPayload =
  /** JSON bytes: a file line, Kinesis record data, a Kafka message value. */
  | { readonly kind: 'bytes'; readonly data: Buffer }
  /** A DynamoDB Streams record as the SDK returns it (AttributeValue images). */
  | { readonly kind: 'dynamodb'; readonly record: unknown };

export interface Envelope {
  readonly position: Position;
  readonly payload: RawPayload;
  /** Epoch ms at which this process read the record. */
  readonly receivedAt: number;
  /** Epoch ms at which the stream accepted the record, when the stream says. */
  readonly arrivedAt?: number;
  /** Approximate size in bytes, for the memory budget. */
  readonly size: number;
}

export function payloadText(p: RawPayload): string {
  return p.kind === 'bytes' ? p.data.toString('utf8') : JSON.stringify(p.record);
}
