import type { Enrichment, EventType, InventoryChange } from './model.js';
import { packSeq } from './seq-log.js';

/** Rows per block: DuckDB's vector size, so an encoder can hand a block over as one data chunk. */
export const BLOCK_ROWS = 2048;

/** What every batch of changes offers: arrays qualify, and so does ChangeColumns. */
export interface ChangeList extends Iterable<InventoryChange> {
  readonly length: number;
  at(index: number): InventoryChange | undefined;
}

/**
 * Per-batch dictionary of one text column: value → 1-based code. The previous value is
 * remembered (source, stream and shard repeat row after row), and a column that turns out mostly
 * distinct (order ids) stops being coded after a sample: its values are kept as they are.
 */
export class TextDictionary {
  static readonly LIMIT = 4096;
  private static readonly SAMPLE = 512;
  readonly values: string[] = [];
  private readonly codes = new Map<string, number>();
  private lastValue: string | undefined;
  private lastCode = 0;
  private lookups = 0;
  private full = false;

  /** Code of `v`, or 0 when it is to be kept as is. */
  code(v: string): number {
    if (v === this.lastValue) return this.lastCode;
    if (this.full) return 0;
    this.lookups++;
    let code = this.codes.get(v);
    if (code === undefined) {
      if (this.values.length >= TextDictionary.LIMIT || (this.lookups > TextDictionary.SAMPLE && this.values.length > this.lookups / 2)) {
        this.full = true;
        return 0;
      }
      code = this.values.push(v);
      this.codes.set(v, code);
    }
    this.lastValue = v;
    this.lastCode = code;
    return code;
  }
}

/** One text column of a block: a code per row, and the value itself where the code is 0. */
export interface CodedText {
  readonly codes: Int32Array;
  /** Value of rows whose code is 0 (null stays null); sparse-ish, filled only where needed. */
  plain: Array<string | null>;
}

const TEXT_COLUMNS = ['source', 'stream', 'shard', 'eventType', 'sku', 'warehouseId', 'orderId', 'customerId'] as const;
export type TextColumn = (typeof TEXT_COLUMNS)[number];
const NUMBER_COLUMNS = ['quantityBefore', 'quantityAfter', 'delta', 'eventTime', 'ingestTime'] as const;
export type NumberColumn = (typeof NUMBER_COLUMNS)[number];

const NO_PLAIN: Array<string | null> = Object.freeze([]) as unknown as Array<string | null>;

/** Up to BLOCK_ROWS changes, column by column. */
export class ChangeBlock {
  rows = 0;
  /** Event ids that are 32 lowercase hex digits as four little-endian 32-bit words (the last 8 digits first). */
  readonly idWords = new Uint32Array(BLOCK_ROWS * 4);
  /** Event ids that are not: by row. */
  readonly idText = new Map<number, string>();
  /**
   * Sequences that are small decimals (file lines, Kafka offsets) as numbers, else NaN: a string
   * per row lives as long as the batch, so in V8's old space.
   */
  readonly seqNums = new Float64Array(BLOCK_ROWS);
  /**
   * The other sequences (Kinesis, DynamoDB), by row. Arrays are allocated at full size: grown by
   * push, each left its outgrown copies behind in old space, about 150 bytes of garbage a row.
   */
  readonly sequence: Array<string | undefined> = new Array<string | undefined>(BLOCK_ROWS);
  /** null is NaN (every other value is an integer). */
  readonly numbers: Record<NumberColumn, Float64Array> = {
    quantityBefore: new Float64Array(BLOCK_ROWS),
    quantityAfter: new Float64Array(BLOCK_ROWS),
    delta: new Float64Array(BLOCK_ROWS),
    eventTime: new Float64Array(BLOCK_ROWS),
    ingestTime: new Float64Array(BLOCK_ROWS),
  };
  /** `plain` starts as NO_PLAIN: most columns are all coded, and a slot array is 16 kB of heap. */
  readonly text = Object.fromEntries(TEXT_COLUMNS.map((c) => [c, { codes: new Int32Array(BLOCK_ROWS), plain: NO_PLAIN }])) as unknown as Record<TextColumn, CodedText>;
  /** Enrichment objects are shared (cached lookups, NOT_ENRICHED), so rows keep references. */
  readonly enrichment: Enrichment[] = new Array<Enrichment>(BLOCK_ROWS);

