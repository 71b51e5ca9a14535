import duckdb from '@duckdb/node-bindings';
import type { LongTexts } from './long-texts.js';
import { AT, type KeyList, KEYS, type MapArena, SIZE, SLOT_WORDS, SLOTS, SPECIAL, STAMP } from './map-arena.js';
import { assignLongStrings, CHUNK_ROWS, type ColumnWriter, STRING_T, Validity } from './staging.js';

/** Numbers every chunk of every MapWriter, so a record's stamp never matches another's. */
let chunks = 0;

/**
 * A MAP(VARCHAR, VARCHAR) column written the way DuckDB stores it: per row a list entry (offset,
 * length) into one child struct vector of keys and values. Staged this way a map costs DuckDB no
 * JSON parsing, and the JS thread no JSON text or native call per row: values over 12 bytes are
 * slots pointing into the arena's LongTexts, copied like the short ones.
 *
 * Rows holding the same map point at the same child entries: a list entry is any range of the
 * child vector, and DuckDB reads each row's range. Within a chunk a hot customer's map is copied
 * from its arena record once, not once per row.
 *
 * Keys: the maps of one lookup all list its columns, so the key vector is kept filled with that
 * list over and over (the pattern) and a map of that list, placed at a multiple of its length,
 * writes no keys at all. Other maps write theirs, and the pattern is put back at the next chunk.
 */
export class MapWriter implements ColumnWriter {
  /** Per row: offset and length as little-endian u64 pairs (low words only: a chunk is small). */
  private readonly entries = new Uint32Array(CHUNK_ROWS * 4);
  private readonly validity = new Validity();
  /** Child slots, allocated on first use: a batch whose maps are all null or all one map stages none. */
  private keys = new Int32Array(0);
  private values = new Int32Array(0);
  private readonly valueValidity = new Validity();
  /** Keys over 12 bytes (a lookup column's name), written through the C API at flush. */
  private readonly longKeys = { at: [] as number[], text: [] as string[] };
  private size = 0;
  private chunk = ++chunks;
  private pattern: KeyList | undefined;
  /** Key ranges [from, to) of this chunk that do not hold the pattern. */
  private readonly dirty: number[] = [];
  /** This chunk's maps whose keys matched the pattern, and those that wrote their own (the last list among them). */
  private matched = 0;
  private unmatched = 0;
  private lastUnmatched: KeyList | undefined;
  /**
   * The long texts that copied slots point into, one per arena generation this writer copied
   * from: kept until the writer (and its batch) is dropped, after DuckDB has read the vectors.
   */
  private readonly held: LongTexts[] = [];

  constructor(private readonly arena: MapArena) {}

  setNull(i: number): void {
    this.entries[i * 4] = this.size;
    this.entries[i * 4 + 2] = 0;
    this.validity.setNull(i);
  }

  /** Row `i` holds the map whose arena record starts at `record`. */
  setRecord(i: number, record: number): void {
    const w = this.arena.words;
    const n = w[record + SIZE]!;
    this.entries[i * 4 + 2] = n;
    if (w[record + STAMP] === this.chunk) {
      this.entries[i * 4] = w[record + AT]!;
      return;
    }
    const list = this.arena.keyLists[w[record + KEYS]!]!;
    if (this.pattern === undefined && this.size === 0) this.usePattern(list);
    let at = this.size;
    const matches = list === this.pattern;
    // Gaps in the child vector are never read: only the rows' ranges are.
    if (matches && n > 0 && at % n !== 0) at += n - (at % n);
    const end = at + n;
    if (end * SLOT_WORDS > this.values.length) this.reserve(end);
    this.entries[i * 4] = at;
    w[record + STAMP] = this.chunk;
    w[record + AT] = at;
    this.size = end;
    if (this.held[this.held.length - 1] !== this.arena.longTexts) this.held.push(this.arena.longTexts);
    if (w[record + SPECIAL] === 0) {
      const values = this.values;
      const from = record + SLOTS;
      const to = at * SLOT_WORDS;
      for (let k = 0; k < n * SLOT_WORDS; k++) values[to + k] = w[from + k]!;
    } else this.copySpecial(w, record, at, n);
    if (matches) this.matched++;
    else if (n > 0) this.writeKeys(list, at);
  }

