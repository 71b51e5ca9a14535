import { EVENT_TYPES, type EventType } from '../../core/model.js';
import type { ChangeFields } from './types.js';

/**
 * A fast path for the common case of `decodeCanonical(JSON.parse(bytes))`: one flat JSON object
 * of ASCII text without escapes, every value valid. It reads the bytes once, makes strings only
 * for the values kept, and parses ISO times itself; JSON.parse plus the checks cost about twice
 * as much, and they were the largest share of the CPU per event.
 *
 * It never decides a failure: anything it does not fully understand (escapes, non-ASCII, nested
 * values, fractions, an invalid or missing field, a time it does not parse) returns undefined
 * and the general path decodes the record, with its error messages. So for any input it accepts,
 * its result must equal the general path's (a differential test holds it to that).
 */
export function scanCanonical(b: Buffer): ChangeFields | undefined {
  const s = new Scanner(b);
  return s.object() ? s.fields() : undefined;
}

const enum K {
  EventType,
  Sku,
  WarehouseId,
  QuantityBefore,
  QuantityAfter,
  Delta,
  OrderId,
  CustomerId,
  EventTime,
  Other,
}

const KEYS: ReadonlyArray<readonly [string, K]> = [
  ['eventType', K.EventType],
  ['sku', K.Sku],
  ['warehouseId', K.WarehouseId],
  ['quantityBefore', K.QuantityBefore],
  ['quantityAfter', K.QuantityAfter],
  ['delta', K.Delta],
  ['orderId', K.OrderId],
  ['customerId', K.CustomerId],
  ['eventTime', K.EventTime],
];
const KEY_BYTES = KEYS.map(([k, id]) => ({ bytes: Buffer.from(k, 'latin1'), id }));
const TYPE_BYTES = EVENT_TYPES.map((t) => ({ bytes: Buffer.from(t, 'latin1'), type: t }));
/** Keys that make the general path read the record differently (a DynamoDB stream record). */
const DIVERTING = [Buffer.from('dynamodb', 'latin1'), Buffer.from('eventName', 'latin1')];

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MIN_TIME = Date.UTC(2000, 0, 1);
const MAX_TIME = Date.UTC(2100, 0, 1);
const MAX_ID = 512;

function same(b: Uint8Array, start: number, end: number, word: Uint8Array): boolean {
  if (end - start !== word.length) return false;
  for (let k = 0; k < word.length; k++) if (b[start + k] !== word[k]) return false;
  return true;
}

class Scanner {
  private i = 0;
  // Field values; `undefined` is absent, as in the parsed object.
  private eventType: EventType | undefined;
  private sku: string | undefined;
  private warehouseId: string | undefined;
  private before: number | null | undefined;
  private after: number | null | undefined;
  private delta: number | undefined;
  private orderId: string | null | undefined;
  private customerId: string | null | undefined;
  private eventTime: number | undefined;
  // Where the last string token's content lies.
  private strStart = 0;
  private strEnd = 0;

  constructor(private readonly b: Buffer) {}

