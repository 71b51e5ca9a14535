import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { RAW_COLUMNS } from '../core/columns.js';
import { IntegratorError } from '../core/errors.js';

/** What the local catalog knows: like a Glue database, as one small JSON file beside the lake. */
export interface LocalPartition {
  readonly path: string;
  readonly values: Readonly<Record<string, string>>;
  objects: string[];
  records: number;
  bytes: number;
  minEventTime: number;
  maxEventTime: number;
  readonly firstCommittedAt: number;
  lastCommittedAt: number;
}

export interface LocalTable {
  readonly name: string;
  /** Directory of the table below the lake root. */
  readonly location: string;
  columns: { name: string; type: string }[];
  partitionKeys: string[];
  partitions: Record<string, LocalPartition>;
}

export interface LocalCatalogState {
  version: 1;
  tables: Record<string, LocalTable>;
  curated?: { builtAt: number; tables: Record<string, number>; rawRows: number; partitions: number };
}

export const emptyState = (): LocalCatalogState => ({ version: 1, tables: {} });

export const rawColumnsSpec = (): { name: string; type: string }[] => RAW_COLUMNS.map((c) => ({ name: c.name, type: c.type }));

export async function loadState(file: string): Promise<LocalCatalogState | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new IntegratorError('CATALOG_FAILED', `local catalog file "${file}" is not valid JSON; move it away to rebuild it from the lake`, { cause: err });
  }
  const state = doc as Partial<LocalCatalogState>;
  if (state.version !== 1 || typeof state.tables !== 'object' || state.tables === null) {
    throw new IntegratorError('CATALOG_FAILED', `local catalog file "${file}" has an unknown layout (version ${String(state.version)})`);
  }
  return state as LocalCatalogState;
}

let writes = 0;

/** Atomic: a crash leaves the old file or the new one, never half of one. */
export async function saveState(file: string, state: LocalCatalogState): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${++writes}`;
  await writeFile(tmp, `${JSON.stringify(state, null, 1)}\n`);
  await rename(tmp, file);
}

/**
 * Finds the Hive partitions of a table directory (like MSCK REPAIR TABLE): directories named
 * key=value, down to the first level holding data files.
 */
export async function scanPartitions(tableDir: string): Promise<{ path: string; values: Record<string, string>; objects: string[] }[]> {
  const out: { path: string; values: Record<string, string>; objects: string[] }[] = [];
  const walk = async (dir: string, rel: string[], values: Record<string, string>): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const files = entries.filter((e) => e.isFile() && !e.name.startsWith('.') && !e.name.startsWith('_')).map((e) => e.name);
    if (rel.length > 0 && files.length > 0) out.push({ path: rel.join('/'), values, objects: files.sort() });
    for (const e of entries) {
      const eq = e.name.indexOf('=');
      if (!e.isDirectory() || eq <= 0) continue;
      await walk(join(dir, e.name), [...rel, e.name], { ...values, [e.name.slice(0, eq)]: decodeHive(e.name.slice(eq + 1)) });
    }
  };
  await walk(tableDir, [], {});
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function decodeHive(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}
