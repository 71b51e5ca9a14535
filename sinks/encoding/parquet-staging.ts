import type duckdb from '@duckdb/node-bindings';
import { DOUBLE, DuckDBDataChunk, type DuckDBType, INTEGER, MAP, UHUGEINT, VARCHAR } from '@duckdb/node-api';
import { sqlString } from '../../src/catalog/duckdb-sql.js';
import { RAW_COLUMNS } from '../../src/core/columns.js';
import { BLOCK_ROWS, type ChangeBlock, type ChangeColumns, TextDictionary, type CodedText, type NumberColumn, type TextColumn } from '../../src/core/change-columns.js';
import type { Enrichment } from '../../src/core/model.js';
import { type MapArena, NO_MAP, type TextMap } from './map-arena.js';
import { MapWriter } from './map-writer.js';
import { CHUNK_ROWS, CodeWriter, type ColumnWriter, flushChunk, TextWriter, TypedArrayWriter } from './staging.js';

/**
 * How a batch of changes is laid out in DuckDB before it is copied to Parquet, and the SQL that
 * turns that layout into RAW_COLUMNS.
 *
 * Repetitive text (source, shard, sku, statuses, failed lists...) is dictionary-coded per
 * batch: each row carries an INTEGER code, each distinct value crosses into DuckDB once (and a
 * JSON list is parsed once), which is what makes the encoder cheap on the JS thread. Past
 * `DICT_LIMIT` distinct values a column spills to a plain VARCHAR per row ("over"). The
 * enrichment maps are staged as MAP columns row by row (see map-writer.ts): coding them saved
 * the JS thread less than extracting each row's map from a list cost DuckDB.
 */
export const DICT_LIMIT = TextDictionary.LIMIT;
/** Lookups made before deciding whether a column is worth coding (more than half distinct: not). */
const SAMPLE = 512;

type JsonKind = 'list';
/** A column coded by ChangeColumns as the batch was built (text), or here by object (enrichment). */
type DictColumn =
  | { readonly raw: string; readonly text: TextColumn; readonly json?: undefined }
  | { readonly raw: string; readonly json?: JsonKind; readonly get: (e: Enrichment) => string | object | null; readonly text?: undefined };

const DICT_COLUMNS: readonly DictColumn[] = [
  { raw: 'source', text: 'source' },
  { raw: 'stream', text: 'stream' },
  { raw: 'shard', text: 'shard' },
  { raw: 'event_type', text: 'eventType' },
  { raw: 'sku', text: 'sku' },
  { raw: 'warehouse_id', text: 'warehouseId' },
  { raw: 'order_id', text: 'orderId' },
  { raw: 'customer_id', text: 'customerId' },
  { raw: 'enrichment_status', get: (e) => e.status },
  { raw: 'enrichment_failed', json: 'list', get: (e) => e.failed },
];

const JSON_TYPE: Record<JsonKind, string> = { list: 'VARCHAR[]' };

/** The enrichment maps: staged as MAP(VARCHAR, VARCHAR) columns, or a constant. */
interface MapColumn {
  readonly raw: string;
  readonly get: (e: Enrichment) => TextMap | null;
}
/** In this order: a row's two map records are found together (MapArena.recordsOf). */
const MAP_COLUMNS: readonly MapColumn[] = [
  { raw: 'customer', get: (e) => e.customer },
  { raw: 'order_info', get: (e) => e.order },
];
const MAP_TYPE = 'MAP(VARCHAR, VARCHAR)';

const NUMBER_COLUMNS = ['quantity_before', 'quantity_after', 'delta', 'event_time', 'ingest_time'] as const;
const NUMBER_KEYS: readonly NumberColumn[] = ['quantityBefore', 'quantityAfter', 'delta', 'eventTime', 'ingestTime'];
export const DICT_TYPES: readonly DuckDBType[] = [INTEGER, INTEGER, VARCHAR];
export const DICT_DDL = 'kind INTEGER, idx INTEGER, val VARCHAR';

