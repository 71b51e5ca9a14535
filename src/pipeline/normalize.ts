import { isUtf8 } from 'node:buffer';
import type { Envelope } from '../core/envelope.js';
import { eventIdOf } from '../core/event-id.js';
import { type InventoryChange, NOT_ENRICHED } from '../core/model.js';
import type { DeadLetter } from '../core/ports.js';
import { decodeCanonical } from './decode/canonical.js';
import { scanCanonical } from './decode/scan-canonical.js';
import { type ChangeFields, type DecodeResult, decodeFailure } from './decode/types.js';

export interface NormalizeOptions {
  /** Larger records go to the DLQ as RECORD_TOO_LARGE. */
  readonly maxRecordBytes: number;
  /** Decoder for DynamoDB stream records (from a DynamoDB stream, or as JSON lines/messages). */
  readonly decodeDynamoDb: (record: unknown) => DecodeResult;
  readonly now: () => number;
}

export type Normalized = { readonly ok: true; readonly change: InventoryChange } | { readonly ok: false; readonly letter: DeadLetter };

const isDynamoDbRecord = (v: unknown): boolean =>
  typeof v === 'object' && v !== null && 'dynamodb' in v && 'eventName' in v;

/** A JSON payload decoded, or the DynamoDB stream record it turned out to hold (its decoder is the caller's). */
export type BytesDecoded = DecodeResult | { readonly ok: 'dynamodb'; readonly record: unknown };

/** JSON bytes (a file line, Kinesis data, a Kafka value) → fields; pure, so a worker thread can run it. */
export function decodeBytes(data: Buffer): BytesDecoded {
  if (data.length === 0) return decodeFailure('RECORD_UNDECODABLE', 'empty payload (a tombstone or a blank record)');
  const fields = scanCanonical(data);
  if (fields) return { ok: true, fields };
  if (!isUtf8(data)) return decodeFailure('RECORD_UNDECODABLE', 'payload is not valid UTF-8');
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch (err) {
    return decodeFailure('RECORD_UNDECODABLE', `payload is not valid JSON: ${(err as Error).message.slice(0, 200)}`);
  }
  return isDynamoDbRecord(value) ? { ok: 'dynamodb', record: value } : decodeCanonical(value);
}

function decodePayload(env: Envelope, opts: NormalizeOptions): DecodeResult {
  if (env.size > opts.maxRecordBytes) {
    return decodeFailure('RECORD_TOO_LARGE', `record of ${env.size} bytes exceeds maxRecordBytes ${opts.maxRecordBytes}`);
  }
  const p = env.payload;
  if (p.kind === 'dynamodb') return opts.decodeDynamoDb(p.record);
  const d = decodeBytes(p.data);
  return d.ok === 'dynamodb' ? opts.decodeDynamoDb(d.record) : d;
}

/** Raw record → InventoryChange, or a dead letter that says why not. Never throws. */
export function normalize(env: Envelope, opts: NormalizeOptions): Normalized {
  let result: DecodeResult;
  try {
    result = decodePayload(env, opts);
  } catch (err) {
    result = decodeFailure('RECORD_INVALID', `decoder failed: ${(err as Error).message}`);
  }
  const pos = env.position;
  if (!result.ok) {
    return { ok: false, letter: { position: pos, code: result.code, reason: result.reason, payload: env.payload, receivedAt: env.receivedAt } };
  }
  return { ok: true, change: toChange(env, result.fields, eventIdOf(pos)) };
}

/** The change a decoded record makes, at its envelope's position. */
export function toChange(env: Envelope, f: ChangeFields, eventId: string): InventoryChange {
  const pos = env.position;
  // Written out rather than spread: one fixed object shape, built in one step, on the hot path.
  return {
    eventId,
    source: pos.source,
    stream: pos.stream,
    shard: pos.shard,
    sequence: pos.sub === undefined ? pos.seq : `${pos.seq}.${pos.sub}`,
    eventType: f.eventType,
    sku: f.sku,
    warehouseId: f.warehouseId,
    quantityBefore: f.quantityBefore,
    quantityAfter: f.quantityAfter,
    delta: f.delta,
    orderId: f.orderId,
    customerId: f.customerId,
    eventTime: f.eventTime,
    // The stream's own arrival time where it has one: a replay then writes identical rows.
    ingestTime: env.arrivedAt ?? env.receivedAt,
    enrichment: NOT_ENRICHED,
  };
}
