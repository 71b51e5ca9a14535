import { createHash } from 'node:crypto';

/**
 * KPL aggregation (amazon-kinesis-producer/aggregation-format.md): magic 0xF3899AC2, then a
 * protobuf `AggregatedRecord`, then the MD5 of that protobuf. A hand-written reader of the three
 * fields we need instead of aws-kinesis-agg's `deaggregate`: that one takes and returns base64
 * strings (two copies of every payload on the hot path), is callback-based CJS typed against the
 * v2 SDK, and does not check the MD5 unless asked. aws-kinesis-agg's aggregator still builds the
 * test records, so the two implementations are checked against each other.
 *
 *   message AggregatedRecord { repeated string partition_key_table = 1;
 *                              repeated string explicit_hash_key_table = 2;
 *                              repeated Record records = 3; }
 *   message Record { required uint64 partition_key_index = 1; optional uint64 explicit_hash_key_index = 2;
 *                    required bytes data = 3; repeated Tag tags = 4; }
 */
export const KPL_MAGIC = Buffer.from([0xf3, 0x89, 0x9a, 0xc2]);
const DIGEST_BYTES = 16;

export interface UserRecord {
  readonly partitionKey: string;
  readonly data: Buffer;
}

export type DeaggregateResult =
  | { readonly aggregated: false }
  | { readonly aggregated: true; readonly records: readonly UserRecord[] }
  | { readonly aggregated: true; readonly error: string };

export function isAggregated(data: Buffer): boolean {
  return data.length >= 4 && data[0] === 0xf3 && data[1] === 0x89 && data[2] === 0x9a && data[3] === 0xc2;
}

/** Splits a KPL aggregate into its user records; says why when the aggregate is corrupt. */
export function deaggregate(data: Buffer): DeaggregateResult {
  if (!isAggregated(data)) return { aggregated: false };
  if (data.length < KPL_MAGIC.length + DIGEST_BYTES) return { aggregated: true, error: 'KPL aggregate shorter than its magic and digest' };
  const body = data.subarray(KPL_MAGIC.length, data.length - DIGEST_BYTES);
  const digest = data.subarray(data.length - DIGEST_BYTES);
  if (!createHash('md5').update(body).digest().equals(digest)) return { aggregated: true, error: 'KPL aggregate MD5 mismatch' };
  try {
    const records = readAggregate(body);
    if (records.length === 0) return { aggregated: true, error: 'KPL aggregate holds no records' };
    return { aggregated: true, records };
  } catch (err) {
    return { aggregated: true, error: `KPL aggregate is not a valid protobuf: ${(err as Error).message}` };
  }
}

class Reader {
  pos = 0;
  constructor(private readonly buf: Buffer) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return result;
      mul *= 128;
    }
    throw new Error('varint longer than 10 bytes');
  }

  bytes(): Buffer {
    const len = this.varint();
    const end = this.pos + len;
    if (end > this.buf.length) throw new Error('length-delimited field runs past the end');
    const out = this.buf.subarray(this.pos, end);
    this.pos = end;
    return out;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.advance(8);
        return;
      case 2:
        this.bytes();
        return;
      case 5:
        this.advance(4);
        return;
      default:
        throw new Error(`unsupported wire type ${wireType}`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.buf.length) throw new Error('truncated fixed-width field');
    this.pos += n;
  }
}

function readAggregate(body: Buffer): UserRecord[] {
  const r = new Reader(body);
  const keys: string[] = [];
  const raw: Array<{ pk: number; data: Buffer }> = [];
  while (!r.done) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field === 1 && wire === 2) keys.push(r.bytes().toString('utf8'));
    else if (field === 3 && wire === 2) raw.push(readRecord(r.bytes()));
    else r.skip(wire);
  }
  return raw.map(({ pk, data }, i) => {
    const partitionKey = keys[pk];
    if (partitionKey === undefined) throw new Error(`record ${i} names partition key ${pk} of ${keys.length}`);
    return { partitionKey, data };
  });
}

function readRecord(buf: Buffer): { pk: number; data: Buffer } {
  const r = new Reader(buf);
  let pk: number | undefined;
  let data: Buffer | undefined;
  while (!r.done) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field === 1 && wire === 0) pk = r.varint();
    else if (field === 3 && wire === 2) data = r.bytes();
    else r.skip(wire);
  }
  if (pk === undefined || data === undefined) throw new Error('record without partition_key_index or data');
  return { pk, data };
}
