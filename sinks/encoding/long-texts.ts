import duckdb from '@duckdb/node-bindings';
import { DuckDBDataChunk, VARCHAR } from '@duckdb/node-api';
import { STRING_T } from './staging.js';

/**
 * Strings over 12 bytes kept in DuckDB's memory, each written as the 16-byte string_t that points
 * at it, so that a staged vector takes it by copying those bytes, as it takes a short string.
 *
 * A long map value (most customers' names) used to cross into DuckDB through the C API once for
 * every chunk and map that held it: a native call and a UTF-8 conversion, the largest single cost
 * of staging enriched rows. Held here, it crosses once.
 *
 * The texts live in the string heap of a one-column chunk of our own, which never moves or frees
 * a string before the chunk itself is destroyed, by its finalizer, once nothing references this
 * object. Whoever copies a slot into a vector must therefore keep this object referenced until
 * DuckDB is done reading that vector (MapWriter does, for as long as its batch is encoded).
 */
export class LongTexts {
  private readonly chunk = DuckDBDataChunk.create([VARCHAR]);
  private readonly vector = duckdb.data_chunk_get_vector(this.chunk.chunk, 0);
  /** UTF-8 bytes held, so that the owner can bound them. */
  bytes = 0;

  /** Stores `text` (over 12 UTF-8 bytes) and writes its string_t into words[at..at + 3]. */
  write(text: string, words: Int32Array, at: number): void {
    // Each text goes to row 0: the heap keeps every earlier one where it is.
    if (text.includes('\u0000')) duckdb.vector_assign_string_element_len(this.vector, 0, Buffer.from(text, 'utf8'));
    else duckdb.vector_assign_string_element(this.vector, 0, text);
    // A copy of the slot, as DuckDB wrote it: length, prefix, pointer.
    const slot = duckdb.vector_get_data(this.vector, STRING_T);
    new Uint8Array(words.buffer, words.byteOffset + at * 4, STRING_T).set(slot.subarray(0, STRING_T));
    this.bytes += new DataView(slot.buffer, slot.byteOffset).getUint32(0, true);
  }
}
