import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileObjectStore, TMP_DIR } from './store.js';

let root: string;
let store: FileObjectStore;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'file-store-'));
  store = new FileObjectStore(root);
});
afterEach(async () => rm(root, { recursive: true, force: true }));

describe('FileObjectStore', () => {
  it('puts, gets and lists objects by key, creating folders', async () => {
    await store.put('t/dt=2026-11-21/hour=13/a.parquet', Buffer.from('A'));
    await store.put('t/dt=2026-11-21/hour=14/b.parquet', Buffer.from('B'));
    await store.put('dlq/dt=2026-11-21/c.ndjson.gz', Buffer.from('C'));
    expect((await store.get('t/dt=2026-11-21/hour=13/a.parquet'))?.toString()).toBe('A');
    expect(await store.get('t/missing')).toBeUndefined();
    expect(await store.list('t/')).toEqual(['t/dt=2026-11-21/hour=13/a.parquet', 't/dt=2026-11-21/hour=14/b.parquet']);
    expect(await store.list('t/dt=2026-11-21/hour=1')).toHaveLength(2);
    expect(await store.list('')).toHaveLength(3);
    expect(await store.list('nothing/')).toEqual([]);
  });

  it('overwrites an object under the same key (a retried batch replaces itself)', async () => {
    await store.put('t/x', Buffer.from('first'));
    await store.put('t/x', Buffer.from('second'));
    expect((await store.get('t/x'))?.toString()).toBe('second');
  });

  it('moves a finished file into place and leaves no temp files behind', async () => {
    const local = join(store.tmpDir, 'encoded.parquet');
    await store.put('warm/up', Buffer.from('x'));
    await writeFile(local, 'PAR1...');
    await store.putFile('t/p/obj.parquet', local);
    expect((await store.get('t/p/obj.parquet'))?.toString()).toBe('PAR1...');
    expect(await readdir(store.tmpDir)).toEqual([]);
    expect(await store.list('')).not.toContain(expect.stringContaining(TMP_DIR));
  });

  it('moves a file from another directory too (copy then rename when devices differ)', async () => {
    const other = await mkdtemp(join(tmpdir(), 'elsewhere-'));
    try {
      const local = join(other, 'f.parquet');
      await writeFile(local, 'data');
      await store.putFile('t/f.parquet', local);
      expect((await store.get('t/f.parquet'))?.toString()).toBe('data');
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('never shows a partial object: readers see the old or the new content only', async () => {
    await store.put('t/big', Buffer.alloc(1 << 20, 1));
    const writes = Array.from({ length: 5 }, (_, i) => store.put('t/big', Buffer.alloc(1 << 20, i + 2)));
    const reads: Buffer[] = [];
    for (let i = 0; i < 20; i++) reads.push((await store.get('t/big'))!);
    await Promise.all(writes);
    for (const r of reads) {
      expect(r.length).toBe(1 << 20);
      expect(r.every((b) => b === r[0])).toBe(true);
    }
  });

  it.each(['../escape', 'a/../../b', '/abs', 'a//b', './a', 'a/.', '', 'a\\b', 'a\u0000b', `${TMP_DIR}/x`])('refuses the key %j', async (key) => {
    await expect(store.put(key, Buffer.from('x'))).rejects.toMatchObject({ code: 'SINK_WRITE_FAILED' });
    expect(() => store.pathOf(key)).toThrow(/invalid object key|escapes/);
  });

  it('reports a failed move with the key and the root', async () => {
    await expect(store.putFile('t/x', join(root, 'does-not-exist'))).rejects.toMatchObject({
      code: 'SINK_WRITE_FAILED',
      message: expect.stringMatching(/t\/x.*ENOENT/),
    });
  });
});
