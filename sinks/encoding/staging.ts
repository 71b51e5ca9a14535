import duckdb from '@duckdb/node-bindings';

/**
 * Bulk writers that fill one DuckDB data chunk column from JS values.
 *
 * Why not the appender or `DuckDBVector.setItem`: both cross into native code once per value
 * (~150-250 ns each on the target machine), which alone would cost more than the whole encoder
 * budget. Here numbers and codes are written into typed arrays and copied in one call per
 * vector; strings of at most 12 UTF-8 bytes are written inline into DuckDB's 16-byte `string_t`
 * slot (the layout DuckDB documents for short strings), so only longer strings pay a native call.
 * `@duckdb/node-bindings` is the C API binding that `@duckdb/node-api` itself is built on (pinned
 * to the same version by it).
 */
export const CHUNK_ROWS: number = duckdb.vector_size();

/** Validity bitmask (1 = valid), little-endian 64-bit words, as DuckDB stores it. */
export class Validity {
  bytes: Uint8Array<ArrayBuffer> = new Uint8Array(Math.ceil(CHUNK_ROWS / 64) * 8).fill(0xff);
  private nulls = 0;

  /** Room for `rows` rows, keeping what is set. */
  reserve(rows: number): void {
    const need = Math.ceil(rows / 64) * 8;
    if (need <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(need, this.bytes.length * 2)).fill(0xff);
    grown.set(this.bytes);
    this.bytes = grown;
  }

  setNull(i: number): void {
    this.bytes[i >> 3]! &= ~(1 << (i & 7));
    this.nulls++;
  }

  /** Every row null (a column that this chunk does not use). */
  setAllNull(): void {
    this.bytes.fill(0);
    this.nulls = CHUNK_ROWS;
  }

  reset(): void {
    if (this.nulls === 0) return;
    this.bytes.fill(0xff);
    this.nulls = 0;
  }

  /** Copies the mask of the first `rows` rows (all of it by default) into `vector`. */
  flush(vector: duckdb.Vector, rows?: number): void {
    if (this.nulls === 0) return;
    duckdb.vector_ensure_validity_writable(vector);
    const length = rows === undefined ? this.bytes.byteLength : Math.ceil(rows / 64) * 8;
    duckdb.copy_data_to_vector_validity(vector, 0, this.bytes.buffer, this.bytes.byteOffset, length);
  }
}

export interface ColumnWriter {
  /** Copies what was written into the chunk's vector; called once, after the last row. */
  flush(vector: duckdb.Vector): void;
  /** Makes the writer ready for the next chunk (writers are reused: fewer allocations). */
  reset(): void;
}

/** An INTEGER column without nulls (dictionary codes; 0 stands for "not coded"); every row must be set. */
export class CodeWriter implements ColumnWriter {
  private readonly data = new Int32Array(CHUNK_ROWS);

  set(i: number, code: number): void {
    this.data[i] = code;
  }

  reset(): void {}

  flush(vector: duckdb.Vector): void {
    duckdb.copy_data_to_vector(vector, 0, this.data.buffer, 0, this.data.byteLength);
  }
}

export const STRING_T = 16;
const INLINE_MAX = 12;

/**
 * Writes `s` inline into the 16-byte string_t slot at `base` (length, then up to 12 bytes);
 * false when it is longer. The slot's padding must already be zero.
 */
export function writeInline(data: Uint8Array, base: number, s: string): boolean {
  const n = s.length;
  if (n > INLINE_MAX) return false;
  // ASCII fast path: one byte per UTF-16 unit; anything else goes the general way.
  let k = 0;
  for (; k < n; k++) {
    const c = s.charCodeAt(k);
    if (c >= 0x80) break;
    data[base + 4 + k] = c;
  }
  if (k < n) {
    data.fill(0, base + 4, base + STRING_T);
    const bytes = Buffer.from(s, 'utf8');
    if (bytes.length > INLINE_MAX) return false;
    data.set(bytes, base + 4);
    k = bytes.length;
  }
  data[base] = k;
  data[base + 1] = 0;
  data[base + 2] = 0;
  data[base + 3] = 0;
  return true;
}