/**
 * Which optional staging columns a batch needs: the text event id (ids that are not 32 hex
 * digits) and, per dictionary column, the plain "over" text (values that were not coded). Most
 * batches need few of them, and every staged column costs DuckDB memory and append time.
 */
export interface StageShape {
  readonly eventIdText: boolean;
  readonly over: readonly boolean[];
  /** Dictionary codes are staged (c_ columns) with a dictionary table; false for a small batch staged as plain text. */
  readonly coded: boolean;
  /**
   * Per dictionary column, the SQL of its value when every row has the same one (source,
   * stream and shard of a one-shard batch; enrichment of a pass-through run): not staged.
   */
  readonly constants: ReadonlyArray<string | undefined>;
  /** Per map column, likewise its SQL when every row has the same map (or none); else staged. */
  readonly maps: ReadonlyArray<string | undefined>;
}

/**
 * Batches up to this many rows are staged as plain text, without codes or dictionary table:
 * the dictionary SELECT (list aggregates, CASE per column) costs DuckDB a few milliseconds per
 * object whatever its size, several times what writing a small batch's text row by row costs.
 */
export const PLAIN_MAX_ROWS = BLOCK_ROWS;

/**
 * Dictionary values of all columns travel in one table and come back as one list per kind
 * (text, JSON list), each column at its own offset: a list per column cost an ordered aggregate
 * each, the largest fixed cost of a small object.
 */
const KINDS = ['text', 'list'] as const;
const kindOf = (c: DictColumn): number => (c.json === 'list' ? 1 : 0);

/** Where each dictionary column's values start in its kind's list, and which kinds have any. */
export interface DictionaryOffsets {
  readonly offsets: readonly number[];
  readonly kinds: readonly boolean[];
}

function rawExpression(name: string, shape: StageShape, dict: DictionaryOffsets): string {
  if (name === 'event_id') {
    const hex = `lower(lpad(hex(s.event_hex), 32, '0'))`;
    return shape.eventIdText ? `CASE WHEN s.event_hex IS NULL THEN s.event_id ELSE ${hex} END` : hex;
  }
  if (name === 'sequence') return 's.sequence';
  if (name === 'event_time' || name === 'ingest_time') return `make_timestamptz(CAST(s.n_${name} AS BIGINT) * 1000)`;
  if ((NUMBER_COLUMNS as readonly string[]).includes(name)) return `CAST(s.n_${name} AS BIGINT)`;
  const m = MAP_COLUMNS.findIndex((c) => c.raw === name);
  if (m >= 0) return shape.maps[m] ?? `s.m_${name}`;
  const k = DICT_COLUMNS.findIndex((d) => d.raw === name);
  const c = DICT_COLUMNS[k];
  if (!c) throw new Error(`parquet encoder has no mapping for raw column "${name}"`);
  const constant = shape.constants[k];
  if (constant !== undefined) return constant;
  const type = c.json ? JSON_TYPE[c.json] : 'VARCHAR';
  const over = !shape.over[k] ? `CAST(NULL AS ${type})` : c.json ? `CAST(CAST(s.o_${name} AS JSON) AS ${type})` : `s.o_${name}`;
  const kind = kindOf(c);
  if (!dict.kinds[kind]) return over;
  const offset = dict.offsets[k]!;
  return `CASE WHEN s.c_${name} > 0 THEN d.${KINDS[kind]}[s.c_${name}${offset > 0 ? ` + ${offset}` : ''}] ELSE ${over} END`;
}

function kindList(kind: number): string {
  const list = `list(val ORDER BY idx) FILTER (WHERE kind = ${kind})`;
  return kind === 0 ? list : `list_transform(${list}, x -> CAST(CAST(x AS JSON) AS ${JSON_TYPE[KINDS[kind] as JsonKind]}))`;
}

