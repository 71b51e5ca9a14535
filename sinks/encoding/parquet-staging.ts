import type duckdb from '@duckdb/node-bindings';
import { DOUBLE, DuckDBDataChunk, type DuckDBType, INTEGER, UHUGEINT, VARCHAR } from '@duckdb/node-api';
import { RAW_COLUMNS } from '../../src/core/columns.js';
import type { InventoryChange } from '../../src/core/model.js';
import { CHUNK_ROWS, CodeWriter, type ColumnWriter, DoubleWriter, flushChunk, HexIdWriter, TextWriter } from './staging.js';

/**
 * How a batch of changes is laid out in DuckDB before it is copied to Parquet, and the SQL that
 * turns that layout into RAW_COLUMNS.
 *
 * Repetitive text (source, shard, sku, statuses, enrichment maps...) is dictionary-coded per
 * batch: each row carries an INTEGER code, each distinct value crosses into DuckDB once (and a
 * JSON map or list is parsed once), which is what makes the encoder cheap on the JS thread.
 * Past `DICT_LIMIT` distinct values a column spills to a plain VARCHAR per row ("over").
 */
export const DICT_LIMIT = 4096;
/** Lookups made before deciding whether a column is worth coding (more than half distinct: not). */
const SAMPLE = 512;

type JsonKind = 'list' | 'map';
interface DictColumn {
  readonly raw: string;
  readonly json?: JsonKind;
  readonly get: (r: InventoryChange) => string | object | null;
}

const DICT_COLUMNS: readonly DictColumn[] = [
  { raw: 'source', get: (r) => r.source },
  { raw: 'stream', get: (r) => r.stream },
  { raw: 'shard', get: (r) => r.shard },
  { raw: 'event_type', get: (r) => r.eventType },
  { raw: 'sku', get: (r) => r.sku },
  { raw: 'warehouse_id', get: (r) => r.warehouseId },
  { raw: 'order_id', get: (r) => r.orderId },
  { raw: 'customer_id', get: (r) => r.customerId },
  { raw: 'enrichment_status', get: (r) => r.enrichment.status },
  { raw: 'enrichment_failed', json: 'list', get: (r) => r.enrichment.failed },
  { raw: 'customer', json: 'map', get: (r) => r.enrichment.customer },
  { raw: 'order_info', json: 'map', get: (r) => r.enrichment.order },
];

const JSON_TYPE: Record<JsonKind, string> = { list: 'VARCHAR[]', map: 'MAP(VARCHAR, VARCHAR)' };

// Staging columns: event id (as hex number, else text), sequence, five numbers, then
// (code, over) per dictionary column.
const NUMBER_COLUMNS = ['quantity_before', 'quantity_after', 'delta', 'event_time', 'ingest_time'] as const;
export const STAGE_TYPES: readonly DuckDBType[] = [
  UHUGEINT,
  VARCHAR,
  VARCHAR,
  ...NUMBER_COLUMNS.map(() => DOUBLE),
  ...DICT_COLUMNS.flatMap(() => [INTEGER, VARCHAR]),
];
export const STAGE_DDL = [
  'event_hex UHUGEINT',
  'event_id VARCHAR',
  'sequence VARCHAR',
  ...NUMBER_COLUMNS.map((n) => `n_${n} DOUBLE`),
  ...DICT_COLUMNS.flatMap((c) => [`c_${c.raw} INTEGER`, `o_${c.raw} VARCHAR`]),
].join(', ');
export const DICT_TYPES: readonly DuckDBType[] = [INTEGER, INTEGER, VARCHAR];
export const DICT_DDL = 'col INTEGER, code INTEGER, val VARCHAR';

function rawExpression(name: string): string {
  if (name === 'event_id') return `CASE WHEN s.event_hex IS NULL THEN s.event_id ELSE lower(lpad(hex(s.event_hex), 32, '0')) END`;
  if (name === 'sequence') return 's.sequence';
  if (name === 'event_time' || name === 'ingest_time') return `make_timestamptz(CAST(s.n_${name} AS BIGINT) * 1000)`;
  if ((NUMBER_COLUMNS as readonly string[]).includes(name)) return `CAST(s.n_${name} AS BIGINT)`;
  const c = DICT_COLUMNS.find((d) => d.raw === name);
  if (!c) throw new Error(`parquet encoder has no mapping for raw column "${name}"`);
  const over = c.json ? `CAST(CAST(s.o_${name} AS JSON) AS ${JSON_TYPE[c.json]})` : `s.o_${name}`;
  return `CASE WHEN s.c_${name} > 0 THEN d.d_${name}[s.c_${name}] ELSE ${over} END`;
}

