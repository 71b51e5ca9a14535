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
class Validity {
  readonly bytes = new Uint8Array(Math.ceil(CHUNK_ROWS / 64) * 8).fill(0xff);
  private nulls = 0;

  setNull(i: number): void {
    this.bytes[i >> 3]! &= ~(1 << (i & 7));
    this.nulls++;
  }

  reset(): void {
    if (this.nulls === 0) return;
    this.bytes.fill(0xff);
    this.nulls = 0;
  }

  flush(vector: duckdb.Vector): void {
    if (this.nulls === 0) return;
    duckdb.vector_ensure_validity_writable(vector);
    duckdb.copy_data_to_vector_validity(vector, 0, this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  }
}

export interface ColumnWriter {
  /** Copies what was written into the chunk's vector; called once, after the last row. */
  flush(vector: duckdb.Vector): void;
  /** Makes the writer ready for the next chunk (writers are reused: fewer allocations). */
  reset(): void;
}

/** A DOUBLE column: exact for every safe integer, so it carries BIGINT and epoch values too. */
export class DoubleWriter implements ColumnWriter {
  private readonly data = new Float64Array(CHUNK_ROWS);
  private readonly validity = new Validity();

  set(i: number, v: number | null): void {
    if (v === null) this.validity.setNull(i);
    else this.data[i] = v;
  }

  reset(): void {
    this.validity.reset();
  }

  flush(vector: duckdb.Vector): void {
    duckdb.copy_data_to_vector(vector, 0, this.data.buffer, 0, this.data.byteLength);
    this.validity.flush(vector);
  }
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

const STRING_T = 16;
const INLINE_MAX = 12;

/** A VARCHAR column: short strings inline, the rest through the C API after the bulk copy. */
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
    const n = s.length;
    if (n <= INLINE_MAX) {
      // ASCII fast path: one byte per UTF-16 unit; anything else goes the general way.
      const base = i * STRING_T;
      let k = 0;
      for (; k < n; k++) {
        const c = s.charCodeAt(k);
        if (c >= 0x80) break;
        this.data[base + 4 + k] = c;
      }
      if (k === n) {
        this.view.setUint32(base, n, true);
        return;
      }
      this.data.fill(0, base + 4, base + STRING_T);
      const bytes = Buffer.from(s, 'utf8');
      if (bytes.length <= INLINE_MAX) {
        this.data.set(bytes, base + 4);
        this.view.setUint32(base, bytes.length, true);
        return;
      }
    }
    this.longIdx.push(i);
    this.longVal.push(s);
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
    for (let k = 0; k < this.longIdx.length; k++) {
      const s = this.longVal[k]!;
      // The plain variant stops at the first NUL (C strlen); keep such strings whole.
      if (s.includes('\u0000')) duckdb.vector_assign_string_element_len(vector, this.longIdx[k]!, Buffer.from(s, 'utf8'));
      else duckdb.vector_assign_string_element(vector, this.longIdx[k]!, s);
    }
    this.validity.flush(vector);
  }
}

const HEX = new Int8Array(128).fill(-1);
for (let c = 0; c < 16; c++) HEX['0123456789abcdef'.charCodeAt(c)] = c;

/**
 * A UHUGEINT column carrying 32-digit lowercase hex ids (event ids) as 16 bytes, so the most
 * frequent long string never needs a native call; `set` refuses anything else and the caller
 * writes that one as text.
 */
export class HexIdWriter implements ColumnWriter {
  private readonly data = new Uint32Array(CHUNK_ROWS * 4);
  private readonly validity = new Validity();

  set(i: number, s: string): boolean {
    if (s.length !== 32) {
      this.validity.setNull(i);
      return false;
    }
    // Little-endian words: the last 8 hex digits are the lowest 32 bits.
    const base = i * 4;
    for (let w = 0; w < 4; w++) {
      let word = 0;
      for (let k = 0, at = 32 - (w + 1) * 8; k < 8; k++) {
        const c = s.charCodeAt(at + k);
        const v = c < 128 ? HEX[c]! : -1;
        if (v < 0) {
          this.validity.setNull(i);
          return false;
        }
        word = word * 16 + v;
      }
      this.data[base + w] = word;
    }
    return true;
  }

  reset(): void {
    this.validity.reset();
  }

  flush(vector: duckdb.Vector): void {
    duckdb.copy_data_to_vector(vector, 0, this.data.buffer, 0, this.data.byteLength);
    this.validity.flush(vector);
  }
}

/** Sets the row count and flushes every writer into its vector of `chunk`. */
export function flushChunk(chunk: duckdb.DataChunk, writers: readonly ColumnWriter[], rows: number): void {
  duckdb.data_chunk_set_size(chunk, rows);
  writers.forEach((w, i) => w.flush(duckdb.data_chunk_get_vector(chunk, i)));
}