/** SELECT over the staged rows (table expression `from`) and table `dict`, producing RAW_COLUMNS in file order. */
export function selectRaw(shape: StageShape, dict: DictionaryOffsets, from: string): string {
  const lists = KINDS.flatMap((name, kind) => (dict.kinds[kind] ? [`${kindList(kind)} AS ${name}`] : []));
  const columns = RAW_COLUMNS.map((c) => `${rawExpression(c.name, shape, dict)} AS ${c.name}`).join(', ');
  return lists.length === 0 ? `SELECT ${columns} FROM ${from} s` : `WITH d AS (SELECT ${lists.join(', ')} FROM dict)\nSELECT ${columns} FROM ${from} s CROSS JOIN d`;
}

/** The staged columns of one batch shape, as the scan function declares them. */
export interface StageLayout {
  readonly names: readonly string[];
  readonly types: readonly DuckDBType[];
  /** Whether the batch uses the dictionary table. */
  readonly coded: boolean;
}

const layouts = new Map<string, StageLayout>();

/** Staging columns: event id as a number (and as text if needed), sequence, numbers, then per dictionary column its code (and plain text if needed). */
export function stageLayout(shape: StageShape): StageLayout {
  const key = `${shape.coded ? 1 : 0}${shape.eventIdText ? 1 : 0}${shape.over.map((o, k) => (shape.constants[k] !== undefined ? 'k' : o ? 1 : 0)).join('')}${shape.maps.map((m) => (m !== undefined ? 'k' : 1)).join('')}`;
  let layout = layouts.get(key);
  if (layout) return layout;
  const cols: Array<[string, DuckDBType]> = [['event_hex', UHUGEINT]];
  if (shape.eventIdText) cols.push(['event_id', VARCHAR]);
  cols.push(['sequence', VARCHAR], ...NUMBER_COLUMNS.map((n): [string, DuckDBType] => [`n_${n}`, DOUBLE]));
  DICT_COLUMNS.forEach((c, k) => {
    if (shape.constants[k] !== undefined) return;
    if (shape.coded) cols.push([`c_${c.raw}`, INTEGER]);
    if (shape.over[k]) cols.push([`o_${c.raw}`, VARCHAR]);
  });
  MAP_COLUMNS.forEach((c, m) => {
    if (shape.maps[m] === undefined) cols.push([`m_${c.raw}`, MAP(VARCHAR, VARCHAR)]);
  });
  layout = { names: cols.map((c) => c[0]), types: cols.map((c) => c[1]), coded: shape.coded };
  layouts.set(key, layout);
  return layout;
}

/**
 * Per-batch dictionary of an object-valued column (enrichment maps and lists): value → code
 * (1-based). The objects are shared (cached lookups, NOT_ENRICHED), so a reference seen before
 * is found without serializing it; the previous value is remembered, and a column that turns
 * out mostly distinct stops being coded after a sample.
 */
class ObjectDictionary {
  readonly values: string[] = [];
  private readonly byText = new Map<string, number>();
  private readonly byRef = new Map<object, number>();
  private lastValue: string | object | undefined;
  private lastCode = 0;
  private lookups = 0;
  private full = false;

  /** Code of `v` (adding it while there is room), or 0 when `v` is to be written as is. */
  code(v: string | object): number {
    if (v === this.lastValue) return this.lastCode;
    if (this.full) return 0;
    this.lookups++;
    const code = typeof v === 'object' ? this.codeOfObject(v) : this.codeOfText(v, v);
    this.lastValue = v;
    this.lastCode = code;
    return code;
  }

  private codeOfObject(v: object): number {
    const known = this.byRef.get(v);
    if (known !== undefined) return known;
    // Short lists (["customer"]) are keyed without JSON.stringify; NUL cannot start a JSON text.
    const key = Array.isArray(v) && v.length <= 1 ? `\u0000${v.length === 0 ? '' : String(v[0])}` : JSON.stringify(v);
    const code = this.codeOfText(key, v);
    if (code > 0) {
      if (this.byRef.size >= DICT_LIMIT) this.byRef.clear();
      this.byRef.set(v, code);
    }
    return code;
  }

