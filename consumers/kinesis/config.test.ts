import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { KinesisSourceConfig } from './config.js';

describe('KinesisSourceConfig', () => {
  it('fills defaults that keep within 5 GetRecords calls per second per shard', () => {
    const c = KinesisSourceConfig.parse({ type: 'kinesis', streamName: 'inventory' });
    expect(c).toMatchObject({ startAt: 'TRIM_HORIZON', maxRecordsPerCall: 10_000, idleTimeBetweenReadsMs: 250 });
  });

  it('rejects AT_TIMESTAMP without a timestamp, naming the key', () => {
    const r = KinesisSourceConfig.safeParse({ type: 'kinesis', streamName: 'inventory', startAt: 'AT_TIMESTAMP' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]).toMatchObject({ path: ['startTimestamp'], message: expect.stringContaining('AT_TIMESTAMP') });
  });

  it('rejects limits beyond what Kinesis allows', () => {
    expect(KinesisSourceConfig.safeParse({ type: 'kinesis', streamName: 's', maxRecordsPerCall: 10_001 }).success).toBe(false);
    expect(KinesisSourceConfig.safeParse({ type: 'kinesis', streamName: 's', idleTimeBetweenReadsMs: 100 }).success).toBe(false);
  });

  it('works inside the whole configuration (discriminated union)', () => {
    expect(() =>
      parseConfig({ source: { type: 'kinesis', streamName: 's', startAt: 'AT_TIMESTAMP' }, sink: { type: 'file', dir: '/tmp/x' } }),
    ).toThrow(/source\.startTimestamp/);
  });
});