  /** Copies the value slots of a record with null values: those are marked in the validity mask. */
  private copySpecial(w: Int32Array, record: number, at: number, n: number): void {
    const values = this.values;
    for (let j = 0; j < n; j++) {
      const from = record + SLOTS + j * SLOT_WORDS;
      const to = (at + j) * SLOT_WORDS;
      if (w[from]! >= 0) for (let k = 0; k < SLOT_WORDS; k++) values[to + k] = w[from + k]!;
      else {
        values.fill(0, to, to + SLOT_WORDS);
        this.valueValidity.setNull(at + j);
      }
    }
  }

  reset(): void {
    this.validity.reset();
    this.valueValidity.reset();
    this.longKeys.at.length = 0;
    this.longKeys.text.length = 0;
    // Another list was most of this chunk: make it the pattern, else put the pattern back.
    const next = this.unmatched > this.matched ? this.lastUnmatched : undefined;
    if (next !== undefined && next !== this.pattern && next.long === undefined) this.usePattern(next);
    else if (this.pattern !== undefined) for (let k = 0; k < this.dirty.length; k += 2) this.fillPattern(this.dirty[k]!, this.dirty[k + 1]!);
    this.dirty.length = 0;
    this.matched = 0;
    this.unmatched = 0;
    this.size = 0;
    this.chunk = ++chunks;
  }

  flush(vector: duckdb.Vector): void {
    duckdb.copy_data_to_vector(vector, 0, this.entries.buffer, 0, this.entries.byteLength);
    this.validity.flush(vector);
    duckdb.list_vector_reserve(vector, this.size);
    duckdb.list_vector_set_size(vector, this.size);
    if (this.size === 0) return;
    // The child vectors move when the list grows: take them after the reserve.
    const child = duckdb.list_vector_get_child(vector);
    const bytes = this.size * STRING_T;
    const keys = duckdb.struct_vector_get_child(child, 0);
    duckdb.copy_data_to_vector(keys, 0, this.keys.buffer, 0, bytes);
    assignLongStrings(keys, this.longKeys.at, this.longKeys.text);
    const values = duckdb.struct_vector_get_child(child, 1);
    duckdb.copy_data_to_vector(values, 0, this.values.buffer, 0, bytes);
    this.valueValidity.flush(values, this.size);
  }

  private writeKeys(list: KeyList, at: number): void {
    this.keys.set(list.words, at * SLOT_WORDS);
    const long = list.long;
    if (long !== undefined) {
      for (let j = 0; j < long.at.length; j++) {
        this.longKeys.at.push(at + long.at[j]!);
        this.longKeys.text.push(long.text[j]!);
      }
    }
    this.dirty.push(at, at + list.names.length);
    this.unmatched++;
    this.lastUnmatched = list;
  }

  /** Makes `list` the pattern of the whole key vector (keys over 12 bytes cannot be one). */
  private usePattern(list: KeyList): void {
    if (list.long !== undefined || list.names.length === 0) return;
    this.pattern = list;
    this.fillPattern(0, this.keys.length / SLOT_WORDS);
  }

  /**
   * Puts the pattern into entries [from, to), widened to whole periods of it: entry x holds key
   * x modulo the list's length. Only for entries that hold no keys of this chunk's other lists.
   */
  private fillPattern(from: number, to: number): void {
    const p = this.pattern!.words;
    const n = p.length / SLOT_WORDS;
    const keys = this.keys;
    const start = (from - (from % n)) * SLOT_WORDS;
    const end = Math.min(to + ((n - (to % n)) % n), keys.length / SLOT_WORDS) * SLOT_WORDS;
    if (start >= end) return;
    // One period, then doubling copies of what is filled (a whole number of periods each).
    let filled = Math.min(p.length, end - start);
    keys.set(p.subarray(0, filled), start);
    while (filled < end - start) {
      const count = Math.min(filled, end - start - filled);
      keys.copyWithin(start + filled, start, start + count);
      filled += count;
    }
  }

  /** Room for `entries` child entries, keeping what is written. */
  private reserve(entries: number): void {
    const words = Math.max(entries * SLOT_WORDS, this.values.length * 2, CHUNK_ROWS * 4 * SLOT_WORDS);
    const values = new Int32Array(words);
    values.set(this.values);
    this.values = values;
    const old = this.keys;
    this.keys = new Int32Array(words);
    // The pattern everywhere first, then this chunk's keys over it.
    if (this.pattern !== undefined) this.fillPattern(0, words / SLOT_WORDS);
    this.keys.set(old);
    this.valueValidity.reserve(words / SLOT_WORDS);
  }
}
