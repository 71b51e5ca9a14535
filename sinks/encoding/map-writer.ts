import duckdb from '@duckdb/node-bindings';
import type { Enrichment } from '../../src/core/model.js';
import { CHUNK_ROWS, type ColumnWriter, STRING_T, TextWriter, Validity, writeInline } from './staging.js';

/** A map as the enricher carries it: column name → text (or null). */
export type TextMap = Readonly<Record<string, unknown>>;

/**
 * A map's keys and values as string_t slots, made once per map object: the enricher hands the
 * same frozen row to every change with that key, so a row costs its slot copies only the first
 * time the map appears in a chunk (see MapWriter), and a list entry after that.
 */
export interface EncodedMap {
  readonly size: number;
  /**
   * string_t slots as 32-bit words, in plain arrays: a small typed array per map would be
   * given its own off-heap buffer (one per cached row), which every garbage collection visits.
   */
  readonly keys: readonly number[];
  readonly values: readonly number[];
  /** Entries too long to inline (entry index, text), and values that are null; undefined when none. */
  readonly longKeys: Long | undefined;
  readonly longValues: Long | undefined;
  readonly nullValues: readonly number[] | undefined;
  /** The writer chunk (see MapWriter.chunk) whose child vector holds these entries already, and where. */
  chunk: number;
  at: number;
}

/** Parallel lists: destructuring pairs made an iterator per entry on every row. */
interface Long {
  readonly at: number[];
  readonly text: string[];
}

const encoded = new WeakMap<object, EncodedMap>();

/** Map values are text; anything else a custom enricher put there is written as its JSON. */
const valueText = (v: unknown): string | null => (v === null || v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v));

/** Where a map's slots are written before they are copied out as words. */
let scratch = new Uint8Array(16 * STRING_T);
let scratchWords = new Int32Array(scratch.buffer);

/** The slots of `texts` as words; texts too long to inline go to `long`, nulls to `nulls`. */
function slots(texts: ReadonlyArray<string | null>, long: Long, nulls?: number[]): number[] {
  const bytes = texts.length * STRING_T;
  if (scratch.length < bytes) {
    scratch = new Uint8Array(bytes);
    scratchWords = new Int32Array(scratch.buffer);
  }
  scratch.fill(0, 0, bytes);
  texts.forEach((t, j) => {
    if (t === null) nulls?.push(j);
    else if (!writeInline(scratch, j * STRING_T, t)) {
      long.at.push(j);
      long.text.push(t);
    }
  });
  const out = new Array<number>(bytes >> 2);
  for (let k = 0; k < out.length; k++) out[k] = scratchWords[k]!;
  return out;
}

interface KeySlots {
  readonly words: readonly number[];
  readonly long: Long | undefined;
}

/**
 * Key slots by key list, shared: every row of a lookup has the same columns, so the cached rows
 * of a table (200k orders) need one copy of them, not one each for the GC to trace. Bounded, for
 * enrichers whose maps have keys of their own.
 */
const keySlots = new Map<string, KeySlots>();
const MAX_KEY_LISTS = 1000;

function keysOf(names: string[]): KeySlots {
  const id = JSON.stringify(names);
  let k = keySlots.get(id);
  if (k === undefined) {
    const long: Long = { at: [], text: [] };
    k = { words: slots(names, long), long: long.at.length > 0 ? long : undefined };
    if (keySlots.size < MAX_KEY_LISTS) keySlots.set(id, k);
  }
  return k;
}

function encode(m: TextMap): EncodedMap {
  const names = Object.keys(m);
  const longValues: Long = { at: [], text: [] };
  const nullValues: number[] = [];
  const keys = keysOf(names);
  const values = slots(
    names.map((n) => valueText(m[n])),
    longValues,
    nullValues,
  );
  return {
    size: names.length,
    keys: keys.words,
    values,
    longKeys: keys.long,
    longValues: longValues.at.length > 0 ? longValues : undefined,
    nullValues: nullValues.length > 0 ? nullValues : undefined,
    chunk: 0,
    at: 0,
  };
}

