import { z } from 'zod';
import { EVENT_TYPES } from '../../core/model.js';
import { type ChangeFields, type DecodeResult, decodeFailure } from './types.js';

/** Longest id (sku, warehouse, order, customer) a record may carry. */
export const MAX_ID_LENGTH = 512;
const id = z.string().min(1).max(MAX_ID_LENGTH);

/** The canonical wire event (file lines, Kinesis data, Kafka values). Extra fields are ignored. */
export const CanonicalEvent = z.object({
  eventType: z.enum(EVENT_TYPES),
  sku: id,
  warehouseId: id,
  quantityBefore: z.number().int().nullable().optional(),
  quantityAfter: z.number().int().nullable().optional(),
  delta: z.number().int().optional(),
  orderId: id.nullable().optional(),
  customerId: id.nullable().optional(),
  eventTime: z.union([z.number(), z.string()]),
});

const ISO_PREFIX = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
const isDigit = (c: number) => c >= 48 && c <= 57;

/** YYYY-MM-DDTHH:MM…, checked by character codes first (a regex per record is measurable). */
function looksIso(v: string): boolean {
  if (v.length < 16 || v.charCodeAt(4) !== 45 || v.charCodeAt(7) !== 45 || v.charCodeAt(10) !== 84 || v.charCodeAt(13) !== 58) return false;
  for (const i of [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15]) if (!isDigit(v.charCodeAt(i))) return ISO_PREFIX.test(v);
  return true;
}

const MIN_TIME = Date.UTC(2000, 0, 1);
const MAX_TIME = Date.UTC(2100, 0, 1);

/** Whether an event time (epoch ms) is in the years 2000..2099. */
export const inEventTimeRange = (ms: number): boolean => ms >= MIN_TIME && ms < MAX_TIME;

/** A numeric event time in epoch milliseconds: below 1e11 it is epoch seconds (see parseEventTime). */
export const epochMillis = (v: number): number => Math.round(v < 1e11 ? v * 1000 : v);

/**
 * Epoch milliseconds from an ISO-8601 string or a number. Numbers below 1e11 are taken as epoch
 * seconds (1e11 ms is 1973, 1e11 s is year 5138), because producers send both.
 */
export function parseEventTime(v: number | string): number | string {
  let ms: number;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return 'eventTime is not a finite number';
    ms = epochMillis(v);
  } else {
    if (!looksIso(v)) return `eventTime "${v.slice(0, 40)}" is not an ISO-8601 date-time`;
    ms = Date.parse(v);
    if (Number.isNaN(ms)) return `eventTime "${v.slice(0, 40)}" is not a valid date-time`;
  }
  if (!inEventTimeRange(ms)) return `eventTime ${JSON.stringify(v)} is outside the years 2000..2099`;
  return ms;
}

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join('.') || '(record)'}: ${i.message}`)
    .join('; ');
}

const TYPES: ReadonlySet<unknown> = new Set(EVENT_TYPES);
const isId = (v: unknown): boolean => typeof v === 'string' && v.length >= 1 && v.length <= MAX_ID_LENGTH;
const isOptId = (v: unknown): boolean => v === undefined || v === null || isId(v);
const isOptInt = (v: unknown): boolean => v === undefined || v === null || Number.isSafeInteger(v);

/**
 * The checks of `CanonicalEvent`, written out: zod costs several microseconds a record, which
 * at hundreds of thousands of records a second is most of the budget. Anything this rejects is
 * re-checked by zod, so the schema stays the one source of the error messages (and the test
 * holds the two to agreement).
 */
export function looksCanonical(o: Record<string, unknown>): boolean {
  return (
    TYPES.has(o.eventType) &&
    isId(o.sku) &&
    isId(o.warehouseId) &&
    isOptInt(o.quantityBefore) &&
    isOptInt(o.quantityAfter) &&
    (o.delta === undefined || Number.isSafeInteger(o.delta)) &&
    isOptId(o.orderId) &&
    isOptId(o.customerId) &&
    (typeof o.eventTime === 'number' || typeof o.eventTime === 'string')
  );
}

/** The delta as given, or derived from the quantities; a string says why there is none. */
export function deltaOf(before: number | null, after: number | null, delta: number | undefined): number | string {
  if (delta === undefined) {
    if (before === null || after === null) return 'delta is missing and cannot be derived (needs quantityBefore and quantityAfter)';
    return after - before;
  }
  if (before !== null && after !== null && after - before !== delta) return `delta ${delta} contradicts quantityAfter - quantityBefore = ${after - before}`;
  return delta;
}

export function decodeCanonical(value: unknown): DecodeResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return decodeFailure('RECORD_INVALID', `expected a JSON object, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`);
  }
  let e: z.infer<typeof CanonicalEvent>;
  if (looksCanonical(value as Record<string, unknown>)) e = value as z.infer<typeof CanonicalEvent>;
  else {
    const parsed = CanonicalEvent.safeParse(value);
    if (!parsed.success) return decodeFailure('RECORD_INVALID', describe(parsed.error));
    e = parsed.data;
  }
  const eventTime = parseEventTime(e.eventTime);
  if (typeof eventTime === 'string') return decodeFailure('RECORD_INVALID', eventTime);
  const before = e.quantityBefore ?? null;
  const after = e.quantityAfter ?? null;
  const delta = deltaOf(before, after, e.delta);
  if (typeof delta === 'string') return decodeFailure('RECORD_INVALID', delta);
  const fields: ChangeFields = {
    eventType: e.eventType,
    sku: e.sku,
    warehouseId: e.warehouseId,
    quantityBefore: before,
    quantityAfter: after,
    delta,
    orderId: e.orderId ?? null,
    customerId: e.customerId ?? null,
    eventTime,
  };
  return { ok: true, fields };
}
