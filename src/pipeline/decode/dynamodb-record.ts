import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { FieldMapping } from '../../../consumers/dynamodb-streams/config.js';
import { errorMessage } from '../../core/errors.js';
import { EVENT_TYPES, type EventType } from '../../core/model.js';
import { parseEventTime } from './canonical.js';
import { type ChangeFields, type DecodeResult, decodeFailure } from './types.js';

type Native = Record<string, unknown>;
type ImageName = 'NewImage' | 'OldImage' | 'Keys';
const CHANGE_NAMES = { INSERT: 'insert', MODIFY: 'modify', REMOVE: 'remove' } as const;
type ChangeName = keyof typeof CHANGE_NAMES;

const fail = (reason: string) => decodeFailure('RECORD_INVALID', reason);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A DynamoDB Streams record → change fields, through the configured field mapping. Accepts the
 * record as the SDK returns it (ApproximateCreationDateTime a Date), as JSON (epoch seconds or
 * an ISO string) and in the Lambda event shape; they share `eventName` and `dynamodb`.
 *
 * Quantities: before from the OLD image, after from the NEW one; an INSERT has no before (delta
 * = after), a REMOVE no after (delta = -before). For a REMOVE, type and time are the removal's
 * own ('remove', the stream's creation time): the old image describes the previous change.
 */
export function decodeDynamoDbRecord(record: unknown, mapping: FieldMapping): DecodeResult {
  if (!isObject(record)) return fail(`expected a DynamoDB stream record object, got ${record === null ? 'null' : Array.isArray(record) ? 'an array' : typeof record}`);
  const name = record.eventName;
  if (name !== 'INSERT' && name !== 'MODIFY' && name !== 'REMOVE') return fail(`eventName ${JSON.stringify(name)} is not INSERT, MODIFY or REMOVE`);
  const ddb = record.dynamodb;
  if (!isObject(ddb)) return fail(`${name} record has no "dynamodb" object`);

  const images: Partial<Record<ImageName, Native>> = {};
  for (const img of ['NewImage', 'OldImage', 'Keys'] as const) {
    const raw = ddb[img];
    if (raw === undefined || raw === null) continue;
    if (!isObject(raw)) return fail(`dynamodb.${img} is not an attribute map`);
    try {
      images[img] = unmarshall(raw as never, { wrapNumbers: true }) as Native;
    } catch (err) {
      return fail(`dynamodb.${img} is not a valid attribute map: ${errorMessage(err)}`);
    }
  }
  const needs: ImageName[] = name === 'INSERT' ? ['NewImage'] : name === 'REMOVE' ? ['OldImage'] : ['NewImage', 'OldImage'];
  for (const img of needs) {
    if (!images[img]) return fail(`${name} record has no ${img} (the stream view type must be NEW_AND_OLD_IMAGES)`);
  }
  const main = (name === 'REMOVE' ? images.OldImage : images.NewImage)!;
  const mainName: ImageName = name === 'REMOVE' ? 'OldImage' : 'NewImage';

  const sku = idOf(main, images.Keys, mapping.sku);
  if (typeof sku !== 'string' || sku === '') return fail(idProblem('sku', mapping.sku, sku, mainName));
  const warehouseId = idOf(main, images.Keys, mapping.warehouseId);
  if (typeof warehouseId !== 'string' || warehouseId === '') return fail(idProblem('warehouseId', mapping.warehouseId, warehouseId, mainName));

  const before = name === 'INSERT' ? null : quantityOf(images.OldImage!, mapping.quantity, 'OldImage');
  if (typeof before === 'string') return fail(before);
  const after = name === 'REMOVE' ? null : quantityOf(images.NewImage!, mapping.quantity, 'NewImage');
  if (typeof after === 'string') return fail(after);
  const delta = (after ?? 0) - (before ?? 0);

  const eventType = eventTypeOf(name, main[mapping.eventType], mapping.eventType);
  if (eventType instanceof Error) return fail(eventType.message);

  const eventTime = eventTimeOf(name, main[mapping.eventTime], mapping.eventTime, ddb.ApproximateCreationDateTime);
  if (typeof eventTime === 'string') return fail(eventTime);

  const orderId = optionalId(main[mapping.orderId], mapping.orderId);
  if (orderId instanceof Error) return fail(orderId.message);
  const customerId = optionalId(main[mapping.customerId], mapping.customerId);
  if (customerId instanceof Error) return fail(customerId.message);

  const fields: ChangeFields = { eventType, sku, warehouseId, quantityBefore: before, quantityAfter: after, delta, orderId, customerId, eventTime };
  return { ok: true, fields };
}

/** Unmarshalled with wrapNumbers, a DynamoDB number arrives as an object holding its decimal text. */
function numberText(v: unknown): string | undefined {
  return isObject(v) && typeof v.value === 'string' && Object.keys(v).length === 1 ? v.value : undefined;
}

function describeValue(v: unknown): string {
  const n = numberText(v);
  if (n !== undefined) return `number ${n}`;
  if (typeof v === 'string') return `string ${JSON.stringify(v.slice(0, 40))}`;
  if (v instanceof Set) return 'a set';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Uint8Array) return 'binary';
  return v === null ? 'NULL' : typeof v === 'object' ? 'a map' : typeof v;
}