  sequenceAt(i: number): string {
    const n = this.seqNums[i]!;
    return Number.isNaN(n) ? this.sequence[i]! : String(n);
  }

  /** Empties the block for reuse; typed columns are overwritten row by row, so they are left as they are. */
  reset(): void {
    this.rows = 0;
    this.idText.clear();
    // Cleared, not truncated: truncating would give the backing stores up.
    this.sequence.fill(undefined);
    for (const c of Object.values(this.text)) if (c.plain !== NO_PLAIN) c.plain.fill(undefined as unknown as null);
    this.enrichment.fill(undefined as unknown as Enrichment);
  }
}

/**
 * Blocks of released batches, reused by new ones. Blocks live as long as their batch, so they
 * die in V8's old space; freed only by a full collection, their memory piled up as garbage and
 * fragmented the native heap (tens of MB of resident memory). The pool caps what it keeps.
 */
const pool: ChangeBlock[] = [];
const POOL_MAX = 32;

const HEX = new Int8Array(128).fill(-1);
for (let c = 0; c < 16; c++) HEX['0123456789abcdef'.charCodeAt(c)] = c;
const HEX_DIGITS = '0123456789abcdef';

/** Writes a 32-digit lowercase hex id into words[at..at+3]; false when `s` is not one. */
function hexToWords(s: string, words: Uint32Array, at: number): boolean {
  if (s.length !== 32) return false;
  for (let w = 0; w < 4; w++) {
    let word = 0;
    for (let k = 0, pos = 32 - (w + 1) * 8; k < 8; k++) {
      const c = s.charCodeAt(pos + k);
      const v = c < 128 ? HEX[c]! : -1;
      if (v < 0) return false;
      word = word * 16 + v;
    }
    words[at + w] = word;
  }
  return true;
}

function wordsToHex(words: Uint32Array, at: number): string {
  let s = '';
  for (let w = 3; w >= 0; w--) {
    const word = words[at + w]!;
    for (let shift = 28; shift >= 0; shift -= 4) s += HEX_DIGITS[(word >>> shift) & 15];
  }
  return s;
}

/**
 * A batch of changes held column by column instead of as objects. A batch waits up to its max
 * age in memory; as objects, every buffered change survived into V8's old space and died there,
 * which made the heap several times the live data and garbage collection a tenth of the CPU.
 * Here a change costs a few typed-array slots and the strings that are truly distinct (sequence,
 * order and customer ids); repeated text (source, shard, sku, warehouse) is dictionary-coded
 * once per batch, which is also the layout the Parquet encoder hands to DuckDB.
 */
export class ChangeColumns implements ChangeList {
  readonly blocks: ChangeBlock[] = [];
  readonly dictionaries = Object.fromEntries(TEXT_COLUMNS.map((c) => [c, new TextDictionary()])) as unknown as Record<TextColumn, TextDictionary>;
  private count = 0;
  minEventTime = Number.POSITIVE_INFINITY;
  maxEventTime = Number.NEGATIVE_INFINITY;

  static from(changes: Iterable<InventoryChange>): ChangeColumns {
    if (changes instanceof ChangeColumns) return changes;
    const cols = new ChangeColumns();
    for (const c of changes) cols.push(c);
    return cols;
  }

  get length(): number {
    return this.count;
  }

