import { describe, expect, it } from 'vitest';
import { FieldMapping } from '../../../consumers/dynamodb-streams/config.js';
import { dynamoDbStreamRecords } from '../../../test/fixtures/dynamodb-records.js';
import { decodeDynamoDbRecord } from './dynamodb-record.js';

const mapping = FieldMapping.parse({});
const T = Date.UTC(2026, 10, 21, 13, 5, 0);

const image = (quantity: number | null, extra: Record<string, unknown> = {}) => ({
  sku: { S: 'SKU-1' },
  warehouseId: { S: 'WH-1' },
  ...(quantity === null ? {} : { quantity: { N: String(quantity) } }),
  lastOrderId: { S: 'ORD-9' },
  lastCustomerId: { NULL: true },
  ...extra,
});

function record(eventName: string, imgs: { NewImage?: unknown; OldImage?: unknown }, at: unknown = T / 1000) {
  return { eventID: 'e1', eventName, dynamodb: { ApproximateCreationDateTime: at, Keys: { sku: { S: 'SKU-1' }, warehouseId: { S: 'WH-1' } }, SequenceNumber: '100', ...imgs } };
}

const reasonOf = (r: ReturnType<typeof decodeDynamoDbRecord>) => (r.ok ? 'ok' : r.reason);

describe('decodeDynamoDbRecord', () => {
  it('INSERT: no before, after from the NEW image, delta = after', () => {
    const r = decodeDynamoDbRecord(record('INSERT', { NewImage: image(12) }), mapping);
    expect(r).toEqual({
      ok: true,
      fields: { eventType: 'insert', sku: 'SKU-1', warehouseId: 'WH-1', quantityBefore: null, quantityAfter: 12, delta: 12, orderId: 'ORD-9', customerId: null, eventTime: T },
    });
  });

  it('MODIFY: before from OLD, after from NEW, and the mapped event type and time', () => {
    const r = decodeDynamoDbRecord(
      record('MODIFY', { OldImage: image(12), NewImage: image(9, { lastChangeType: { S: 'sale' }, updatedAt: { S: '2026-11-21T14:00:00.250Z' }, lastCustomerId: { S: 'C-1' } }) }),
      mapping,
    );
    expect(r.ok && r.fields).toMatchObject({ eventType: 'sale', quantityBefore: 12, quantityAfter: 9, delta: -3, customerId: 'C-1', eventTime: Date.UTC(2026, 10, 21, 14, 0, 0, 250) });
  });

  it('REMOVE: before from OLD, no after, delta = -before; type and time are the removal’s own', () => {
    const r = decodeDynamoDbRecord(record('REMOVE', { OldImage: image(5, { lastChangeType: { S: 'restock' }, updatedAt: { N: String(T - 60_000) } }) }), mapping);
    expect(r.ok && r.fields).toMatchObject({ eventType: 'remove', quantityBefore: 5, quantityAfter: null, delta: -5, eventTime: T });
  });

  it('accepts the SDK shape (Date), JSON (epoch seconds, ISO text) and epoch-ms event time attributes', () => {
    const at = [new Date(T), T / 1000, new Date(T).toISOString()];
    for (const a of at) expect(decodeDynamoDbRecord(record('INSERT', { NewImage: image(1) }, a), mapping)).toMatchObject({ ok: true, fields: { eventTime: T } });
    const ms = decodeDynamoDbRecord(record('INSERT', { NewImage: image(1, { updatedAt: { N: String(T + 7) } }) }), mapping);
    expect(ms.ok && ms.fields.eventTime).toBe(T + 7);
  });

  it('accepts the Lambda event record shape', () => {
    const lambda = {
      eventID: '1',
      eventName: 'MODIFY',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      eventSourceARN: 'arn:aws:dynamodb:us-east-1:123456789012:table/inventory/stream/2026-11-21T00:00:00.000',
      dynamodb: { ApproximateCreationDateTime: T / 1000, Keys: {}, NewImage: image(3), OldImage: image(4), SequenceNumber: '111', SizeBytes: 26, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    };
    expect(decodeDynamoDbRecord(JSON.parse(JSON.stringify(lambda)), mapping)).toMatchObject({ ok: true, fields: { eventType: 'modify', delta: -1 } });
  });

  it('follows a custom field mapping, taking ids from the keys and numbers as text', () => {
    const custom = FieldMapping.parse({ sku: 'pk', warehouseId: 'site', quantity: 'onHand', eventType: 'why' });
    const rec = { eventName: 'INSERT', dynamodb: { ApproximateCreationDateTime: T / 1000, Keys: { pk: { S: 'P-1' }, site: { N: '7' } }, NewImage: { pk: { S: 'P-1' }, onHand: { N: '40' }, why: { S: 'restock' } } } };
    expect(decodeDynamoDbRecord(rec, custom)).toMatchObject({ ok: true, fields: { sku: 'P-1', warehouseId: '7', quantityAfter: 40, eventType: 'restock' } });
  });

  it('names what is wrong with a bad record', () => {
    const cases: Array<[unknown, RegExp]> = [
      ['text', /expected a DynamoDB stream record object, got string/],
      [{ eventName: 'UPSERT', dynamodb: {} }, /eventName "UPSERT" is not INSERT, MODIFY or REMOVE/],
      [{ eventName: 'INSERT' }, /no "dynamodb" object/],
      [record('MODIFY', { NewImage: image(1) }), /MODIFY record has no OldImage .*NEW_AND_OLD_IMAGES/],
      [record('REMOVE', {}), /REMOVE record has no OldImage/],
      [{ eventName: 'INSERT', dynamodb: { ApproximateCreationDateTime: 1, NewImage: { quantity: { N: '1' }, warehouseId: { S: 'W' } } } }, /sku attribute "sku" is missing from the NewImage and Keys/],
      [record('INSERT', { NewImage: image(1, { warehouseId: { BOOL: true } }) }), /warehouseId attribute "warehouseId" must be a string or number, got boolean/],
      [record('INSERT', { NewImage: image(null) }), /quantity attribute "quantity" is missing \(or NULL\) in the NewImage/],
      [record('INSERT', { NewImage: image(null, { quantity: { S: 'ten' } }) }), /quantity attribute "quantity" in the NewImage is not a number \(got string "ten"\)/],
      [record('MODIFY', { OldImage: image(null, { quantity: { N: '2.5' } }), NewImage: image(1) }), /in the OldImage is not a whole number \(got 2.5\)/],
      [record('INSERT', { NewImage: image(1, { lastChangeType: { S: 'theft' } }) }), /unknown event type "theft" in attribute "lastChangeType"/],
      [record('INSERT', { NewImage: image(1, { updatedAt: { S: 'yesterday' } }) }), /event time attribute "updatedAt": eventTime "yesterday" is not an ISO-8601/],
      [record('INSERT', { NewImage: image(1) }, null), /no event time/],
      [record('INSERT', { NewImage: { sku: { X: 'bad' } } }), /dynamodb.NewImage is not a valid attribute map/],
    ];
    for (const [input, reason] of cases) {
      const r = decodeDynamoDbRecord(input, mapping);
      expect(r.ok, JSON.stringify(input)).toBe(false);
      expect(reasonOf(r)).toMatch(reason);
      expect(r.ok ? undefined : r.code).toBe('RECORD_INVALID');
    }
  });

  it('decodes a simulated stream where every MODIFY’s before is the previous after of the item', () => {
    const last = new Map<string, number | null>();
    let n = 0;
    for (const rec of dynamoDbStreamRecords(2000, { removeFraction: 0.05 })) {
      const r = decodeDynamoDbRecord(rec, mapping);
      if (!r.ok) throw new Error(r.reason);
      const key = `${r.fields.sku}/${r.fields.warehouseId}`;
      if (rec.eventName === 'INSERT') expect(last.get(key) ?? null).toBeNull();
      else expect(r.fields.quantityBefore).toBe(last.get(key));
      expect(r.fields.delta).toBe((r.fields.quantityAfter ?? 0) - (r.fields.quantityBefore ?? 0));
      last.set(key, r.fields.quantityAfter);
      n++;
    }
    expect(n).toBe(2000);
  });
});