/** Keys carry sku and warehouse when they are the table's key, whatever the view type. */
function idOf(image: Native, keys: Native | undefined, attr: string): unknown {
  const v = image[attr] ?? keys?.[attr];
  const n = numberText(v);
  return n ?? v;
}

function idProblem(field: string, attr: string, v: unknown, imageName: ImageName): string {
  if (v === undefined || v === null) return `${field} attribute "${attr}" is missing from the ${imageName} and Keys`;
  if (v === '') return `${field} attribute "${attr}" is empty`;
  return `${field} attribute "${attr}" must be a string or number, got ${describeValue(v)}`;
}

function quantityOf(image: Native, attr: string, imageName: ImageName): number | string {
  const v = image[attr];
  if (v === undefined || v === null) return `quantity attribute "${attr}" is missing (or NULL) in the ${imageName}`;
  const text = numberText(v);
  if (text === undefined) return `quantity attribute "${attr}" in the ${imageName} is not a number (got ${describeValue(v)})`;
  if (!/^-?\d+$/.test(text)) return `quantity attribute "${attr}" in the ${imageName} is not a whole number (got ${text})`;
  const n = Number(text);
  if (!Number.isSafeInteger(n)) return `quantity attribute "${attr}" in the ${imageName} is out of range (got ${text})`;
  return n;
}

function eventTypeOf(name: ChangeName, v: unknown, attr: string): EventType | Error {
  if (name === 'REMOVE' || v === undefined || v === null) return CHANGE_NAMES[name];
  if (typeof v !== 'string') return new Error(`event type attribute "${attr}" must be a string, got ${describeValue(v)}`);
  if (!(EVENT_TYPES as readonly string[]).includes(v)) return new Error(`unknown event type "${v.slice(0, 40)}" in attribute "${attr}" (known: ${EVENT_TYPES.join(', ')})`);
  return v as EventType;
}

function eventTimeOf(name: ChangeName, v: unknown, attr: string, approximate: unknown): number | string {
  if (name !== 'REMOVE' && v !== undefined && v !== null) {
    const text = numberText(v);
    const parsed = text !== undefined ? parseEventTime(Number(text)) : typeof v === 'string' ? parseEventTime(v) : `must be ISO-8601 or epoch ms, got ${describeValue(v)}`;
    return typeof parsed === 'string' ? `event time attribute "${attr}": ${parsed}` : parsed;
  }
  // DynamoDB Streams gives the record's creation time in whole seconds.
  if (approximate instanceof Date) return Number.isNaN(approximate.getTime()) ? 'ApproximateCreationDateTime is an invalid date' : approximate.getTime();
  if (typeof approximate === 'number' && Number.isFinite(approximate)) return Math.round(approximate < 1e11 ? approximate * 1000 : approximate);
  if (typeof approximate === 'string' && approximate !== '') {
    const parsed = /^\d+(\.\d+)?$/.test(approximate) ? parseEventTime(Number(approximate)) : parseEventTime(approximate);
    return typeof parsed === 'string' ? `ApproximateCreationDateTime: ${parsed}` : parsed;
  }
  return `no event time: attribute "${attr}" is absent and the record has no ApproximateCreationDateTime`;
}

function optionalId(v: unknown, attr: string): string | null | Error {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v === 'string') return v;
  const n = numberText(v);
  if (n !== undefined) return n;
  return new Error(`attribute "${attr}" must be a string or number, got ${describeValue(v)}`);
}
