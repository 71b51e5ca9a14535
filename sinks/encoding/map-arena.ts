import type { Enrichment } from '../../src/core/model.js';
import { SharedEnrichment } from '../../src/core/shared-enrichment.js';
import { LongTexts } from './long-texts.js';
import { STRING_T, writeInline } from './staging.js';

/** A map as the enricher carries it: column name → text (or null). */
export type TextMap = Readonly<Record<string, unknown>>;

/**
 * A map's record in the arena, in 32-bit words: the writer chunk that holds its entries already
 * (STAMP) and where (AT), its entry count, its key list, how many of its values are SPECIAL (null),
 * then one string_t slot of 4 words per value: inline, or pointing into the generation's
 * LongTexts. A null value's length word is NULL_VALUE.
 */
export const STAMP = 0;
export const AT = 1;
export const SIZE = 2;
export const KEYS = 3;
export const SPECIAL = 4;
export const SLOTS = 5;
export const SLOT_WORDS = STRING_T >> 2;
export const NULL_VALUE = -2;

/** Parallel lists: destructuring pairs made an iterator per entry on every row. */
export interface Long {
  readonly at: number[];
  readonly text: string[];
}

/** The slots of one list of map keys, shared by every map with those keys (a lookup's columns). */
export interface KeyList {
  readonly id: number;
  readonly names: readonly string[];
  readonly words: Int32Array;
  /** Keys over 12 bytes, written through the C API; undefined when none. */
  readonly long: Long | undefined;
}

/** Record offsets of a row's two maps; NO_MAP for a null map. */
interface MapPair {
  readonly customer: number;
  readonly order: number;
}
export const NO_MAP = -1;
const NO_MAPS: MapPair = Object.freeze({ customer: NO_MAP, order: NO_MAP });

const INITIAL_WORDS = 1 << 16;
/** 32 MB: the 400,000 rows of two full lookup caches, at three columns each, fit with room to spare. */
const DEFAULT_MAX_WORDS = 1 << 23;
const MAX_KEY_LISTS = 1000;

/** Map values are text; anything else a custom enricher put there is written as its JSON. */
const valueText = (v: unknown): string | null => (v === null || v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v));

/**
 * The enrichment maps, encoded once as DuckDB string_t slots in one Int32Array, for the
 * MapWriters of every batch of one encoder.
 *
 * The enricher hands the same frozen row object to every change with that key, so a map is
 * encoded the first time it is written and copied from here after that. Kept in one typed array,
 * rather than a few small JS objects per map, a map's record is one or two cache lines that the
 * garbage collector never traces: with 240,000 cached rows, pointer chasing through scattered
 * objects was most of what staging the maps cost.
 *
 * Records are only appended. When the arena is full it starts over empty (a new generation):
 * maps still in use are encoded again on their next row. Maps that are not frozen may change
 * between rows, so they get a fresh record on every row and are not remembered.
 */
export class MapArena {
  words: Int32Array;
  /**
   * Per generation: the values over 12 bytes, which slots point at. A writer that copies slots
   * keeps the LongTexts they came from until its batch is written.
   */
  longTexts = new LongTexts();
  readonly keyLists: KeyList[] = [];
  private bytes: Uint8Array;
  private used = 0;
  private byMap = new WeakMap<object, number>();
  private byPair = new WeakMap<Enrichment, MapPair>();
  private readonly keyListIds = new Map<string, number>();
  private lastKeys: KeyList | undefined;
  /** Counts generations (for tests and logs). */
  generation = 0;
  /** Whose records a shared enrichment holds: one token per arena and generation. */
  private token: object = {};
  /** Set while a pair is encoded again after a restart: grow instead of starting over. */
  private growOnly = false;

  constructor(private readonly maxWords: number = DEFAULT_MAX_WORDS) {
    if (!Number.isInteger(maxWords) || maxWords < 1024) throw new Error(`map arena of ${maxWords} words: at least 1024 needed`);
    this.words = new Int32Array(Math.min(INITIAL_WORDS, maxWords));
    this.bytes = new Uint8Array(this.words.buffer);
  }

  /** Sets out[at] and out[at + 1] to the records of `e`'s customer and order maps (NO_MAP for a null map). */
  recordsOf(e: Enrichment, out: Int32Array, at: number): void {
    if (SharedEnrichment.heldBy(e, this.token)) {
      out[at] = SharedEnrichment.first(e);
      out[at + 1] = SharedEnrichment.second(e);
      return;
    }
    const pair = this.pairOf(e);
    out[at] = pair.customer;
    out[at + 1] = pair.order;
  }