  private codeOfText(key: string, v: string | object): number {
    const known = this.byText.get(key);
    if (known !== undefined) return known;
    if (this.values.length >= DICT_LIMIT || (this.lookups > SAMPLE && this.values.length > this.lookups / 2)) {
      this.full = true;
      return 0;
    }
    this.values.push(typeof v === 'object' ? JSON.stringify(v) : v);
    this.byText.set(key, this.values.length);
    return this.values.length;
  }
}

/**
 * JSON text of frozen values (the enricher's shared failed lists), kept per object: past the
 * dictionary limit every row's value was serialized again.
 */
const jsonOfFrozen = new WeakMap<object, string>();
function asText(v: string | object): string {
  if (typeof v !== 'object') return v;
  let text = jsonOfFrozen.get(v);
  if (text === undefined) {
    text = JSON.stringify(v);
    if (Object.isFrozen(v)) jsonOfFrozen.set(v, text);
  }
  return text;
}

/**
 * One batch laid out for DuckDB, one ChangeColumns block per data chunk: numbers, event ids and
 * the text codes ChangeColumns made while the batch was built are copied as whole typed arrays;
 * only sequences, uncoded text and the enrichment columns are written row by row. The
 * enrichment columns are coded for all rows up front, so the layout is known before staging.
 */
export class StagedBatch {
  readonly chunks: number;
  readonly rows: number;
  readonly layout: StageLayout;
  private readonly shape: StageShape;
  private readonly objectDicts = new Map<number, ObjectDictionary>();
  /** Per enrichment column (by DICT_COLUMNS index), the code of every row of the batch. */
  private readonly objectCodes = new Map<number, Int32Array>();
  private readonly eventHex = new TypedArrayWriter();
  private readonly eventId = new TextWriter();
  private readonly sequence = new TextWriter();
  private readonly nums = NUMBER_COLUMNS.map(() => new TypedArrayWriter());
  private readonly codes = DICT_COLUMNS.map(() => new TypedArrayWriter());
  private readonly overs = DICT_COLUMNS.map(() => new TextWriter());
  private readonly maps: MapWriter[];
  private readonly writers: ColumnWriter[];
  private filled = 0;
  /** Per row, the arena records of its two maps (see resolveMaps), valid while the arena is in generation `recordsGeneration`. */
  private mapRecords: Int32Array | undefined;
  private recordsGeneration = -1;

  constructor(
    private readonly records: ChangeColumns,
    private readonly arena: MapArena,
  ) {
    this.maps = MAP_COLUMNS.map(() => new MapWriter(arena));
    if (CHUNK_ROWS !== BLOCK_ROWS) throw new Error(`DuckDB vector size ${CHUNK_ROWS} differs from ChangeColumns blocks of ${BLOCK_ROWS} rows`);
    this.chunks = records.blocks.length;
    this.rows = records.length;
    const coded = records.length > PLAIN_MAX_ROWS;
    const over = DICT_COLUMNS.map((c, k) => {
      if (!coded) return hasValues(records, c);
      return c.text !== undefined ? hasPlainText(records, c.text) : this.codeObjects(k, c.get);
    });
    const constants = DICT_COLUMNS.map((c, k) => this.constantOf(c, k, coded, over[k]!));
    const maps = MAP_COLUMNS.map((c) => sameMap(records, c));
    this.shape = { eventIdText: records.blocks.some((b) => b.idText.size > 0), over, coded, constants, maps };
    this.layout = stageLayout(this.shape);
    if (maps.some((m) => m === undefined)) this.resolveMaps();
    this.writers = [this.eventHex];
    if (this.shape.eventIdText) this.writers.push(this.eventId);
    this.writers.push(this.sequence, ...this.nums);
    DICT_COLUMNS.forEach((_, k) => {
      if (constants[k] !== undefined) return;
      if (coded) this.writers.push(this.codes[k]!);
      if (over[k]) this.writers.push(this.overs[k]!);
    });
    MAP_COLUMNS.forEach((_, m) => {
      if (maps[m] === undefined) this.writers.push(this.maps[m]!);
    });
  }

