import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RAW_COLUMNS } from '../../src/core/columns.js';
import type { InventoryChange } from '../../src/core/model.js';
import { SharedEnrichment } from '../../src/core/shared-enrichment.js';
import { makeChange, makeChanges } from '../../test/fixtures/changes.js';
import { exposeGc } from '../testing/gc.js';
import { parquetColumns, readChangesFromParquet } from '../testing/read-parquet.js';
import { DICT_LIMIT, PLAIN_MAX_ROWS } from './parquet-staging.js';
import { ParquetEncoder } from './parquet.js';
import { CHUNK_ROWS } from './staging.js';

let dir: string;
let encoder: ParquetEncoder;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parquet-test-'));
  encoder = new ParquetEncoder({ compression: 'zstd', threads: 2 });
});
afterAll(async () => {
  await encoder.close();
  await rm(dir, { recursive: true, force: true });
});

async function roundTrip(records: readonly InventoryChange[], name: string, enc = encoder): Promise<InventoryChange[]> {
  const path = join(dir, `${name}.parquet`);
  const { bytes } = await enc.encodeToFile(records, path);
  expect(bytes).toBeGreaterThan(0);
  return readChangesFromParquet(path);
}

/** Hostile but valid values: unicode, quotes, separators, NUL, long strings, edge numbers. */
function oddChanges(): InventoryChange[] {
  const long = 'x'.repeat(5000);
  return [
    makeChange({ sequence: '1', sku: 'ünïcødé-ß', warehouseId: '倉庫-1', orderId: 'O\'"\\,;\n\t|', customerId: '😀 emoji 😀' }),
    makeChange({ sequence: '2', sku: 'nul\u0000inside', warehouseId: 'a\u0000b', orderId: 'long\u0000nul-string-over-12', customerId: '' }),
    makeChange({ sequence: '3', sku: long, warehouseId: 'é', orderId: null, customerId: null, quantityBefore: null, quantityAfter: null, delta: 0 }),
    makeChange({ sequence: '4', quantityBefore: Number.MAX_SAFE_INTEGER, quantityAfter: -Number.MAX_SAFE_INTEGER, delta: -42 }),
    makeChange({ sequence: '5', eventTime: 0, ingestTime: -86_400_000 + 7, eventId: 'NOT-HEX-AND-UPPER' }),
    makeChange({ sequence: '6', eventId: 'ABCDEF0123456789ABCDEF0123456789' }),
    makeChange({ sequence: '7', eventId: 'ffffffffffffffffffffffffffffffff', stream: 'stream/with/slashes', shard: '..' }),
    makeChange({ sequence: '8', eventId: '00000000000000000000000000000000' }),
    makeChange({
      sequence: '49590338271490256608559692538361571095921575989136588898',
      enrichment: { status: 'ok', failed: [], customer: { name: 'Zoë "Z" O\'Neil', note: null, '': 'empty key', 'ключ': 'значение', nul: 'a\u0000b', 'long\u0000nul': 'over twelve \u0000 bytes' }, order: {} },
    }),
    makeChange({ sequence: '999999999999' }),
    makeChange({ sequence: '1000000000000' }),
    makeChange({ sequence: '0' }),
    makeChange({ sequence: '0012' }),
    makeChange({ sequence: '12.3' }),
    makeChange({ sequence: '10', enrichment: { status: 'failed', failed: ['customer', 'order'], customer: null, order: { channel: 'web', long } } }),
  ];
}

