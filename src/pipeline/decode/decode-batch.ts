import { eventIdFrom, eventIdPrefix } from '../../core/event-id.js';
import type { ErrorCode } from '../../core/errors.js';
import type { Envelope } from '../../core/envelope.js';
import type { Position } from '../../core/position.js';
import { decodeBytes } from '../normalize.js';
import type { ChangeFields } from './types.js';

/**
 * The JSON payloads of one poll, packed for a decode worker: bytes back to back (one transfer,
 * no per-record objects to clone) and the positions their event ids are derived from.
 */
export interface DecodeRequest {
  readonly bytes: Uint8Array;
  /** End offset in `bytes` of payload i; it starts where payload i - 1 ends. */
  readonly ends: Int32Array;
  readonly shards: ReadonlyArray<Pick<Position, 'source' | 'stream' | 'shard'>>;
  /** Index into `shards` of payload i. */
  readonly shardOf: Uint16Array;
  readonly seqs: readonly string[];
  /** Sub-sequences of KPL-aggregated records; absent when the poll has none. */
  readonly subs?: ReadonlyArray<number | undefined>;
}

export const DECODED = 0;
export const FAILED = 1;
/** A DynamoDB stream record as JSON: its decoder is configured on the main thread. */
export const DYNAMODB = 2;

/** Results column by column: structured clone copies a few arrays instead of an object per record. */
export interface DecodeReply {
  readonly status: Uint8Array;
  /** The next four columns and `numbers` have one entry per DECODED payload, in order. */
  readonly eventIds: string[];
  readonly text: { eventType: string[]; sku: string[]; warehouseId: string[]; orderId: Array<string | null>; customerId: Array<string | null> };
  /** quantityBefore, quantityAfter, delta, eventTime per decoded payload; null is NaN. */
  readonly numbers: Float64Array;
  /** One per FAILED payload, in order. */
  readonly failures: Array<{ readonly code: ErrorCode; readonly reason: string }>;
}

/** Packs the payloads of `envs` (all of kind 'bytes'). */
export function packRequest(envs: readonly Envelope[]): { request: DecodeRequest; transfer: ArrayBuffer[] } {
  let total = 0;
  for (const e of envs) total += (e.payload as { data: Buffer }).data.length;
  const bytes = new Uint8Array(total);
  const ends = new Int32Array(envs.length);
  const shardOf = new Uint16Array(envs.length);
  const shards: Array<Pick<Position, 'source' | 'stream' | 'shard'>> = [];
  const seqs: string[] = [];
  let subs: Array<number | undefined> | undefined;
  let at = 0;
  let last: Position | undefined;
  envs.forEach((e, i) => {
    const data = (e.payload as { data: Buffer }).data;
    bytes.set(data, at);
    at += data.length;
    ends[i] = at;
    const p = e.position;
    if (!last || p.source !== last.source || p.stream !== last.stream || p.shard !== last.shard) {
      let k = shards.findIndex((s) => s.source === p.source && s.stream === p.stream && s.shard === p.shard);
      if (k < 0) k = shards.push({ source: p.source, stream: p.stream, shard: p.shard }) - 1;
      last = p;
      shardOf[i] = k;
    } else shardOf[i] = shardOf[i - 1]!;
    seqs.push(p.seq);
    if (p.sub !== undefined) (subs ??= [])[i] = p.sub;
  });
  return { request: { bytes, ends, shards, shardOf, seqs, ...(subs ? { subs } : {}) }, transfer: [bytes.buffer as ArrayBuffer] };
}

/** Decodes every payload of a request: what a worker thread does, and the inline fallback. */
export function decodeRequest(req: DecodeRequest): DecodeReply {
  const n = req.ends.length;
  const status = new Uint8Array(n);
  const eventIds: string[] = [];
  const text: DecodeReply['text'] = { eventType: [], sku: [], warehouseId: [], orderId: [], customerId: [] };
  const numbers: number[] = [];
  const failures: DecodeReply['failures'] = [];
  const buf = Buffer.from(req.bytes.buffer, req.bytes.byteOffset, req.bytes.byteLength);
  const prefixes = req.shards.map(eventIdPrefix);
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = req.ends[i]!;
    let d: ReturnType<typeof decodeBytes>;
    try {
      d = decodeBytes(buf.subarray(start, end));
    } catch (err) {
      d = { ok: false, code: 'RECORD_INVALID', reason: `decoder failed: ${(err as Error).message}` };
    }
    start = end;
    if (d.ok === 'dynamodb') status[i] = DYNAMODB;
    else if (!d.ok) {
      status[i] = FAILED;
      failures.push({ code: d.code, reason: d.reason });
    } else {
      status[i] = DECODED;
      eventIds.push(eventIdFrom(prefixes[req.shardOf[i]!]!, req.seqs[i]!, req.subs?.[i]));
      pushFields(d.fields, text, numbers);
    }
  }
  return { status, eventIds, text, numbers: Float64Array.from(numbers), failures };
}

function pushFields(f: ChangeFields, text: DecodeReply['text'], numbers: number[]): void {
  text.eventType.push(f.eventType);
  text.sku.push(f.sku);
  text.warehouseId.push(f.warehouseId);
  text.orderId.push(f.orderId);
  text.customerId.push(f.customerId);
  numbers.push(f.quantityBefore ?? Number.NaN, f.quantityAfter ?? Number.NaN, f.delta, f.eventTime);
}

/** The fields of the k-th decoded payload of a reply. */
export function fieldsAt(reply: DecodeReply, k: number): ChangeFields {
  const n = reply.numbers;
  const qb = n[k * 4]!;
  const qa = n[k * 4 + 1]!;
  const t = reply.text;
  return {
    eventType: t.eventType[k] as ChangeFields['eventType'],
    sku: t.sku[k]!,
    warehouseId: t.warehouseId[k]!,
    quantityBefore: Number.isNaN(qb) ? null : qb,
    quantityAfter: Number.isNaN(qa) ? null : qa,
    delta: n[k * 4 + 2]!,
    orderId: t.orderId[k] ?? null,
    customerId: t.customerId[k] ?? null,
    eventTime: n[k * 4 + 3]!,
  };
}