/** A VARCHAR column of a chunk: short strings inline, the rest through the C API after the bulk copy. */
export class TextWriter implements ColumnWriter {
  private readonly data = new Uint8Array(CHUNK_ROWS * STRING_T);
  private readonly view = new DataView(this.data.buffer);
  private readonly validity = new Validity();
  private readonly longIdx: number[] = [];
  private readonly longVal: string[] = [];

  set(i: number, s: string | null): void {
    if (s === null) {
      this.validity.setNull(i);
      return;
    }
    if (!writeInline(this.data, i * STRING_T, s)) this.setLong(i, s);
  }

  /** A string that is written through the C API at flush (longer than the inline 12 bytes). */
  setLong(i: number, s: string): void {
    this.longIdx.push(i);
    this.longVal.push(s);
  }

  setNull(i: number): void {
    this.validity.setNull(i);
  }

  /** A non-negative integer as its decimal text, written inline without making a string. */
  setDecimal(i: number, n: number): void {
    if (n >= 1e12) {
      this.set(i, String(n));
      return;
    }
    let len = 1;
    for (let p = 10; p <= n; p *= 10) len++;
    const base = i * STRING_T;
    for (let k = len - 1, v = n; k >= 0; k--, v = Math.floor(v / 10)) this.data[base + 4 + k] = 48 + (v % 10);
    this.view.setUint32(base, len, true);
  }

  /** Every row null; call on a freshly reset writer instead of set() for each row. */
  setAllNull(): void {
    this.validity.setAllNull();
  }

  reset(): void {
    // Inline slots are compared as whole 16-byte words by DuckDB: padding must be zero.
    this.data.fill(0);
    this.validity.reset();
    this.longIdx.length = 0;
    this.longVal.length = 0;
  }

  flush(vector: duckdb.Vector): void {
    duckdb.copy_data_to_vector(vector, 0, this.data.buffer, 0, this.data.byteLength);
    assignLongStrings(vector, this.longIdx, this.longVal);
    this.validity.flush(vector);
  }
}

/** Writes strings too long to inline (text[k] at row at[k]) through the C API, after the bulk copy. */
export function assignLongStrings(vector: duckdb.Vector, at: readonly number[], text: readonly string[]): void {
  for (let k = 0; k < at.length; k++) {
    const s = text[k]!;
    // The plain variant stops at the first NUL (C strlen); keep such strings whole.
    if (s.includes('\u0000')) duckdb.vector_assign_string_element_len(vector, at[k]!, Buffer.from(s, 'utf8'));
    else duckdb.vector_assign_string_element(vector, at[k]!, s);
  }
}

/**
 * A column whose values already sit in a typed array in DuckDB's layout (numbers, dictionary
 * codes, 16-byte ids): one copy per chunk, with nulls marked in `validity`.
 */
export class TypedArrayWriter implements ColumnWriter {
  readonly validity = new Validity();
  private src: Float64Array | Int32Array | Uint32Array | undefined;
  private bytes = 0;

  /** Uses the first `rows` values of `src` (`perRow` array elements each). */
  use(src: Float64Array | Int32Array | Uint32Array, rows: number, perRow = 1): void {
    this.src = src;
    this.bytes = rows * perRow * src.BYTES_PER_ELEMENT;
  }

  reset(): void {
    this.validity.reset();
    this.src = undefined;
  }

  flush(vector: duckdb.Vector): void {
    const src = this.src;
    if (!src) throw new Error('TypedArrayWriter.flush before use()');
    duckdb.copy_data_to_vector(vector, 0, src.buffer as ArrayBuffer, src.byteOffset, this.bytes);
    this.validity.flush(vector);
  }
}

/** Sets the row count and flushes every writer into its vector of `chunk`. */
export function flushChunk(chunk: duckdb.DataChunk, writers: readonly ColumnWriter[], rows: number): void {
  duckdb.data_chunk_set_size(chunk, rows);
  writers.forEach((w, i) => w.flush(duckdb.data_chunk_get_vector(chunk, i)));
}