describe('ParquetEncoder', () => {
  it('writes RAW_COLUMNS in order with the lake types and no partition columns', async () => {
    const path = join(dir, 'schema.parquet');
    await encoder.encodeToFile(makeChanges(3), path);
    const cols = await parquetColumns(path);
    expect(cols.map((c) => c.name)).toEqual(RAW_COLUMNS.map((c) => c.name));
    const expected: Record<string, string> = {
      string: 'VARCHAR',
      bigint: 'BIGINT',
      timestamp: 'TIMESTAMP WITH TIME ZONE',
      'array<string>': 'VARCHAR[]',
      'map<string,string>': 'MAP(VARCHAR, VARCHAR)',
    };
    expect(cols.map((c) => c.type)).toEqual(RAW_COLUMNS.map((c) => expected[c.type]));
  });

  it('round-trips every column row for row: nulls, maps, lists, unicode, NUL, long and edge values', async () => {
    const records = oddChanges();
    expect(await roundTrip(records, 'odd')).toEqual(records);
  });

  it('round-trips the same values in a batch large enough to be dictionary-coded', async () => {
    const records = [...oddChanges(), ...makeChanges(PLAIN_MAX_ROWS, { firstSeq: 1_000 }), ...oddChanges()];
    expect(await roundTrip(records, 'odd-coded')).toEqual(records);
  });

  it('writes a column whose every row has one value (quotes included) as that value, small batch or large', async () => {
    const customer = Object.freeze({ name: "O'Brien \"the\" customer", tier: 'gold' });
    for (const [n, name] of [[20, 'const-small'], [PLAIN_MAX_ROWS + 5, 'const-large']] as const) {
      const records = makeChanges(n, { stream: "it's a \"stream\"", shard: 'shard/0' }).map((r) => ({ ...r, enrichment: { status: 'ok' as const, failed: ['order'], customer, order: null } }));
      expect(await roundTrip(records, name)).toEqual(records);
    }
  });

  it('round-trips maps with the same keys in every row (quotes, unicode, null values), and mixed ones', async () => {
    const order = (i: number) => (i % 5 === 0 ? null : Object.freeze({ channel: i % 2 ? 'web' : "it's \"app\"", 'total amount': String(i), 'ключ': i % 3 ? null : 'значение' }));
    for (const [n, name] of [[40, 'maps-small'], [DICT_LIMIT * 2 + 50, 'maps-large']] as const) {
      const uniform = makeChanges(n).map((r, i) => ({ ...r, enrichment: { status: 'ok' as const, failed: [], customer: null, order: order(i) } }));
      expect(await roundTrip(uniform, `${name}-uniform`)).toEqual(uniform);
      const mixed = uniform.map((r, i) => (i % 7 === 3 ? { ...r, enrichment: { ...r.enrichment, order: { other: 'keys' } } } : r));
      expect(await roundTrip(mixed, `${name}-mixed`)).toEqual(mixed);
    }
  });

  it('writes rows sharing a map object (as cached lookups give) with that map on every row, across chunks', async () => {
    const shared = [Object.freeze({ name: 'Customer 12345 (over twelve bytes)', tier: 'gold' }), Object.freeze({ name: 'Zoë', country: null }), Object.freeze({})];
    const records = makeChanges(CHUNK_ROWS * 2 + 5).map((r, i) => ({
      ...r,
      enrichment: {
        status: 'ok' as const,
        failed: [],
        customer: i % 4 === 3 ? null : shared[i % 3]!,
        // The same objects in the other map column, and a fresh (unfrozen) map now and then.
        order: i % 5 === 0 ? { fresh: `order ${i} with a long value` } : shared[(i + 1) % 3]!,
      },
    }));
    expect(await roundTrip(records, 'shared-maps')).toEqual(records);
  });

  it('writes maps right when a batch in flight finds the arena started over by another one', async () => {
    // Each batch's maps fit the arena, but not both: the second batch's staging starts it over
    // after the first resolved its rows' records, before the first's chunks are filled.
    const small = new ParquetEncoder({ compression: 'snappy', mapArenaWords: 1024 * 64, maxConcurrency: 2 });
    try {
      const batch = (tag: string, chunks: number) => {
        const maps = Array.from({ length: 1500 }, (_, m) => Object.freeze({ tag, m: String(m), v: `value ${m} of ${tag}` }));
        return makeChanges(CHUNK_ROWS * chunks, { stream: tag }).map((r, i) => ({ ...r, enrichment: { status: 'ok' as const, failed: [], customer: maps[i % maps.length]!, order: null } }));
      };
      // b is long: it is still being filled when c, staged after a, starts the arena over.
      const batches = [batch('a', 1), batch('b', 24), batch('c', 1), batch('d', 1)];
      const paths = batches.map((_, k) => join(dir, `arena-restart-${k}.parquet`));
      await Promise.all(batches.map((records, k) => small.encodeToFile(records, paths[k]!)));
      for (let k = 0; k < batches.length; k++) expect(await readChangesFromParquet(paths[k]!)).toEqual(batches[k]);
    } finally {
      await small.close();
    }
  });

  it('writes shared enrichments (as the SQL enricher makes them) with their maps on every row, across chunks and batches', async () => {
    const customers = Array.from({ length: 50 }, (_, c) => Object.freeze({ name: `Customer ${c} (over twelve bytes)`, tier: c % 3 ? 'gold' : null, country: 'DE' }));
    const orders = Array.from({ length: 300 }, (_, o) => Object.freeze({ channel: 'web', status: o % 7 ? 'shipped' : null, total_amount: `${o}.99` }));
    const shared = orders.map((order, o) => new SharedEnrichment('ok', [], customers[o % customers.length]!, order));
    const batch = (seed: number) =>
      makeChanges(CHUNK_ROWS * 2 + 11, { firstSeq: seed * 10_000 }).map((r, i) => ({ ...r, enrichment: shared[(i * 7 + seed) % shared.length]! }));
    for (const seed of [1, 2]) {
      const records = batch(seed);
      // Compared as plain data: the slot a SharedEnrichment keeps is no part of the record.
      expect(await roundTrip(records, `shared-enrichment-${seed}`)).toEqual(records.map((r) => ({ ...r, enrichment: { ...r.enrichment } })));
    }
  });

  it('writes maps right when the encoded maps outgrow their arena and start over, mid-batch', async () => {
    const small = new ParquetEncoder({ compression: 'snappy', mapArenaWords: 1024, maxConcurrency: 2 });
    try {
      // ~40 words a map: the 1024-word arena holds ~25, so a chunk starts over many times.
      const maps = Array.from({ length: 400 }, (_, m) => Object.freeze({ a: `v${m}`, b: m % 2 ? null : `long value number ${m}`, c: 'x', d: String(m), e: 'y', f: 'z', g: '', h: 'é' }));
      const records = makeChanges(CHUNK_ROWS * 2 + 5).map((r, i) => ({
        ...r,
        enrichment: { status: 'ok' as const, failed: [], customer: maps[(i * 13) % maps.length]!, order: i % 3 ? maps[i % 17]! : null },
      }));
      for (const name of ['arena-small-1', 'arena-small-2']) {
        const path = join(dir, `${name}.parquet`);
        await small.encodeToFile(records, path);
        expect(await readChangesFromParquet(path)).toEqual(records);
      }
      // Two batches in flight: each starts the arena over under the other's staged rows.
      const other = records.map((r, i) => ({ ...r, enrichment: { ...r.enrichment, customer: maps[(i * 31 + 7) % maps.length]! } }));
      const paths = ['arena-concurrent-1', 'arena-concurrent-2'].map((n) => join(dir, `${n}.parquet`));
      await Promise.all([small.encodeToFile(records, paths[0]!), small.encodeToFile(other, paths[1]!)]);
      expect(await readChangesFromParquet(paths[0]!)).toEqual(records);
      expect(await readChangesFromParquet(paths[1]!)).toEqual(other);
    } finally {
      await small.close();
    }
  });

  it('keeps the long values of earlier arena generations while batches that point at them are written, through garbage collections', async () => {
    // Long values live in DuckDB memory that a finalizer frees once nothing references it.
    // Unique 40-byte values start the 1024-word arena over every few maps, and collections run
    // all the while the batches are in flight. The window in which a freed value would be read
    // (a chunk's fill to DuckDB's sink) is too short for this to catch a writer that does not
    // keep its LongTexts: long-texts.test.ts checks the keeping itself.
    const gc = exposeGc();
    const small = new ParquetEncoder({ compression: 'snappy', mapArenaWords: 1024, maxConcurrency: 2 });
    const collecting = setInterval(gc, 1);
    try {
      const batch = (tag: string) =>
        makeChanges(CHUNK_ROWS * 3 + 7, { stream: tag }).map((r, i) => ({
          ...r,
          enrichment: { status: 'ok' as const, failed: [], customer: Object.freeze({ name: `${tag} customer number ${i} of the batch`, tier: 'gold' }), order: null },
        }));
      const batches = ['a', 'b', 'c'].map(batch);
      const paths = batches.map((_, k) => join(dir, `arena-gc-${k}.parquet`));
      await Promise.all(batches.map((records, k) => small.encodeToFile(records, paths[k]!)));
      clearInterval(collecting);
      for (let k = 0; k < batches.length; k++) expect(await readChangesFromParquet(paths[k]!)).toEqual(batches[k]);
    } finally {
      clearInterval(collecting);
      await small.close();
    }
  });

  it('writes a row whose two maps each fit the arena but not both at once', async () => {
    const small = new ParquetEncoder({ compression: 'snappy', mapArenaWords: 1024 });
    try {
      // 150 entries: ~600 words a map, so a row's pair needs more than the 1024-word arena.
      const big = (tag: string, n: number) => Object.freeze(Object.fromEntries(Array.from({ length: 150 }, (_, k) => [`${tag}${k}`, `${n}-${k}`])));
      const records = makeChanges(40).map((r, i) => ({ ...r, enrichment: { status: 'ok' as const, failed: [], customer: big('c', i % 3), order: big('o', i % 5) } }));
      const path = join(dir, 'arena-pair-too-big.parquet');
      await small.encodeToFile(records, path);
      expect(await readChangesFromParquet(path)).toEqual(records);
    } finally {
      await small.close();
    }
  });

  it('writes maps whose key lists change from chunk to chunk, with sizes that leave gaps, and maps too large for a chunk\'s child vector', async () => {
    const a = (i: number) => Object.freeze({ channel: `c${i % 5}`, status: 's', total_amount: String(i % 9) });
    const b = (i: number) => Object.freeze({ tier: `t${i % 4}`, country: 'FR' });
    const wide = (i: number) => Object.freeze(Object.fromEntries(Array.from({ length: 9 }, (_, k) => [`column_${k}`, `${i}-${k}`])));
    const records = makeChanges(CHUNK_ROWS * 4 + 3).map((r, i) => {
      const chunk = Math.floor(i / CHUNK_ROWS);
      // Chunk 0 mostly a, chunk 1 mostly b (the pattern switches), chunk 2 alternates sizes, chunk 3 all distinct wide maps.
      const order = chunk === 0 ? (i % 10 === 0 ? b(i) : a(i)) : chunk === 1 ? (i % 10 === 0 ? a(i) : b(i)) : chunk === 2 ? (i % 2 ? a(i) : b(i)) : wide(i);
      return { ...r, enrichment: { status: 'ok' as const, failed: [], customer: chunk === 3 ? wide(i + 1) : null, order } };
    });
    expect(await roundTrip(records, 'key-lists')).toEqual(records);
  });

  it('keeps row order and values across many chunks and past the dictionary limit', async () => {
    const records = makeChanges(CHUNK_ROWS * 3 + 17).map((r, i) =>
      // A column with more distinct long values than the dictionary holds, and maps that differ.
      ({ ...r, orderId: `order-number-${i}-long-enough`, enrichment: { status: 'ok' as const, failed: [], customer: { id: `c${i % (DICT_LIMIT + 100)}` }, order: null } }),
    );
    expect(await roundTrip(records, 'many')).toEqual(records);
  });

  it('writes an empty batch as a valid empty file', async () => {
    expect(await roundTrip([], 'empty')).toEqual([]);
  });

  it('encodes several batches in flight at once without mixing them up', async () => {
    const small = new ParquetEncoder({ compression: 'snappy', maxConcurrency: 2 });
    try {
      const batches = Array.from({ length: 6 }, (_, b) => makeChanges(500 + b * 700, { firstSeq: b * 10_000, stream: `s${b}` }));
      const paths = batches.map((_, b) => join(dir, `concurrent-${b}.parquet`));
      await Promise.all(batches.map((records, b) => small.encodeToFile(records, paths[b]!)));
      for (let b = 0; b < batches.length; b++) expect(await readChangesFromParquet(paths[b]!)).toEqual(batches[b]);
    } finally {
      await small.close();
    }
  });

  it('reports a clear SINK_WRITE_FAILED when the file cannot be written, and stays usable', async () => {
    const bad = join(dir, 'no-such-dir', 'x.parquet');
    await expect(encoder.encodeToFile(makeChanges(3), bad)).rejects.toMatchObject({ code: 'SINK_WRITE_FAILED', message: expect.stringContaining(bad) });
    expect(await roundTrip(makeChanges(3), 'after-failure')).toEqual(makeChanges(3));
  });

  it('fails the write of a row it cannot stage (inside the scan) with SINK_WRITE_FAILED naming the cause, and stays usable', async () => {
    // A custom enricher's map value JSON cannot serialize (outside the model's types, as a
    // loaded adapter might do): the error is thrown while DuckDB scans the batch.
    const unstageable = { total: 10n } as unknown as Record<string, string>;
    const records = makeChanges(CHUNK_ROWS + 3).map((r, i) => (i === CHUNK_ROWS + 1 ? { ...r, enrichment: { ...r.enrichment, status: 'ok' as const, order: unstageable } } : r));
    await expect(encoder.encodeToFile(records, join(dir, 'unstageable.parquet'))).rejects.toMatchObject({ code: 'SINK_WRITE_FAILED', message: expect.stringMatching(/BigInt/) });
    expect(await roundTrip(makeChanges(3), 'after-scan-failure')).toEqual(makeChanges(3));
  });

  it('refuses work after close', async () => {
    const closed = new ParquetEncoder();
    await closed.close();
    await expect(closed.encodeToFile(makeChanges(1), join(dir, 'closed.parquet'))).rejects.toMatchObject({ code: 'SHUTDOWN' });
  });
});
