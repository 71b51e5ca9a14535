import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, open, readFile, readdir, rename, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { IntegratorError, errorMessage } from '../../src/core/errors.js';
import type { ObjectStore } from '../../src/core/ports.js';

/** Where half-written files live: inside the root, so the final rename stays on one filesystem. */
export const TMP_DIR = '.tmp';

const BAD_KEY = /[\\\u0000-\u001f\u007f]/;

async function fsyncPath(path: string, flags = 'r'): Promise<void> {
  const fh = await open(path, flags);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * A local directory as the lake. Writes are atomic: a reader sees either no object or the whole
 * object, never a partial one (temp file, fsync, rename, fsync of the directory).
 */
export class FileObjectStore implements ObjectStore {
  readonly root: string;
  readonly location: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.location = this.root;
  }

  /** The temp directory to encode into, so `putFile` is a same-device rename. */
  get tmpDir(): string {
    return join(this.root, TMP_DIR);
  }

  /** Maps a key to a path under the root; refuses any key that could point elsewhere. */
  pathOf(key: string): string {
    const segments = key.split('/');
    if (key === '' || BAD_KEY.test(key) || segments.some((s) => s === '' || s === '.' || s === '..') || segments[0] === TMP_DIR) {
      throw new IntegratorError('SINK_WRITE_FAILED', `invalid object key "${key}": empty, ".", ".." segments, "\\", control characters and "${TMP_DIR}/" are not allowed`);
    }
    const path = join(this.root, ...segments);
    if (!path.startsWith(this.root + sep)) throw new IntegratorError('SINK_WRITE_FAILED', `object key "${key}" escapes the lake root ${this.root}`);
    return path;
  }

  async put(key: string, body: Buffer): Promise<void> {
    const target = this.pathOf(key);
    await this.withWriteError(key, async () => {
      const tmp = await this.tmpPath();
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(body);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await this.commit(tmp, target);
    });
  }

  async putFile(key: string, localPath: string): Promise<void> {
    const target = this.pathOf(key);
    await this.withWriteError(key, async () => {
      await fsyncPath(localPath, 'r+');
      try {
        await mkdir(dirname(target), { recursive: true });
        await rename(localPath, target);
        await fsyncPath(dirname(target));
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      }
      // Another filesystem: copy into our temp dir first, so the final step is still a rename.
      const tmp = await this.tmpPath();
      await copyFile(localPath, tmp);
      await fsyncPath(tmp, 'r+');
      await this.commit(tmp, target);
      await unlink(localPath);
    });
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.pathOf(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Keys under `prefix` (a plain string prefix, as in S3), sorted; temp files are never listed. */
  async list(prefix: string): Promise<readonly string[]> {
    const dirPart = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const start = dirPart === '' ? this.root : this.pathOf(dirPart);
    const keys: string[] = [];
    const walk = async (dir: string, keyPrefix: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const e of entries) {
        const key = keyPrefix === '' ? e.name : `${keyPrefix}/${e.name}`;
        if (keyPrefix === '' && e.name === TMP_DIR) continue;
        if (e.isDirectory()) {
          if (key.startsWith(prefix) || prefix.startsWith(`${key}/`)) await walk(join(dir, e.name), key);
        } else if (key.startsWith(prefix)) keys.push(key);
      }
    };
    await walk(start, dirPart);
    return keys.sort();
  }

  private async tmpPath(): Promise<string> {
    await mkdir(this.tmpDir, { recursive: true });
    return join(this.tmpDir, `${randomUUID()}.part`);
  }

  private async commit(tmp: string, target: string): Promise<void> {
    try {
      await mkdir(dirname(target), { recursive: true });
      await rename(tmp, target);
      await fsyncPath(dirname(target));
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }

  private async withWriteError(key: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (err instanceof IntegratorError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      // Full disks and busy files may clear up; permissions and bad paths will not.
      const retriable = code === 'ENOSPC' || code === 'EBUSY' || code === 'EAGAIN' || code === 'EMFILE';
      throw new IntegratorError('SINK_WRITE_FAILED', `cannot write ${key} under ${this.root}: ${errorMessage(err)}`, { cause: err, retriable, details: { key, root: this.root } });
    }
  }
}