function dictList(c: DictColumn, i: number): string {
  const list = `coalesce(list(val ORDER BY code) FILTER (WHERE col = ${i}), [])`;
  return c.json ? `list_transform(${list}, x -> CAST(CAST(x AS JSON) AS ${JSON_TYPE[c.json]}))` : list;
}

/** SELECT over the staging tables `stage` and `dict` producing RAW_COLUMNS in file order. */
export const SELECT_RAW = `WITH d AS (SELECT ${DICT_COLUMNS.map((c, i) => `${dictList(c, i)} AS d_${c.raw}`).join(', ')} FROM dict)
SELECT ${RAW_COLUMNS.map((c) => `${rawExpression(c.name)} AS ${c.name}`).join(', ')} FROM stage s CROSS JOIN d`;

/**
 * Per-batch dictionary of one column: value → code (1-based). Lookups are the encoder's main
 * cost, so the previous value is remembered (source, stream, shard repeat row after row) and a
 * column that turns out mostly distinct (order ids) stops being coded after a sample.
 */
class Dictionary {
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

  text(v: string | object): string {
    return typeof v === 'object' ? JSON.stringify(v) : v;
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
 * One batch laid out for DuckDB in two steps: the constructor codes every dictionary column for
 * all rows (so the dictionaries are complete before DuckDB reads anything), then `fill` writes
 * one chunk of rows at a time into a DuckDB data chunk, reusing the same writers.
 */
export class StagedBatch {
  readonly chunks: number;
  private readonly dicts = DICT_COLUMNS.map(() => new Dictionary());
  /** Per dictionary column, the code of each row (0: null or written as is). */
  private readonly rowCodes: Int32Array[];
  private readonly eventHex = new HexIdWriter();
  private readonly eventId = new TextWriter();
  private readonly sequence = new TextWriter();
  private readonly nums = NUMBER_COLUMNS.map(() => new DoubleWriter());
  private readonly codes = DICT_COLUMNS.map(() => new CodeWriter());
  private readonly overs = DICT_COLUMNS.map(() => new TextWriter());
  private readonly writers: ColumnWriter[];
  private filled = 0;

  constructor(private readonly records: readonly InventoryChange[]) {
    this.chunks = Math.ceil(records.length / CHUNK_ROWS);
    this.rowCodes = DICT_COLUMNS.map((c, k) => {
      const codes = new Int32Array(records.length);
      const dict = this.dicts[k]!;
      for (let i = 0; i < records.length; i++) {
        const v = c.get(records[i]!);
        if (v !== null) codes[i] = dict.code(v);
      }
      return codes;
    });
    this.writers = [this.eventHex, this.eventId, this.sequence, ...this.nums];
    for (let k = 0; k < DICT_COLUMNS.length; k++) this.writers.push(this.codes[k]!, this.overs[k]!);
  }

  /** Writes chunk `index` (rows index*CHUNK_ROWS...) into `chunk`; returns its row count. */
  fill(index: number, chunk: duckdb.DataChunk): number {
    const off = index * CHUNK_ROWS;
    const rows = Math.max(0, Math.min(CHUNK_ROWS, this.records.length - off));
    if (this.filled++ > 0) for (const w of this.writers) w.reset();
    const { eventHex, eventId, sequence, records } = this;
    const [qb, qa, delta, et, it] = this.nums as [DoubleWriter, DoubleWriter, DoubleWriter, DoubleWriter, DoubleWriter];
    for (let i = 0; i < rows; i++) {
      const r = records[off + i]!;
      eventId.set(i, eventHex.set(i, r.eventId) ? null : r.eventId);
      sequence.set(i, r.sequence);
      qb.set(i, r.quantityBefore);
      qa.set(i, r.quantityAfter);
      delta.set(i, r.delta);
      et.set(i, r.eventTime);
      it.set(i, r.ingestTime);
    }
    for (let k = 0; k < DICT_COLUMNS.length; k++) {
      const col = DICT_COLUMNS[k]!;
      const rowCodes = this.rowCodes[k]!;
      const codes = this.codes[k]!;
      const over = this.overs[k]!;
      const dict = this.dicts[k]!;
      for (let i = 0; i < rows; i++) {
        const code = rowCodes[off + i]!;
        codes.set(i, code);
        if (code > 0) over.set(i, null);
        else {
          const v = col.get(records[off + i]!);
          over.set(i, v === null ? null : dict.text(v));
        }
      }
    }
    flushChunk(chunk, this.writers, rows);
    return rows;
  }

  dictionaryChunks(): DuckDBDataChunk[] {
    return dictionaryChunks(this.dicts);
  }
}

function dictionaryChunks(dicts: readonly Dictionary[]): DuckDBDataChunk[] {
  const entries: Array<[number, number, string]> = [];
  dicts.forEach((d, col) => d.values.forEach((v, i) => entries.push([col, i + 1, v])));
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