  /**
   * The SQL of column `k` when all rows have one value (or all are null), else undefined. Only
   * values that are coded qualify: one dictionary entry and every row's code 1, or no value at all.
   */
  private constantOf(c: DictColumn, k: number, coded: boolean, over: boolean): string | undefined {
    const type = c.json ? JSON_TYPE[c.json] : 'VARCHAR';
    if (!coded) {
      if (!over) return `CAST(NULL AS ${type})`;
      if (c.text === undefined) return this.sameObject(c, type);
    } else if (over) return undefined;
    const values = c.text !== undefined ? this.records.dictionaries[c.text].values : this.objectDicts.get(k)!.values;
    let code = -1;
    let row = 0;
    for (const block of this.records.blocks) {
      const codes = c.text !== undefined ? block.text[c.text].codes : this.objectCodes.get(k)!.subarray(row, row + block.rows);
      row += block.rows;
      for (let i = 0; i < block.rows; i++) {
        if (code === -1) code = codes[i]!;
        else if (codes[i] !== code) return undefined;
      }
    }
    // Uncoded rows: nulls in a coded batch (no plain text there), plain text in a small one.
    if (code <= 0) return coded ? `CAST(NULL AS ${type})` : undefined;
    if (code !== 1 || values.length !== 1) return undefined;
    return constantSql(c, type, values[0]!);
  }

  /** In a small batch, an enrichment column whose rows all hold the same value (a shared object, as pass-through and cached lookups give). */
  private sameObject(c: DictColumn, type: string): string | undefined {
    if (c.text !== undefined) return undefined;
    let first: string | object | null | undefined;
    for (const block of this.records.blocks) {
      for (let i = 0; i < block.rows; i++) {
        const v = c.get(block.enrichment[i]!);
        if (first === undefined) first = v;
        else if (v !== first) return undefined;
      }
    }
    if (first === undefined || first === null) return `CAST(NULL AS ${type})`;
    return constantSql(c, type, asText(first));
  }

  /** Codes column `k` for every row; true when some value could not be coded (needs plain text). */
  private codeObjects(k: number, get: (e: Enrichment) => string | object | null): boolean {
    const dict = new ObjectDictionary();
    const codes = new Int32Array(this.records.length);
    let plain = false;
    let row = 0;
    for (const block of this.records.blocks) {
      for (let i = 0; i < block.rows; i++, row++) {
        const v = get(block.enrichment[i]!);
        const code = v === null ? 0 : dict.code(v);
        codes[row] = code;
        if (code === 0 && v !== null) plain = true;
      }
    }
    this.objectDicts.set(k, dict);
    this.objectCodes.set(k, codes);
    return plain;
  }

  /** Writes block `index` into `chunk`; returns its row count. */
  fill(index: number, chunk: duckdb.DataChunk): number {
    const block = this.records.blocks[index]!;
    const rows = block.rows;
    if (this.filled++ > 0) for (const w of this.writers) w.reset();
    this.eventHex.use(block.idWords, rows, 4);
    for (const i of block.idText.keys()) this.eventHex.validity.setNull(i);
    if (this.shape.eventIdText) for (let i = 0; i < rows; i++) this.eventId.set(i, block.idText.get(i) ?? null);
    const seqNums = block.seqNums;
    for (let i = 0; i < rows; i++) {
      const n = seqNums[i]!;
      if (Number.isNaN(n)) this.sequence.set(i, block.sequence[i]!);
      else this.sequence.setDecimal(i, n);
    }
    NUMBER_COLUMNS.forEach((name, k) => {
      const w = this.nums[k]!;
      const values = block.numbers[NUMBER_KEYS[k]!];
      w.use(values, rows);
      if (name === 'quantity_before' || name === 'quantity_after') for (let i = 0; i < rows; i++) if (Number.isNaN(values[i]!)) w.validity.setNull(i);
    });
    const offset = index * BLOCK_ROWS;
    DICT_COLUMNS.forEach((col, k) => {
      if (this.shape.constants[k] !== undefined) return;
      if (!this.shape.coded) this.fillPlain(block, col, k, rows);
      else if (col.text !== undefined) this.fillText(block.text[col.text], k, rows);
      else this.fillObjects(block.enrichment, col.get, k, offset, rows);
    });
    this.fillMaps(index, rows);
    flushChunk(chunk, this.writers, rows);
    return rows;
  }

