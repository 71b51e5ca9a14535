import type { _Record } from '@aws-sdk/client-kinesis';
import type { Envelope } from '../../src/core/envelope.js';
import type { Position } from '../../src/core/position.js';
import { deaggregate, isAggregated } from './deaggregate.js';

/** Skip sub-records up to and including `sub` of the aggregate at `seq` (resume inside an aggregate). */
export interface ResumeSkip {
  readonly seq: string;
  readonly sub: number;
}

export interface ConvertResult {
  readonly envelopes: Envelope[];
  /** Aggregates that failed to decode and went out whole, for the log. */
  readonly corrupt: Array<{ seq: string; reason: string }>;
}

const toBuffer = (d: Uint8Array | undefined): Buffer =>
  d === undefined ? Buffer.alloc(0) : Buffer.isBuffer(d) ? d : Buffer.from(d.buffer, d.byteOffset, d.byteLength);

/**
 * Turns one GetRecords page into envelopes, in stream order. KPL aggregates become one envelope
 * per user record with `sub` = its index; a corrupt aggregate goes out whole (no `sub`) so the
 * pipeline dead-letters it as undecodable instead of it vanishing.
 */
export function toEnvelopes(
  records: readonly _Record[],
  where: Pick<Position, 'stream' | 'shard'>,
  receivedAt: number,
  skip?: ResumeSkip,
): ConvertResult {
  const { stream, shard } = where;
  const envelopes: Envelope[] = [];
  const corrupt: ConvertResult['corrupt'] = [];
  for (const r of records) {
    const seq = r.SequenceNumber;
    if (seq === undefined) continue; // never happens on a real stream; a record without a position cannot be acked
    const data = toBuffer(r.Data);
    const arrivedAt = r.ApproximateArrivalTimestamp?.getTime();
    const skipHere = skip !== undefined && skip.seq === seq;
    if (isAggregated(data)) {
      const agg = deaggregate(data);
      if (agg.aggregated && 'records' in agg) {
        agg.records.forEach((u, sub) => {
          if (skipHere && sub <= skip.sub) return;
          envelopes.push(envelope({ source: 'kinesis', stream, shard, seq, sub }, u.data, receivedAt, arrivedAt));
        });
        continue;
      }
      if (!skipHere && agg.aggregated) corrupt.push({ seq, reason: agg.error });
    }
    if (skipHere) continue; // a whole record at the checkpointed position is already delivered
    // The common case: one plain record, one envelope, the payload a view of the SDK's bytes.
    envelopes.push(envelope({ source: 'kinesis', stream, shard, seq }, data, receivedAt, arrivedAt));
  }
  return { envelopes, corrupt };
}

function envelope(position: Position, data: Buffer, receivedAt: number, arrivedAt: number | undefined): Envelope {
  return arrivedAt === undefined
    ? { position, payload: { kind: 'bytes', data }, receivedAt, size: data.length }
    : { position, payload: { kind: 'bytes', data }, receivedAt, arrivedAt, size: data.length };
}
