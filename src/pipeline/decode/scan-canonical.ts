import { EVENT_TYPES, type EventType } from '../../core/model.js';
import { deltaOf, epochMillis, inEventTimeRange, MAX_ID_LENGTH } from './canonical.js';
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
  // One scanner, reset per record (scanning is synchronous): an object fewer per record.
  const s = scanner.reset(b);
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

/** Each known key as it appears quoted in the input, by K. */
const KEY_TOKENS: readonly Uint8Array[] = ['eventType', 'sku', 'warehouseId', 'quantityBefore', 'quantityAfter', 'delta', 'orderId', 'customerId', 'eventTime'].map((k) =>
  Buffer.from(`"${k}"`, 'latin1'),
);
const CACHE_SIZE = 8192;
const cache: Array<string | undefined> = new Array<string | undefined>(CACHE_SIZE).fill(undefined);

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Whether b[at..] starts with the ASCII `word` (the caller has checked the length). */
function is(b: Uint8Array, at: number, word: string): boolean {
  for (let k = 0; k < word.length; k++) if (b[at + k] !== word.charCodeAt(k)) return false;
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
  private strHash = 0;

  private b: Buffer = Buffer.alloc(0);

  reset(b: Buffer): this {
    this.b = b;
    this.i = 0;
    this.eventType = undefined;
    this.sku = undefined;
    this.warehouseId = undefined;
    this.before = undefined;
    this.after = undefined;
    this.delta = undefined;
    this.orderId = undefined;
    this.customerId = undefined;
    this.eventTime = undefined;
    return this;
  }

  // Loops keep the index in a local and stay in bounds: reading past the end of a typed array,
  // or through `this` on every byte, made the scan slower than JSON.parse.
  private ws(): void {
    const b = this.b;
    const n = b.length;
    let i = this.i;
    while (i < n) {
      const c = b[i]!;
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      i++;
    }
    this.i = i;
  }

  /** A string without escapes, of printable ASCII; false for anything else. */
  private str(): boolean {
    const b = this.b;
    const n = b.length;
    let i = this.i;
    if (i >= n || b[i] !== QUOTE) return false;
    const start = ++i;
    let h = 0;
    for (; i < n; i++) {
      const c = b[i]!;
      if (c === QUOTE) break;
      if (c < 0x20 || c >= 0x7f || c === BACKSLASH) return false;
      h = (Math.imul(h, 31) + c) | 0;
    }
    if (i >= n) return false;
    this.strHash = h;
    this.strStart = start;
    this.strEnd = i;
    this.i = i + 1;
    return true;
  }

  /** The byte at the index, or -1 past the end. */
  private peek(): number {
    return this.i < this.b.length ? this.b[this.i]! : -1;
  }

  /**
   * The last string token as a string. Values repeat (skus, warehouses, customers), so recent
   * ones are kept in a small table by hash: a hit makes no string, and a string seen before
   * has its hash computed already for the dictionaries downstream.
   */
  private text(): string {
    const { b, strStart: start, strEnd: end } = this;
    const slot = (this.strHash ^ (end - start)) & (CACHE_SIZE - 1);
    const cached = cache[slot];
    if (cached !== undefined && cached.length === end - start) {
      let k = 0;
      while (k < cached.length && cached.charCodeAt(k) === b[start + k]) k++;
      if (k === cached.length) return cached;
    }
    const v = b.toString('latin1', start, end);
    cache[slot] = v;
    return v;
  }

  /** An id: a string of 1..512 characters, or (when allowed) null. NaN marks failure. */
  private id(nullable: boolean): string | null | number {
    if (this.peek() === 0x6e) return nullable && this.word('null') ? null : Number.NaN;
    if (!this.str()) return Number.NaN;
    const n = this.strEnd - this.strStart;
    return n >= 1 && n <= MAX_ID_LENGTH ? this.text() : Number.NaN;
  }

  private word(w: string): boolean {
    if (this.i + w.length > this.b.length || !is(this.b, this.i, w)) return false;
    this.i += w.length;
    return true;
  }

  /** A JSON integer of at most 15 digits (no fraction, exponent or -0); NaN otherwise. */
  private int(): number {
    const b = this.b;
    const n = b.length;
    let i = this.i;
    const neg = i < n && b[i] === 0x2d;
    if (neg) i++;
    const start = i;
    let v = 0;
    let c = -1;
    for (; i < n; i++) {
      c = b[i]!;
      if (c < 0x30 || c > 0x39) break;
      v = v * 10 + (c - 0x30);
    }
    this.i = i;
    const digits = i - start;
    if (digits === 0 || digits > 15 || (digits > 1 && b[start] === 0x30)) return Number.NaN;
    if (i < n && (c === 0x2e || c === 0x65 || c === 0x45)) return Number.NaN;
    if (neg && v === 0) return Number.NaN;
    return neg ? -v : v;
  }

  /** Consumes the byte `c` if it is next. */
  private eat(c: number): boolean {
    if (this.i >= this.b.length || this.b[this.i] !== c) return false;
    this.i++;
    return true;
  }

  private optInt(): number | null {
    if (this.peek() === 0x6e) return this.word('null') ? null : Number.NaN;
    return this.int();
  }

  /** Skips a scalar value of a field the decoder ignores; false for anything not simple. */
  private skip(): boolean {
    const c = this.peek();
    if (c === QUOTE) return this.str();
    if (c === 0x74) return this.word('true');
    if (c === 0x66) return this.word('false');
    if (c === 0x6e) return this.word('null');
    return !Number.isNaN(this.int());
  }

  /** The field a key names (by length first: a record has nine keys to tell apart). */
  private key(): K | undefined {
    if (!this.str()) return undefined;
    const { b, strStart: at } = this;
    switch (this.strEnd - at) {
      case 3:
        return is(b, at, 'sku') ? K.Sku : K.Other;
      case 5:
        return is(b, at, 'delta') ? K.Delta : K.Other;
      case 7:
        return is(b, at, 'orderId') ? K.OrderId : K.Other;
      case 8:
        // A DynamoDB stream record: the general path reads those.
        return is(b, at, 'dynamodb') ? undefined : K.Other;
      case 9:
        if (!is(b, at, 'event')) return K.Other;
        return is(b, at + 5, 'Type') ? K.EventType : is(b, at + 5, 'Time') ? K.EventTime : is(b, at + 5, 'Name') ? undefined : K.Other;
      case 10:
        return is(b, at, 'customerId') ? K.CustomerId : K.Other;
      case 11:
        return is(b, at, 'warehouseId') ? K.WarehouseId : K.Other;
      case 13:
        return is(b, at, 'quantityAfter') ? K.QuantityAfter : K.Other;
      case 14:
        return is(b, at, 'quantityBefore') ? K.QuantityBefore : K.Other;
      default:
        return K.Other;
    }
  }

  private type(): EventType | undefined {
    if (!this.str()) return undefined;
    const { b, strStart: at } = this;
    const n = this.strEnd - at;
    for (const t of EVENT_TYPES) if (t.length === n && is(b, at, t)) return t;
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
        if (this.peek() === QUOTE) {
          if (!this.str()) return false;
          this.eventTime = isoMillis(this.b, this.strStart, this.strEnd);
        } else {
          const n = this.int();
          this.eventTime = Number.isNaN(n) ? n : epochMillis(n);
        }
        return !Number.isNaN(this.eventTime);
      }
      default:
        return this.skip();
    }
  }

  /**
   * The key at the index if it is the one `expected` says (the previous record's key in this
   * place: producers write their keys in one order), consumed in one comparison; else undefined.
   */
  private expectedKey(f: number): K | undefined {
    const k = expected[f];
    if (k === undefined) return undefined;
    const token = KEY_TOKENS[k]!;
    const b = this.b;
    const i = this.i;
    if (i + token.length > b.length) return undefined;
    for (let j = 0; j < token.length; j++) if (b[i + j] !== token[j]) return undefined;
    this.i = i + token.length;
    return k;
  }

  object(): boolean {
    this.ws();
    if (!this.eat(0x7b)) return false;
    this.ws();
    for (let f = 0; ; f++) {
      let k = this.expectedKey(f);
      if (k === undefined) {
        k = this.key();
        if (k === undefined) return false;
        if (k !== K.Other && f < MAX_EXPECTED) expected[f] = k;
      }
      this.ws();
      if (!this.eat(0x3a)) return false;
      this.ws();
      if (!this.value(k)) return false;
      this.ws();
      if (this.eat(0x7d)) break;
      if (!this.eat(0x2c)) return false;
      this.ws();
    }
    this.ws();
    return this.i === this.b.length;
  }

  fields(): ChangeFields | undefined {
    const { eventType, sku, warehouseId, eventTime } = this;
    if (eventType === undefined || sku === undefined || warehouseId === undefined || eventTime === undefined) return undefined;
    if (!inEventTimeRange(eventTime)) return undefined;
    const before = this.before ?? null;
    const after = this.after ?? null;
    // The same rules as the general path, from the same functions; its failures are its to report.
    const delta = deltaOf(before, after, this.delta);
    if (typeof delta === 'string') return undefined;
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

const scanner = new Scanner();
/** Known keys by position, as the last records had them (see Scanner.expectedKey). */
const MAX_EXPECTED = 16;
const expected: Array<K | undefined> = new Array<K | undefined>(MAX_EXPECTED).fill(undefined);

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
  return (daysFromCivil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second) * 1000 + ms - offset;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil): Date.UTC without the call. */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}