  private ws(): void {
    const b = this.b;
    let c = b[this.i];
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++this.i];
  }

  /** A string without escapes, of printable ASCII; false for anything else. */
  private str(): boolean {
    const b = this.b;
    if (b[this.i] !== QUOTE) return false;
    const start = ++this.i;
    for (;;) {
      const c = b[this.i];
      if (c === undefined || c < 0x20 || c >= 0x7f || c === BACKSLASH) return false;
      if (c === QUOTE) break;
      this.i++;
    }
    this.strStart = start;
    this.strEnd = this.i++;
    return true;
  }

  private text(): string {
    return this.b.toString('latin1', this.strStart, this.strEnd);
  }

  /** An id: a string of 1..512 characters, or (when allowed) null. NaN marks failure. */
  private id(nullable: boolean): string | null | number {
    if (this.b[this.i] === 0x6e) return nullable && this.word('null') ? null : Number.NaN;
    if (!this.str()) return Number.NaN;
    const n = this.strEnd - this.strStart;
    return n >= 1 && n <= MAX_ID ? this.text() : Number.NaN;
  }

  private word(w: string): boolean {
    const b = this.b;
    for (let k = 0; k < w.length; k++) if (b[this.i + k] !== w.charCodeAt(k)) return false;
    this.i += w.length;
    return true;
  }

  /** A JSON integer of at most 15 digits (no fraction, exponent or -0); NaN otherwise. */
  private int(): number {
    const b = this.b;
    let neg = false;
    if (b[this.i] === 0x2d) {
      neg = true;
      this.i++;
    }
    const start = this.i;
    let v = 0;
    let c = b[this.i];
    while (c !== undefined && c >= 0x30 && c <= 0x39) {
      v = v * 10 + (c - 0x30);
      c = b[++this.i];
    }
    const digits = this.i - start;
    if (digits === 0 || digits > 15 || (digits > 1 && b[start] === 0x30)) return Number.NaN;
    if (c === 0x2e || c === 0x65 || c === 0x45) return Number.NaN;
    if (neg && v === 0) return Number.NaN;
    return neg ? -v : v;
  }

  private optInt(): number | null {
    if (this.b[this.i] === 0x6e) return this.word('null') ? null : Number.NaN;
    return this.int();
  }

  /** Skips a scalar value of a field the decoder ignores; false for anything not simple. */
  private skip(): boolean {
    const c = this.b[this.i];
    if (c === QUOTE) return this.str();
    if (c === 0x74) return this.word('true');
    if (c === 0x66) return this.word('false');
    if (c === 0x6e) return this.word('null');
    return !Number.isNaN(this.int());
  }

  private key(): K | undefined {
    if (!this.str()) return undefined;
    const { b, strStart: s, strEnd: e } = this;
    for (const k of KEY_BYTES) if (same(b, s, e, k.bytes)) return k.id;
    for (const d of DIVERTING) if (same(b, s, e, d)) return undefined;
    return K.Other;
  }

  private type(): EventType | undefined {
    if (!this.str()) return undefined;
    for (const t of TYPE_BYTES) if (same(this.b, this.strStart, this.strEnd, t.bytes)) return t.type;
    return undefined;
  }

  /** One value into its field; false when the general path has to decide. */
  private value(k: K): boolean {
    switch (k) {
      case K.EventType:
        return (this.eventType = this.type()) !== undefined;
      case K.Sku: {
        const v = this.id(false);
        return typeof v === 'string' && ((this.sku = v), true);
      }
      case K.WarehouseId: {
        const v = this.id(false);
        return typeof v === 'string' && ((this.warehouseId = v), true);
      }
      case K.OrderId: {
        const v = this.id(true);
        return typeof v !== 'number' && ((this.orderId = v), true);
      }
      case K.CustomerId: {
        const v = this.id(true);
        return typeof v !== 'number' && ((this.customerId = v), true);
      }
      case K.QuantityBefore:
        return !Number.isNaN((this.before = this.optInt()));
      case K.QuantityAfter:
        return !Number.isNaN((this.after = this.optInt()));
      case K.Delta:
        return !Number.isNaN((this.delta = this.int()));
      case K.EventTime: {
        if (this.b[this.i] === QUOTE) {
          if (!this.str()) return false;
          this.eventTime = isoMillis(this.b, this.strStart, this.strEnd);
        } else {
          const n = this.int();
          this.eventTime = Number.isNaN(n) ? n : n < 1e11 ? n * 1000 : n;
        }
        return !Number.isNaN(this.eventTime);
      }
      default:
        return this.skip();
    }
  }

  object(): boolean {
    const b = this.b;
    this.ws();
    if (b[this.i++] !== 0x7b) return false;
    this.ws();
    if (b[this.i] === 0x7d) return false;
    for (;;) {
      const k = this.key();
      if (k === undefined) return false;
      this.ws();
      if (b[this.i++] !== 0x3a) return false;
      this.ws();
      if (!this.value(k)) return false;
      this.ws();
      const c = b[this.i++];
      if (c === 0x7d) break;
      if (c !== 0x2c) return false;
      this.ws();
    }
    this.ws();
    return this.i === b.length;
  }

  fields(): ChangeFields | undefined {
    const { eventType, sku, warehouseId, eventTime } = this;
    if (eventType === undefined || sku === undefined || warehouseId === undefined || eventTime === undefined) return undefined;
    if (eventTime < MIN_TIME || eventTime >= MAX_TIME) return undefined;
    const before = this.before ?? null;
    const after = this.after ?? null;
    let delta = this.delta;
    if (delta === undefined) {
      if (before === null || after === null) return undefined;
      delta = after - before;
    } else if (before !== null && after !== null && after - before !== delta) return undefined;
    return {
      eventType,
      sku,
      warehouseId,
      quantityBefore: before,
      quantityAfter: after,
      delta,
      orderId: this.orderId ?? null,
      customerId: this.customerId ?? null,
      eventTime,
    };
  }
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Digits b[at..at+n) as a number, or -1. */
function digits(b: Uint8Array, at: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const c = b[at + k]! - 0x30;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/**
 * Epoch milliseconds of `YYYY-MM-DDTHH:MM:SS[.f{1,3}](Z|±HH:MM)`, the form producers send; NaN
 * for any other form (the general path then uses Date.parse, which also reads the rest).
 */
export function isoMillis(b: Uint8Array, start: number, end: number): number {
  const n = end - start;
  if (n < 20 || b[start + 4] !== 0x2d || b[start + 7] !== 0x2d || b[start + 10] !== 0x54 || b[start + 13] !== 0x3a || b[start + 16] !== 0x3a) return Number.NaN;
  const year = digits(b, start, 4);
  const month = digits(b, start + 5, 2);
  const day = digits(b, start + 8, 2);
  const hour = digits(b, start + 11, 2);
  const minute = digits(b, start + 14, 2);
  const second = digits(b, start + 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return Number.NaN;
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > DAYS[month - 1]! + (leap ? 1 : 0)) return Number.NaN;
  let i = start + 19;
  let ms = 0;
  if (b[i] === 0x2e) {
    let k = 0;
    for (i++; k < 3 && i < end && b[i]! >= 0x30 && b[i]! <= 0x39; k++, i++) ms = ms * 10 + (b[i]! - 0x30);
    if (k === 0 || (i < end && b[i]! >= 0x30 && b[i]! <= 0x39)) return Number.NaN;
    for (; k < 3; k++) ms *= 10;
  }
  let offset = 0;
  if (b[i] === 0x5a) i++;
  else if (b[i] === 0x2b || b[i] === 0x2d) {
    if (end - i !== 6 || b[i + 3] !== 0x3a) return Number.NaN;
    const oh = digits(b, i + 1, 2);
    const om = digits(b, i + 4, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return Number.NaN;
    offset = (b[i] === 0x2d ? -1 : 1) * (oh * 60 + om) * 60_000;
    i += 6;
  } else return Number.NaN;
  if (i !== end) return Number.NaN;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms) - offset;
}