  /**
   * Finds every row's map records now, in one pass right after the enrichment columns were
   * coded (their objects are still in the CPU's caches), so that filling a chunk later reads
   * only typed arrays. Should the arena start over in between (its maps outgrew it, here or in
   * another batch), the records are stale and fillMaps finds each row's as it writes it.
   */
  private resolveMaps(): void {
    const arena = this.arena;
    const generation = arena.generation;
    const out = new Int32Array(this.rows * 2);
    let row = 0;
    for (const block of this.records.blocks) {
      const enrichment = block.enrichment;
      for (let i = 0; i < block.rows; i++, row++) arena.recordsOf(enrichment[i]!, out, row * 2);
    }
    if (arena.generation !== generation) return;
    this.mapRecords = out;
    this.recordsGeneration = generation;
  }

  /** The staged map columns of block `index`. */
  private fillMaps(index: number, rows: number): void {
    const customer = this.shape.maps[0] === undefined ? this.maps[0]! : undefined;
    const order = this.shape.maps[1] === undefined ? this.maps[1]! : undefined;
    if (customer === undefined && order === undefined) return;
    const fresh = this.recordsGeneration === this.arena.generation;
    // Stale records: each row's are looked up as it is written (into a scratch pair), which stays
    // valid until that row's maps are copied, even if looking them up started the arena over.
    const records = fresh ? this.mapRecords! : new Int32Array(2);
    const enrichment = this.records.blocks[index]!.enrichment;
    for (let i = 0, row = index * BLOCK_ROWS; i < rows; i++, row++) {
      const at = fresh ? row * 2 : 0;
      if (!fresh) this.arena.recordsOf(enrichment[i]!, records, 0);
      const c = records[at]!;
      const o = records[at + 1]!;
      if (customer !== undefined) {
        if (c === NO_MAP) customer.setNull(i);
        else customer.setRecord(i, c);
      }
      if (order !== undefined) {
        if (o === NO_MAP) order.setNull(i);
        else order.setRecord(i, o);
      }
    }
  }

  /** Column `k` as text row by row, dictionary codes resolved here (small batches). */
  private fillPlain(block: ChangeBlock, col: DictColumn, k: number, rows: number): void {
    const over = this.overs[k]!;
    if (col.text !== undefined) {
      const { codes, plain } = block.text[col.text];
      const values = this.records.dictionaries[col.text].values;
      for (let i = 0; i < rows; i++) {
        const code = codes[i]!;
        over.set(i, code > 0 ? values[code - 1]! : (plain[i] ?? null));
      }
    } else {
      for (let i = 0; i < rows; i++) {
        const v = col.get(block.enrichment[i]!);
        over.set(i, v === null ? null : asText(v));
      }
    }
  }

  private fillText(col: CodedText, k: number, rows: number): void {
    this.codes[k]!.use(col.codes, rows);
    if (!this.shape.over[k]) return;
    const over = this.overs[k]!;
    for (let i = 0; i < rows; i++) over.set(i, col.codes[i]! > 0 ? null : (col.plain[i] ?? null));
  }

  private fillObjects(enrichment: readonly Enrichment[], get: (e: Enrichment) => string | object | null, k: number, offset: number, rows: number): void {
    const codes = this.objectCodes.get(k)!.subarray(offset, offset + rows);
    this.codes[k]!.use(codes, rows);
    if (!this.shape.over[k]) return;
    const over = this.overs[k]!;
    for (let i = 0; i < rows; i++) {
      const v = codes[i]! > 0 ? null : get(enrichment[i]!);
      over.set(i, v === null ? null : asText(v));
    }
  }

