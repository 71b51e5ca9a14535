import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { IntegratorError, errorMessage } from '../core/errors.js';
import { SOURCE_KINDS, type SourceKind } from '../core/position.js';
import type { Checkpoint, CheckpointStore } from '../core/ports.js';

const FILE_VERSION = 1;

const CheckpointRow = z
  .object({
    source: z.enum(SOURCE_KINDS),
    stream: z.string(),
    shard: z.string(),
    seq: z.string().min(1),
    sub: z.number().int().optional(),
    updatedAt: z.number().int(),
  })
  .strict();

const CheckpointFile = z
  .object({
    version: z.literal(FILE_VERSION),
    checkpoints: z.array(CheckpointRow),
  })
  .strict();

const keyOf = (source: string, stream: string, shard: string): string => `${source}\u0000${stream}\u0000${shard}`;

/**
 * Every operation on one file, from every store instance in this process, runs in one queue:
 * two instances opened on the same path (a restart inside a test, the CLI next to a run) must
 * not interleave their read-modify-write cycles and lose an update.
 */
const queues = new Map<string, Promise<unknown>>();

function enqueue<T>(file: string, op: () => Promise<T>): Promise<T> {
  const prev = queues.get(file) ?? Promise.resolve();
  const next = prev.then(op, op);
  const settled = next.then(
    () => undefined,
    () => undefined,
  );
  queues.set(file, settled);
  // Drop the entry once idle so the map does not grow with every path ever used.
  void settled.then(() => {
    if (queues.get(file) === settled) queues.delete(file);
  });
  return next;
}

/**
 * Checkpoints of every shard in one JSON file, for local runs and the demo. Each change rewrites
 * the whole file atomically (temp file, fsync, rename, fsync of the directory), so a crash leaves
 * either the old or the new content, never a torn file. The file is read again on every
 * operation rather than cached, so an edit by `checkpoints set` from another process is seen; it
 * is small (one row per shard), so this costs little next to the fsync.
 *
 * A file that does not parse is an error naming the file: resetting it would silently replay or
 * skip a whole stream.
 */
export class FileCheckpointStore implements CheckpointStore {
  readonly path: string;
  private readonly now: () => number;

  constructor(path: string, opts: { now?: () => number } = {}) {
    this.path = resolve(path);
    this.now = opts.now ?? Date.now;
  }

  get(source: SourceKind, stream: string, shard: string): Promise<Checkpoint | undefined> {
    return enqueue(this.path, async () => (await this.load()).get(keyOf(source, stream, shard)));
  }

  list(source?: SourceKind, stream?: string): Promise<readonly Checkpoint[]> {
    return enqueue(this.path, async () =>
      [...(await this.load()).values()].filter((c) => (source === undefined || c.source === source) && (stream === undefined || c.stream === stream)),
    );
  }

  put(cp: Omit<Checkpoint, 'updatedAt'>): Promise<void> {
    const row = CheckpointRow.safeParse({ ...cp, updatedAt: this.now() });
    if (!row.success) {
      return Promise.reject(
        new IntegratorError('CHECKPOINT_FAILED', `invalid checkpoint for ${this.path}: ${row.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, {
          details: { checkpoint: cp },
        }),
      );
    }
    return enqueue(this.path, async () => {
      const all = await this.load();
      all.set(keyOf(cp.source, cp.stream, cp.shard), row.data as Checkpoint);
      await this.save(all);
    });
  }

  delete(source: SourceKind, stream: string, shard: string): Promise<void> {
    return enqueue(this.path, async () => {
      const all = await this.load();
      if (all.delete(keyOf(source, stream, shard))) await this.save(all);
    });
  }

  async close(): Promise<void> {
    // Waits for queued writes, so a caller that closes after its last put finds it on disk.
    await enqueue(this.path, async () => undefined);
  }

  private async load(): Promise<Map<string, Checkpoint>> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
      throw new IntegratorError('CHECKPOINT_FAILED', `cannot read checkpoint file ${this.path}: ${errorMessage(err)}`, { retriable: true, cause: err });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw this.corrupt(`not valid JSON (${errorMessage(err)})`, err);
    }
    const parsed = CheckpointFile.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw this.corrupt(`unexpected content at "${issue?.path.join('.') ?? ''}": ${issue?.message ?? 'invalid'}`, parsed.error);
    }
    const out = new Map<string, Checkpoint>();
    for (const c of parsed.data.checkpoints) out.set(keyOf(c.source, c.stream, c.shard), c as Checkpoint);
    return out;
  }

  private corrupt(what: string, cause: unknown): IntegratorError {
    return new IntegratorError(
      'CHECKPOINT_FAILED',
      `checkpoint file ${this.path} is corrupt: ${what}. Fix or delete it deliberately (deleting replays every stream from its configured start).`,
      { cause, details: { path: this.path } },
    );
  }

  private async save(all: Map<string, Checkpoint>): Promise<void> {
    const rows = [...all.values()].sort((a, b) => (keyOf(a.source, a.stream, a.shard) < keyOf(b.source, b.stream, b.shard) ? -1 : 1));
    const body = `${JSON.stringify({ version: FILE_VERSION, checkpoints: rows }, null, 2)}\n`;
    const dir = dirname(this.path);
    const tmp = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await mkdir(dir, { recursive: true });
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(body, 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.path);
      await syncDir(dir);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw new IntegratorError('CHECKPOINT_FAILED', `cannot write checkpoint file ${this.path}: ${errorMessage(err)}`, { retriable: true, cause: err });
    }
  }
}

/** Makes the rename itself durable; some platforms cannot open a directory, which is harmless. */
async function syncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    /* not supported here */
  } finally {
    await fh?.close().catch(() => undefined);
  }
}