  push(c: InventoryChange): void {
    let block = this.blocks[this.blocks.length - 1];
    if (!block || block.rows === BLOCK_ROWS) this.blocks.push((block = pool.pop() ?? new ChangeBlock()));
    const i = block.rows++;
    this.count++;
    if (!hexToWords(c.eventId, block.idWords, i * 4)) block.idText.set(i, c.eventId);
    const seq = packSeq(c.sequence);
    block.seqNums[i] = seq;
    if (Number.isNaN(seq)) block.sequence[i] = c.sequence;
    const n = block.numbers;
    n.quantityBefore[i] = c.quantityBefore ?? Number.NaN;
    n.quantityAfter[i] = c.quantityAfter ?? Number.NaN;
    n.delta[i] = c.delta;
    n.eventTime[i] = c.eventTime;
    n.ingestTime[i] = c.ingestTime;
    if (c.eventTime < this.minEventTime) this.minEventTime = c.eventTime;
    if (c.eventTime > this.maxEventTime) this.maxEventTime = c.eventTime;
    const d = this.dictionaries;
    const t = block.text;
    this.setText(t.source, d.source, i, c.source);
    this.setText(t.stream, d.stream, i, c.stream);
    this.setText(t.shard, d.shard, i, c.shard);
    this.setText(t.eventType, d.eventType, i, c.eventType);
    this.setText(t.sku, d.sku, i, c.sku);
    this.setText(t.warehouseId, d.warehouseId, i, c.warehouseId);
    this.setText(t.orderId, d.orderId, i, c.orderId);
    this.setText(t.customerId, d.customerId, i, c.customerId);
    block.enrichment[i] = c.enrichment;
  }

  private setText(col: CodedText, dict: TextDictionary, i: number, v: string | null): void {
    const code = v === null ? 0 : dict.code(v);
    col.codes[i] = code;
    // A null needs no slot: an empty one reads as null.
    if (code === 0 && v !== null) {
      if (col.plain === NO_PLAIN) col.plain = new Array<string | null>(BLOCK_ROWS);
      col.plain[i] = v;
    }
  }

  /**
   * Gives the blocks back for reuse by later batches and empties this one. Only the batch's owner
   * calls it, once nothing reads the batch any more (after its write).
   */
  release(): void {
    for (const b of this.blocks) {
      if (pool.length >= POOL_MAX) break;
      b.reset();
      pool.push(b);
    }
    this.blocks.length = 0;
    this.count = 0;
  }

  /** The change at `index` as an object (a copy: changing it does not change the batch). */
  at(index: number): InventoryChange | undefined {
    if (index < 0) index += this.count;
    if (!Number.isInteger(index) || index < 0 || index >= this.count) return undefined;
    const block = this.blocks[Math.floor(index / BLOCK_ROWS)]!;
    const i = index % BLOCK_ROWS;
    const n = block.numbers;
    const num = (a: Float64Array) => (Number.isNaN(a[i]!) ? null : a[i]!);
    const text = (c: TextColumn) => this.textAt(block, c, i);
    return {
      eventId: block.idText.get(i) ?? wordsToHex(block.idWords, i * 4),
      source: text('source') as InventoryChange['source'],
      stream: text('stream')!,
      shard: text('shard')!,
      sequence: block.sequenceAt(i),
      eventType: text('eventType') as EventType,
      sku: text('sku')!,
      warehouseId: text('warehouseId')!,
      quantityBefore: num(n.quantityBefore),
      quantityAfter: num(n.quantityAfter),
      delta: n.delta[i]!,
      orderId: text('orderId'),
      customerId: text('customerId'),
      eventTime: n.eventTime[i]!,
      ingestTime: n.ingestTime[i]!,
      enrichment: block.enrichment[i]!,
    };
  }

  private textAt(block: ChangeBlock, c: TextColumn, i: number): string | null {
    const code = block.text[c].codes[i]!;
    return code > 0 ? this.dictionaries[c].values[code - 1]! : (block.text[c].plain[i] ?? null);
  }

  *[Symbol.iterator](): Iterator<InventoryChange> {
    for (let k = 0; k < this.count; k++) yield this.at(k)!;
  }
}
