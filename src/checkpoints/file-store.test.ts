import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IntegratorError } from '../core/errors.js';
import { FileCheckpointStore } from './file-store.js';

describe('FileCheckpointStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cp-store-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('returns nothing for a missing file and creates parent directories on the first put', async () => {
    // Arrange
    const path = join(dir, 'a', 'b', 'checkpoints.json');
    const store = new FileCheckpointStore(path, { now: () => 1234 });

    // Act
    const before = await store.get('file', 'events', '0');
    await store.put({ source: 'file', stream: 'events', shard: '0', seq: '42' });

    // Assert
    expect(before).toBeUndefined();
    expect(await store.get('file', 'events', '0')).toEqual({ source: 'file', stream: 'events', shard: '0', seq: '42', updatedAt: 1234 });
    const onDisk = JSON.parse(await readFile(path, 'utf8'));
    expect(onDisk).toEqual({ version: 1, checkpoints: [{ source: 'file', stream: 'events', shard: '0', seq: '42', updatedAt: 1234 }] });
  });

  it('rewrites atomically: no temp file is left behind and a new instance reads what was put', async () => {
    const path = join(dir, 'checkpoints.json');
    const store = new FileCheckpointStore(path);
    await store.put({ source: 'kinesis', stream: 's', shard: 'shardId-1', seq: '4958', sub: 3 });
    await store.put({ source: 'kinesis', stream: 's', shard: 'shardId-1', seq: '4960' });

    expect(await readdir(dir)).toEqual(['checkpoints.json']);
    const reopened = new FileCheckpointStore(path);
    expect(await reopened.get('kinesis', 's', 'shardId-1')).toMatchObject({ seq: '4960' });
    expect((await reopened.get('kinesis', 's', 'shardId-1'))?.sub).toBeUndefined();
  });

  it('serialises concurrent puts from several instances without losing an update', async () => {
    // Arrange: two instances on the same file, as a restart inside one process would have.
    const path = join(dir, 'checkpoints.json');
    const a = new FileCheckpointStore(path);
    const b = new FileCheckpointStore(path);

    // Act: 60 puts on 30 shards, all in flight at once.
    await Promise.all(
      Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).put({ source: 'kafka', stream: 'topic', shard: String(i % 30), seq: String(i) })),
    );

    // Assert: every shard holds the last value queued for it.
    const all = await a.list('kafka', 'topic');
    expect(all).toHaveLength(30);
    for (let s = 0; s < 30; s++) expect(all.find((c) => c.shard === String(s))?.seq).toBe(String(s + 30));
  });

  it('lists by source and stream, and deletes', async () => {
    const store = new FileCheckpointStore(join(dir, 'cp.json'));
    await store.put({ source: 'file', stream: 'x', shard: '0', seq: '1' });
    await store.put({ source: 'file', stream: 'y', shard: '0', seq: '2' });
    await store.put({ source: 'dynamodb', stream: 'x', shard: 'shardId-9', seq: 'SHARD_END' });

    expect((await store.list()).length).toBe(3);
    expect((await store.list('file')).map((c) => c.stream).sort()).toEqual(['x', 'y']);
    expect((await store.list('file', 'y')).map((c) => c.seq)).toEqual(['2']);

    await store.delete('file', 'x', '0');
    await store.delete('file', 'nothing', '0');
    expect((await store.list()).map((c) => `${c.source}/${c.stream}`).sort()).toEqual(['dynamodb/x', 'file/y']);
  });

  it.each([
    ['truncated JSON', '{"version":1,"checkpoints":[{"source":"file"'],
    ['wrong shape', '{"version":1,"checkpoints":[{"source":"file","stream":"s","shard":"0","seq":5,"updatedAt":1}]}'],
    ['unknown version', '{"version":7,"checkpoints":[]}'],
  ])('refuses a corrupt file (%s) with an error naming the file, and never resets it', async (_name, content) => {
    // Arrange
    const path = join(dir, 'checkpoints.json');
    await writeFile(path, content);
    const store = new FileCheckpointStore(path);

    // Act
    const got = store.get('file', 's', '0');
    const put = store.put({ source: 'file', stream: 's', shard: '0', seq: '9' });

    // Assert
    await expect(got).rejects.toBeInstanceOf(IntegratorError);
    await expect(got).rejects.toMatchObject({ code: 'CHECKPOINT_FAILED', retriable: false });
    await expect(got).rejects.toThrow(path);
    await expect(put).rejects.toThrow(/is corrupt/);
    expect(await readFile(path, 'utf8')).toBe(content);
  });

  it('rejects an invalid checkpoint before touching the file', async () => {
    const store = new FileCheckpointStore(join(dir, 'cp.json'));
    await expect(store.put({ source: 'ftp' as never, stream: 's', shard: '0', seq: '1' })).rejects.toMatchObject({ code: 'CHECKPOINT_FAILED' });
    expect(await readdir(dir)).toEqual([]);
  });
});
