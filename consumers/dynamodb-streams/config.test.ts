import { describe, expect, it } from 'vitest';
import { DynamoDbStreamsSourceConfig } from './config.js';

describe('DynamoDbStreamsSourceConfig', () => {
  it('fills defaults: TRIM_HORIZON, 1000 records a call, the default field mapping', () => {
    const c = DynamoDbStreamsSourceConfig.parse({ type: 'dynamodb', tableName: 'inventory' });
    expect(c).toMatchObject({ startAt: 'TRIM_HORIZON', maxRecordsPerCall: 1000, leaseClaimIntervalMs: 2000, mapping: { sku: 'sku', quantity: 'quantity', eventType: 'lastChangeType' } });
  });

  it('refuses more than DynamoDB Streams allows per GetRecords call, and unknown keys', () => {
    expect(DynamoDbStreamsSourceConfig.safeParse({ type: 'dynamodb', tableName: 't', maxRecordsPerCall: 5000 }).success).toBe(false);
    const r = DynamoDbStreamsSourceConfig.safeParse({ type: 'dynamodb', tableName: 't', mapping: { qty: 'x' } });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain('qty');
  });
});