function encodedOf(m: TextMap): EncodedMap {
  let e = encoded.get(m);
  if (e === undefined) {
    e = encode(m);
    // Only a frozen map is known not to change before it is written again.
    if (Object.isFrozen(m)) encoded.set(m, e);
  }
  return e;
}

/** The two maps of an enrichment, encoded (undefined: the map is null). */
export interface EncodedMaps {
  readonly customer: EncodedMap | undefined;
  readonly order: EncodedMap | undefined;
}

const NO_MAPS: EncodedMaps = Object.freeze({ customer: undefined, order: undefined });
const encodedPairs = new WeakMap<Enrichment, EncodedMaps>();

/**
 * Both maps of `e`, kept per enrichment object: the enricher shares one frozen enrichment
 * between changes alike, so a row costs one lookup for its two map columns, not one per map.
 */
export function encodedMaps(e: Enrichment): EncodedMaps {
  if (e.customer === null && e.order === null) return NO_MAPS;
  let pair = encodedPairs.get(e);
  if (pair === undefined) {
    pair = { customer: e.customer === null ? undefined : encodedOf(e.customer), order: e.order === null ? undefined : encodedOf(e.order) };
    // Frozen all through, it cannot point at other maps by the time it is written again.
    if (Object.isFrozen(e) && (e.customer === null || Object.isFrozen(e.customer)) && (e.order === null || Object.isFrozen(e.order))) encodedPairs.set(e, pair);
  }
  return pair;
}

/** Numbers every chunk of every MapWriter, so an entry's `chunk` never matches another's. */
let chunks = 0;

/**
 * A MAP(VARCHAR, VARCHAR) column written the way DuckDB stores it: per row a list entry (offset,
 * length) into one child struct vector of keys and values. Staged this way a map costs DuckDB no
 * JSON parsing, and the JS thread no JSON text or native call per row for short entries.
 *
 * Rows holding the same map object point at the same child entries: a list entry is any range of
 * the child vector, and DuckDB copies each row's range when it appends. Within a chunk a hot
 * customer's map is written once, not once per row.
 */
export class MapWriter implements ColumnWriter {
  /** Per row: offset and length as little-endian u64 pairs (low words only: a chunk is small). */
  private readonly entries = new Uint32Array(CHUNK_ROWS * 4);
  private readonly validity = new Validity();
  private readonly keys = new TextWriter(true);
  private readonly values = new TextWriter(true);
  private size = 0;
  private chunk = ++chunks;

  /** Row `i` holds the map `e` was encoded from (see encodedMaps), or null when undefined. */
  setEncoded(i: number, e: EncodedMap | undefined): void {
    if (e === undefined) {
      this.entries[i * 4] = this.size;
      this.entries[i * 4 + 2] = 0;
      this.validity.setNull(i);
      return;
    }
    const n = e.size;
    this.entries[i * 4 + 2] = n;
    if (e.chunk === this.chunk) {
      this.entries[i * 4] = e.at;
      return;
    }
    const at = this.size;
    this.entries[i * 4] = at;
    e.chunk = this.chunk;
    e.at = at;
    this.size = at + n;
    this.keys.reserve(this.size);
    this.values.reserve(this.size);
    this.keys.setSlots(at, e.keys);
    this.values.setSlots(at, e.values);
    if (e.longKeys !== undefined) setLong(this.keys, at, e.longKeys);
    if (e.longValues !== undefined) setLong(this.values, at, e.longValues);
    const nulls = e.nullValues;
    if (nulls !== undefined) for (let j = 0; j < nulls.length; j++) this.values.setNull(at + nulls[j]!);
  }

  reset(): void {
    this.validity.reset();
    this.keys.reset();
    this.values.reset();
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
    this.keys.flush(duckdb.struct_vector_get_child(child, 0));
    this.values.flush(duckdb.struct_vector_get_child(child, 1));
  }
}

function setLong(w: TextWriter, at: number, long: Long): void {
  for (let j = 0; j < long.at.length; j++) w.setLong(at + long.at[j]!, long.text[j]!);
}
