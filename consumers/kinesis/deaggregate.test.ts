import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { KPL_MAGIC, deaggregate, isAggregated } from './deaggregate.js';

const require = createRequire(import.meta.url);
const { RecordAggregator } = require('aws-kinesis-agg') as {
  RecordAggregator: new () => { addUserRecord(r: { partitionKey: string; data: Buffer }): void; build(): { data: Buffer } };
};

function aggregateOf(records: Array<{ partitionKey: string; data: Buffer }>): Buffer {
  const agg = new RecordAggregator();
  for (const r of records) agg.addUserRecord(r);
  return agg.build().data;
}

const withDigest = (body: Buffer) => Buffer.concat([KPL_MAGIC, body, createHash('md5').update(body).digest()]);

describe('deaggregate', () => {
  it('reads what the official aws-kinesis-agg aggregator writes, in order, with partition keys', () => {
    const input = Array.from({ length: 300 }, (_, i) => ({ partitionKey: `pk-${i % 7}`, data: Buffer.from(JSON.stringify({ i, pad: 'x'.repeat(i) })) }));
    const out = deaggregate(aggregateOf(input));
    expect(out.aggregated && 'records' in out && out.records.map((r) => ({ partitionKey: r.partitionKey, data: r.data.toString() }))).toEqual(
      input.map((r) => ({ partitionKey: r.partitionKey, data: r.data.toString() })),
    );
  });

  it('leaves plain records alone', () => {
    expect(isAggregated(Buffer.from('{"a":1}'))).toBe(false);
    expect(deaggregate(Buffer.from('{"a":1}'))).toEqual({ aggregated: false });
    expect(deaggregate(Buffer.alloc(0))).toEqual({ aggregated: false });
  });

  it('names what is wrong with a corrupt aggregate', () => {
    const good = aggregateOf([{ partitionKey: 'a', data: Buffer.from('x') }]);
    const flipped = Buffer.from(good);
    flipped[8] = flipped[8]! ^ 0xff;
    expect(deaggregate(flipped)).toEqual({ aggregated: true, error: 'KPL aggregate MD5 mismatch' });
    expect(deaggregate(KPL_MAGIC)).toEqual({ aggregated: true, error: 'KPL aggregate shorter than its magic and digest' });
    expect(deaggregate(withDigest(Buffer.from([0x1a, 0x05, 0x08])))).toMatchObject({ aggregated: true, error: expect.stringContaining('runs past the end') });
    expect(deaggregate(withDigest(Buffer.alloc(0)))).toEqual({ aggregated: true, error: 'KPL aggregate holds no records' });
    // A record naming a partition key the table does not have.
    expect(deaggregate(withDigest(Buffer.from([0x1a, 0x05, 0x08, 0x03, 0x1a, 0x01, 0x41])))).toMatchObject({
      aggregated: true,
      error: expect.stringContaining('partition key 3 of 0'),
    });
  });
});
