import { isUtf8 } from 'node:buffer';
import type { Envelope } from '../core/envelope.js';
import { eventIdOf } from '../core/event-id.js';
import { type InventoryChange, NOT_ENRICHED } from '../core/model.js';
import type { DeadLetter } from '../core/ports.js';
import { decodeCanonical } from './decode/canonical.js';
import { type DecodeResult, decodeFailure } from './decode/types.js';

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

function decodePayload(env: Envelope, opts: NormalizeOptions): DecodeResult {
  if (env.size > opts.maxRecordBytes) {
    return decodeFailure('RECORD_TOO_LARGE', `record of ${env.size} bytes exceeds maxRecordBytes ${opts.maxRecordBytes}`);
  }
  const p = env.payload;
  if (p.kind === 'dynamodb') return opts.decodeDynamoDb(p.record);
  if (p.data.length === 0) return decodeFailure('RECORD_UNDECODABLE', 'empty payload (a tombstone or a blank record)');
  if (!isUtf8(p.data)) return decodeFailure('RECORD_UNDECODABLE', 'payload is not valid UTF-8');
  let value: unknown;
  try {
    value = JSON.parse(p.data.toString('utf8'));
  } catch (err) {
    return decodeFailure('RECORD_UNDECODABLE', `payload is not valid JSON: ${(err as Error).message.slice(0, 200)}`);
  }
  return isDynamoDbRecord(value) ? opts.decodeDynamoDb(value) : decodeCanonical(value);
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
  const f = result.fields;
  // Written out rather than spread: one fixed object shape, built in one step, on the hot path.
  const change: InventoryChange = {
    eventId: eventIdOf(pos),
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
  return { ok: true, change };
}