  /** The SELECT producing this batch's RAW_COLUMNS from its rows scanned as `from`, and the dictionary rows it reads. */
  dictionaries(from: string): { select: string; chunks: DuckDBDataChunk[] } {
    if (!this.shape.coded) return { select: selectRaw(this.shape, { offsets: [], kinds: [false, false] }, from), chunks: [] };
    const values = DICT_COLUMNS.map((c, k) => (c.text !== undefined ? this.records.dictionaries[c.text].values : this.objectDicts.get(k)!.values));
    const sizes = [0, 0];
    const offsets = DICT_COLUMNS.map((c, k) => {
      const kind = kindOf(c);
      const at = sizes[kind]!;
      sizes[kind] = at + values[k]!.length;
      return at;
    });
    const entries: Array<[number, number, string]> = [];
    DICT_COLUMNS.forEach((c, k) => values[k]!.forEach((v, i) => entries.push([kindOf(c), offsets[k]! + i + 1, v])));
    return { select: selectRaw(this.shape, { offsets, kinds: sizes.map((n) => n > 0) }, from), chunks: dictionaryChunks(entries) };
  }
}

/** A column's one value as SQL; undefined for text with NUL, which a SQL literal cannot hold. */
function constantSql(c: DictColumn, type: string, v: string): string | undefined {
  if (v.includes('\u0000')) return undefined;
  return c.json ? `CAST(CAST(${sqlString(v)} AS JSON) AS ${type})` : sqlString(v);
}

/** The SQL of map column `c` when every row holds the same map object (or none), else undefined. */
function sameMap(records: ChangeColumns, c: MapColumn): string | undefined {
  let first: TextMap | null | undefined;
  for (const block of records.blocks) {
    for (let i = 0; i < block.rows; i++) {
      const v = c.get(block.enrichment[i]!);
      if (first === undefined) first = v;
      else if (v !== first) return undefined;
    }
  }
  if (first === undefined || first === null) return `CAST(NULL AS ${MAP_TYPE})`;
  const json = JSON.stringify(first);
  return json.includes('\u0000') ? undefined : `CAST(CAST(${sqlString(json)} AS JSON) AS ${MAP_TYPE})`;
}

/** Whether any row of `col` is not null: an all-null column is not staged. */
function hasValues(records: ChangeColumns, col: DictColumn): boolean {
  return records.blocks.some((b) => {
    if (col.text !== undefined) return b.text[col.text].codes.subarray(0, b.rows).some((c) => c > 0) || b.text[col.text].plain.some((v) => v !== null && v !== undefined);
    for (let i = 0; i < b.rows; i++) if (col.get(b.enrichment[i]!) !== null) return true;
    return false;
  });
}

/** Whether any row of `col` holds text that was not coded. */
function hasPlainText(records: ChangeColumns, col: TextColumn): boolean {
  return records.blocks.some((b) => b.text[col].plain.some((v) => v !== null && v !== undefined));
}

function dictionaryChunks(entries: ReadonlyArray<readonly [number, number, string]>): DuckDBDataChunk[] {
  const chunks: DuckDBDataChunk[] = [];
  for (let off = 0; off < entries.length; off += CHUNK_ROWS) {
    const rows = Math.min(CHUNK_ROWS, entries.length - off);
    const col = new CodeWriter();
    const code = new CodeWriter();
    const val = new TextWriter();
    for (let i = 0; i < rows; i++) {
      const [c, k, v] = entries[off + i]!;
      col.set(i, c);
      code.set(i, k);
      val.set(i, v);
    }
    const chunk = DuckDBDataChunk.create(DICT_TYPES);
    flushChunk(chunk.chunk, [col, code, val], rows);
    chunks.push(chunk);
  }
  return chunks;
}
