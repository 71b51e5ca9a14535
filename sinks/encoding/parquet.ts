import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { sqlString } from '../../src/catalog/duckdb-sql.js';
import { IntegratorError, errorMessage } from '../../src/core/errors.js';
import { type ChangeList, ChangeColumns } from '../../src/core/change-columns.js';
import type { Encoder } from './encoder.js';
import { MapArena } from './map-arena.js';
import { DICT_DDL, StagedBatch } from './parquet-staging.js';
import { StagedScan } from './staged-scan.js';

export type ParquetCodec = 'snappy' | 'zstd';

export interface ParquetEncoderOptions {
  readonly compression?: ParquetCodec;
  /**
   * DuckDB worker threads per query. 1 keeps one core for the JS thread; batches in flight at
   * once still run side by side, each COPY on its own connection.
   */
  readonly threads?: number;
  /** Connections kept for encodes in flight at once; more encodes wait for a free one. */
  readonly maxConcurrency?: number;
  /** DuckDB memory limit, e.g. "512MB". */
  readonly memoryLimit?: string;
  /** Words (4 bytes) the encoded enrichment maps may take before they start over (see MapArena); tests set it small. */
  readonly mapArenaWords?: number;
}

/**
 * Writes Parquet through one in-process DuckDB: each batch is laid out in typed arrays (see
 * parquet-staging.ts), scanned chunk by chunk by a table function (staged-scan.ts) and copied out
 * with `COPY (SELECT ... FROM staged_batch(id)) TO path (FORMAT parquet)`. One instance per
 * process; each encode in flight holds its own connection, so concurrent batches never share a
 * dictionary table.
 */
export class ParquetEncoder implements Encoder {
  readonly extension = 'parquet';
  readonly contentType = 'application/vnd.apache.parquet';
  private readonly codec: ParquetCodec;
  private readonly maxConcurrency: number;
  private readonly idle: DuckDBConnection[] = [];
  private readonly waiters: Array<{ resolve: (c: DuckDBConnection) => void; reject: (e: unknown) => void }> = [];
  private open = 0;
  private busy = 0;
  private closed = false;
  private drained?: () => void;

  private readonly config: Record<string, string>;
  /** Created on first use, so building the sinks stays synchronous. */
  private instance?: Promise<DuckDBInstance>;
  private readonly scan = new StagedScan();
  private readonly maps: MapArena;
  /** The instance the scan function is registered with (once per instance). */
  private scanOn?: DuckDBInstance;

  constructor(opts: ParquetEncoderOptions = {}) {
    this.codec = opts.compression ?? 'zstd';
    this.maps = new MapArena(opts.mapArenaWords);
    // Encodes beyond one per core do not finish sooner (each COPY keeps a core busy), but each
    // holds a whole batch in DuckDB: about 1 kB a row, so 100 MB for a full batch.
    this.maxConcurrency = Math.max(1, Math.min(opts.maxConcurrency ?? 8, availableParallelism()));
    this.config = { threads: String(opts.threads ?? 1) };
    if (opts.memoryLimit) this.config.memory_limit = opts.memoryLimit;
  }

  async encodeToFile(records: ChangeList, path: string): Promise<{ bytes: number }> {
    const con = await this.acquire();
    let healthy = false;
    let scan: { readonly from: string; release(): void } | undefined;
    try {
      const staged = new StagedBatch(ChangeColumns.from(records), this.maps);
      scan = this.scan.open(staged);
      const dict = staged.dictionaries(scan.from);
      if (dict.chunks.length > 0) {
        // Replaced by the next batch on this connection: a dictionary is small.
        await con.run(`CREATE OR REPLACE TEMP TABLE dict (${DICT_DDL})`);
        const dictAppender = await con.createAppender('dict');
        try {
          for (const chunk of dict.chunks) dictAppender.appendDataChunk(chunk);
        } finally {
          dictAppender.closeSync();
        }
      }
      const copied = await con.run(`COPY (${dict.select}) TO ${sqlString(path)} (FORMAT parquet, COMPRESSION ${this.codec})`);
      // The scan ends at the first empty chunk: make sure it was the last one.
      if (copied.rowsChanged !== records.length) throw new Error(`wrote ${copied.rowsChanged} rows, expected ${records.length}`);
      healthy = true;
      return { bytes: (await stat(path)).size };
    } catch (err) {
      throw new IntegratorError('SINK_WRITE_FAILED', `cannot encode ${records.length} records as Parquet to ${path}: ${errorMessage(err)}`, {
        cause: err,
        details: { path, records: records.length },
      });
    } finally {
      scan?.release();
      this.release(con, healthy);
    }
  }

  /** Lets encodes in flight finish, then closes the connections and the instance. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(new IntegratorError('SHUTDOWN', 'parquet encoder is closed'));
    if (this.busy > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    for (const c of this.idle.splice(0)) c.closeSync();
    const instance = await this.instance?.catch(() => undefined);
    instance?.closeSync();
  }

  private async acquire(): Promise<DuckDBConnection> {
    if (this.closed) throw new IntegratorError('SHUTDOWN', 'parquet encoder is closed');
    this.busy++;
    try {
      return await this.connection();
    } catch (err) {
      this.busy--;
      if (this.busy === 0) this.drained?.();
      throw err;
    }
  }

  private async connection(): Promise<DuckDBConnection> {
    const idle = this.idle.pop();
    if (idle) return idle;
    if (this.open >= this.maxConcurrency) return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.open++;
    try {
      if (!this.instance) {
        const created = DuckDBInstance.create(':memory:', this.config);
        this.instance = created;
        created.catch(() => (this.instance === created ? (this.instance = undefined) : undefined));
      }
      const instance = await this.instance;
      const con = await instance.connect();
      if (this.scanOn !== instance) {
        this.scan.register(con);
        this.scanOn = instance;
      }
      return con;
    } catch (err) {
      this.open--;
      throw new IntegratorError('SINK_WRITE_FAILED', `cannot open a DuckDB connection for Parquet: ${errorMessage(err)}`, { cause: err });
    }
  }

  /** A connection whose encode failed half-way is closed rather than reused. */
  private release(con: DuckDBConnection, healthy: boolean): void {
    this.busy--;
    if (!healthy) {
      con.closeSync();
      this.open--;
      const waiter = this.waiters.shift();
      // The waiter counts itself as busy already (see acquire).
      if (waiter) this.connection().then(waiter.resolve, waiter.reject);
    } else {
      const waiter = this.waiters.shift();
      if (waiter) waiter.resolve(con);
      else this.idle.push(con);
    }
    if (this.busy === 0) this.drained?.();
  }
}