  /**
   * The records of `e`'s two maps when `e` holds none for this generation (see recordsOf),
   * remembered while it and its maps are frozen: on the enrichment itself when it is shared
   * (SharedEnrichment), else in a WeakMap.
   */
  private pairOf(e: Enrichment): MapPair {
    if (e.customer === null && e.order === null) return NO_MAPS;
    const found = this.byPair.get(e);
    if (found !== undefined) return found;
    const generation = this.generation;
    let customer = this.recordOf(e.customer);
    let order = this.recordOf(e.order);
    if (this.generation !== generation) {
      // The second map started a new generation: the first one's record is gone with the old
      // one. Both again, in the new one, which may now grow past its limit rather than start
      // over once more (two maps that only just fit would otherwise never both be there).
      this.growOnly = true;
      try {
        customer = this.recordOf(e.customer);
        order = this.recordOf(e.order);
      } finally {
        this.growOnly = false;
      }
    }
    const pair: MapPair = { customer, order };
    if (Object.isFrozen(e) && (e.customer === null || Object.isFrozen(e.customer)) && (e.order === null || Object.isFrozen(e.order))) {
      if (!SharedEnrichment.hold(e, this.token, customer, order)) this.byPair.set(e, pair);
    }
    return pair;
  }

  private recordOf(m: TextMap | null): number {
    if (m === null) return NO_MAP;
    if (!Object.isFrozen(m)) return this.encode(m);
    let at = this.byMap.get(m);
    if (at === undefined) {
      at = this.encode(m);
      // After encode: a new generation may have begun with this record.
      this.byMap.set(m, at);
    }
    return at;
  }

  /** Appends the record of `m`; returns its offset. */
  private encode(m: TextMap): number {
    const names = Object.keys(m);
    const keys = this.keysOf(names);
    const need = SLOTS + names.length * SLOT_WORDS;
    // The long texts count too: four of their bytes a word.
    if (this.used + need + (this.longTexts.bytes >> 2) > this.maxWords && this.used > 0 && !this.growOnly) this.startOver();
    if (this.used + need > this.words.length) this.grow(need);
    const at = this.used;
    const words = this.words;
    let special = 0;
    try {
      for (let j = 0; j < names.length; j++) {
        const text = valueText(m[names[j]!]);
        const slot = at + SLOTS + j * SLOT_WORDS;
        if (text === null) {
          words[slot] = NULL_VALUE;
          special++;
        } else if (!writeInline(this.bytes, slot * 4, text)) this.longTexts.write(text, words, slot);
      }
    } catch (err) {
      // Slots are written into zeroed memory (inline strings need zero padding): leave it so.
      words.fill(0, at, at + need);
      throw err;
    }
    words[at + STAMP] = 0;
    words[at + AT] = 0;
    words[at + SIZE] = names.length;
    words[at + KEYS] = keys.id;
    words[at + SPECIAL] = special;
    this.used = at + need;
    return at;
  }

  /** Room for `need` more words than are used (a generation has started over first if it was full). */
  private grow(need: number): void {
    // Past the limit only for one map larger than the limit itself, or the second of a pair (see pairOf).
    const size = Math.max(Math.min(this.words.length * 2, this.maxWords), this.used + need);
    const grown = new Int32Array(size);
    grown.set(this.words.subarray(0, this.used));
    this.words = grown;
    this.bytes = new Uint8Array(grown.buffer);
  }

  private startOver(): void {
    this.generation++;
    this.words = new Int32Array(Math.min(this.words.length, this.maxWords));
    this.bytes = new Uint8Array(this.words.buffer);
    this.used = 0;
    this.longTexts = new LongTexts();
    this.byMap = new WeakMap();
    this.byPair = new WeakMap();
    this.token = {};
  }

  /**
   * The shared slots of a key list. Rows of one lookup list the same keys in the same order,
   * so the last list answers almost every time without building a string.
   */
  private keysOf(names: readonly string[]): KeyList {
    const last = this.lastKeys;
    if (last !== undefined && sameNames(last.names, names)) return last;
    const id = JSON.stringify(names);
    let k = this.keyListIds.get(id);
    if (k === undefined) {
      // Key lists outlive generations; an enricher with endless key lists starts them afresh.
      if (this.keyLists.length >= MAX_KEY_LISTS) {
        this.keyLists.length = 0;
        this.keyListIds.clear();
        this.startOver();
      }
      k = this.keyLists.length;
      this.keyLists.push(keyList(k, names));
      this.keyListIds.set(id, k);
    }
    this.lastKeys = this.keyLists[k]!;
    return this.lastKeys;
  }
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let j = 0; j < a.length; j++) if (a[j] !== b[j]) return false;
  return true;
}

function keyList(id: number, names: readonly string[]): KeyList {
  const words = new Int32Array(names.length * SLOT_WORDS);
  const bytes = new Uint8Array(words.buffer);
  const long: Long = { at: [], text: [] };
  names.forEach((name, j) => {
    if (!writeInline(bytes, j * STRING_T, name)) {
      long.at.push(j);
      long.text.push(name);
    }
  });
  return { id, names: [...names], words, long: long.at.length > 0 ? long : undefined };
}
