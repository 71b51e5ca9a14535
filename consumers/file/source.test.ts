import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FileCheckpointStore } from '../../src/checkpoints/file-store.js';
import type { Envelope } from '../../src/core/envelope.js';
import { ALWAYS_OPEN, type FlowGate, ManualGate } from '../../src/core/flow-gate.js';
import { malformedLines, writeEventsFile } from '../../test/fixtures/events.js';
import { SILENT_LOGGER } from '../../src/core/logger.js';
import { NO_METRICS } from '../../src/core/metrics.js';
import type { SourceContext } from '../../src/core/ports.js';
import { FileSourceConfig } from './config.js';
import { createFileSource } from './create.js';
import type { FileSource } from './source.js';

const ctxWith = (gate: FlowGate = ALWAYS_OPEN): SourceContext => ({ gate, log: SILENT_LOGGER, metrics: NO_METRICS, flush: async () => undefined });
const ticks = (ms = 30) => new Promise((r) => setTimeout(r, ms));

describe('FileSource', () => {
  let dir: string;
  let store: FileCheckpointStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'file-source-'));
    store = new FileCheckpointStore(join(dir, 'state', 'checkpoints.json'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function fileOf(name: string, content: string | Buffer): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, content);
    return path;
  }
  const sourceFor = (path: string, over: Partial<FileSourceConfig> = {}, readChunkBytes?: number): FileSource =>
    createFileSource(FileSourceConfig.parse({ type: 'file', path, ...over }), { checkpoints: store, log: SILENT_LOGGER, now: () => 1_000 }, { readChunkBytes });
  const readAll = async (src: FileSource, ctx = ctxWith()): Promise<Array<readonly Envelope[]>> => lastValueFrom(src.open(ctx).pipe(toArray()));
  const lines = (polls: Array<readonly Envelope[]>) => polls.flat().map((e) => ({ seq: e.position.seq, text: e.payload.kind === 'bytes' ? e.payload.data.toString('utf8') : '?', size: e.size }));

  it('emits every line with its position (file name as stream, shard 0, line number) in polls of linesPerPoll', async () => {
    // Arrange
    const path = await fileOf('inventory-2026.ndjson', Array.from({ length: 10 }, (_, i) => `{"n":${i + 1}}`).join('\n') + '\n');
    const src = sourceFor(path, { linesPerPoll: 4 });

    // Act
    const polls = await readAll(src);

    // Assert
    expect(polls.map((p) => p.length)).toEqual([4, 4, 2]);
    const first = polls[0]![0]!;
    expect(first).toEqual({
      position: { source: 'file', stream: 'inventory-2026', shard: '0', seq: '1' },
      payload: { kind: 'bytes', data: Buffer.from('{"n":1}') },
      receivedAt: 1_000,
      size: 7,
    });
    expect(lines(polls).map((l) => l.seq)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
    expect(src.health()).toMatchObject({ connected: true, lastPollAt: 1_000, shards: 1 });
  });

  it('uses the configured stream name when given', async () => {
    const path = await fileOf('x.ndjson', '{}\n');
    const polls = await readAll(sourceFor(path, { stream: 'orders-replay' }));
    expect(polls[0]![0]!.position.stream).toBe('orders-replay');
  });

  it('handles CRLF, skips empty lines but keeps counting them, and emits a last line without newline', async () => {
    const path = await fileOf('crlf.ndjson', '{"a":1}\r\n\r\n\n{"b":2}\r\n   \n{"c":3}');
    const polls = await readAll(sourceFor(path));
    expect(lines(polls)).toEqual([
      { seq: '1', text: '{"a":1}', size: 7 },
      { seq: '4', text: '{"b":2}', size: 7 },
      // Whitespace is not empty: the decoder rejects it into the DLQ rather than losing it here.
      { seq: '5', text: '   ', size: 3 },
      { seq: '6', text: '{"c":3}', size: 7 },
    ]);
  });

  it('delivers invalid UTF-8 byte for byte', async () => {
    const bad = Buffer.concat([Buffer.from('{"sku":"SKU-'), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('"}')]);
    const path = await fileOf('bad.ndjson', Buffer.concat([Buffer.from('{"ok":1}\n'), bad, Buffer.from('\r\n{"ok":2}\n')]));
    const polls = await readAll(sourceFor(path));
    const env = polls.flat()[1]!;
    expect(env.position.seq).toBe('2');
    expect(env.payload.kind === 'bytes' && env.payload.data.equals(bad)).toBe(true);
    expect(env.size).toBe(bad.length);
  });

  it('delivers a 2 MB line as a truncated prefix with its real size, without holding it whole', async () => {
    // Arrange: small reads so the line crosses many chunks.
    const max = 1024 * 1024;
    const long = `{"sku":"SKU-1","note":"${'x'.repeat(2 * 1024 * 1024)}"}`;
    const path = await fileOf('long.ndjson', `{"n":1}\n${long}\n{"n":3}\n`);
    const src = sourceFor(path, { maxRecordBytes: max }, 64 * 1024);

    // Act
    const all = (await readAll(src)).flat();

    // Assert
    expect(all.map((e) => e.position.seq)).toEqual(['1', '2', '3']);
    const big = all[1]!;
    expect(big.size).toBe(Buffer.byteLength(long));
    if (big.payload.kind !== 'bytes') throw new Error('expected bytes');
    expect(big.payload.data.length).toBe(max);
    expect(big.payload.data.equals(Buffer.from(long).subarray(0, max))).toBe(true);
    // The payload does not pin a buffer holding the whole line.
    expect(big.payload.data.buffer.byteLength).toBeLessThan(max + 64 * 1024);
    expect(all[2]!.size).toBe(7);
  });

  it('resumes after the checkpoint; commits go only forward and are serialised', async () => {
    // Arrange
    const path = await fileOf('events.ndjson', Array.from({ length: 8 }, (_, i) => `{"n":${i + 1}}`).join('\n'));
    const first = sourceFor(path);
    await readAll(first);

    // Act: commits arrive out of order and concurrently.
    await Promise.all([
      first.commit({ source: 'file', stream: 'events', shard: '0', seq: '3' }),
      first.commit({ source: 'file', stream: 'events', shard: '0', seq: '5' }),
      first.commit({ source: 'file', stream: 'events', shard: '0', seq: '4' }),
    ]);
    const restarted = sourceFor(path);
    const polls = await readAll(restarted);

    // Assert
    expect((await store.get('file', 'events', '0'))?.seq).toBe('5');
    expect(lines(polls).map((l) => l.seq)).toEqual(['6', '7', '8']);
    expect(lines(await readAll(sourceFor(path, { startAt: 'beginning' }))).length).toBe(8);
  });

  it('refuses to commit a position it never emitted', async () => {
    const src = sourceFor(await fileOf('events.ndjson', '{}\n'));
    await expect(src.commit({ source: 'file', stream: 'other', shard: '0', seq: '1' })).rejects.toMatchObject({ code: 'INTERNAL' });
    await expect(src.commit({ source: 'kafka', stream: 'events', shard: '0', seq: '1' })).rejects.toThrow(/never emitted/);
    expect(await store.list()).toEqual([]);
  });

  it('fails clearly on a checkpoint that is not a line number', async () => {
    const path = await fileOf('events.ndjson', '{}\n');
    await store.put({ source: 'file', stream: 'events', shard: '0', seq: 'SHARD_END' });
    await expect(readAll(sourceFor(path))).rejects.toMatchObject({ code: 'CHECKPOINT_FAILED', message: expect.stringContaining('"SHARD_END"') });
  });

  it('fails with SOURCE_READ_FAILED naming a missing file', async () => {
    const path = join(dir, 'nope.ndjson');
    const src = sourceFor(path);
    await expect(readAll(src)).rejects.toMatchObject({ code: 'SOURCE_READ_FAILED', retriable: false, message: expect.stringContaining(path) });
    expect(src.health().connected).toBe(false);
  });

  it('honours the gate: reads nothing while closed and pauses between polls when it closes', async () => {
    // Arrange
    const path = await fileOf('gate.ndjson', Array.from({ length: 9 }, (_, i) => `{"n":${i + 1}}`).join('\n'));
    const gate = new ManualGate();
    gate.set(false);
    const src = sourceFor(path, { linesPerPoll: 3 });
    const polls: Envelope[][] = [];
    let completed = false;

    // Act + Assert: closed from the start.
    src.open(ctxWith(gate)).subscribe({
      next: (p) => {
        polls.push([...p]);
        gate.set(false); // the pipeline closes the gate after each poll
      },
      complete: () => (completed = true),
    });
    await ticks();
    expect(polls).toHaveLength(0);

    gate.set(true);
    await vi.waitFor(() => expect(polls).toHaveLength(1));
    await ticks();
    expect(polls).toHaveLength(1);

    gate.set(true);
    await vi.waitFor(() => expect(polls).toHaveLength(2));
    await ticks();
    expect(polls).toHaveLength(2);
    expect(completed).toBe(false);

    gate.set(true);
    await vi.waitFor(() => expect(completed).toBe(true));
    expect(polls.flat().map((e) => e.position.seq)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });

  it('stop() ends reading early, even while waiting on a closed gate, and completes', async () => {
    const path = await fileOf('stop.ndjson', Array.from({ length: 100 }, (_, i) => `{"n":${i + 1}}`).join('\n'));
    const gate = new ManualGate();
    const src = sourceFor(path, { linesPerPoll: 10 });
    const polls: Envelope[][] = [];
    const done = new Promise<void>((resolve, reject) =>
      src.open(ctxWith(gate)).subscribe({
        next: (p) => {
          polls.push([...p]);
          if (polls.length === 2) gate.set(false);
        },
        complete: resolve,
        error: reject,
      }),
    );
    await vi.waitFor(() => expect(polls).toHaveLength(2));
    await ticks();
    expect(polls).toHaveLength(2);

    await src.stop();
    await done;

    expect(polls.flat().map((e) => e.position.seq)).toEqual(Array.from({ length: 20 }, (_, i) => String(i + 1)));
  });

  it('stop() called by the pipeline during a poll stops after that poll', async () => {
    const path = await fileOf('stop2.ndjson', Array.from({ length: 50 }, (_, i) => `{"n":${i + 1}}`).join('\n'));
    const again = sourceFor(path, { linesPerPoll: 5 });
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) =>
      again.open(ctxWith()).subscribe({
        next: (p) => {
          seen.push(...p.map((e) => e.position.seq));
          void again.stop();
        },
        complete: resolve,
        error: reject,
      }),
    );
    expect(seen).toEqual(['1', '2', '3', '4', '5']);
  });

  it('reads a generated events file with every malformed kind, each at its line, byte for byte', async () => {
    // Arrange
    const bad = malformedLines();
    const malformed = bad.map((b, i) => ({ line: 10 + i * 50, data: b.data }));
    const path = join(dir, 'generated.ndjson');
    const written = await writeEventsFile(path, 1000, { malformed });

    // Act
    const all = (await readAll(sourceFor(path, { linesPerPoll: 64 }), ctxWith())).flat();

    // Assert
    expect(all).toHaveLength(written.lines);
    expect(all.map((e) => e.position.seq)).toEqual(Array.from({ length: written.lines }, (_, i) => String(i + 1)));
    for (const m of malformed) {
      const env = all[m.line - 1]!;
      if (env.payload.kind !== 'bytes') throw new Error('expected bytes');
      expect(env.size).toBe(m.data.length);
      const expected = m.data.length > 1024 * 1024 ? m.data.subarray(0, 1024 * 1024) : m.data;
      expect(env.payload.data.equals(expected)).toBe(true);
    }
  });

  it('cannot be opened twice', async () => {
    const src = sourceFor(await fileOf('once.ndjson', '{}\n'));
    await readAll(src);
    await expect(readAll(src)).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});
