import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { type DuckDBConnection, DuckDBDataChunk, DuckDBInstance } from '@duckdb/node-api';
import { sqlString } from '../../src/catalog/duckdb-sql.js';
import { IntegratorError, errorMessage } from '../../src/core/errors.js';
import { type ChangeList, ChangeColumns } from '../../src/core/change-columns.js';
import type { Encoder } from './encoder.js';
import { DICT_DDL, StagedBatch } from './parquet-staging.js';

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
}

const nextTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Writes Parquet through one in-process DuckDB: each batch is staged into a connection-local
 * temp table from typed arrays (see parquet-staging.ts) and copied out with
 * `COPY (SELECT ...) TO path (FORMAT parquet)`. One instance per process; each encode in flight
 * holds its own connection, so concurrent batches never share a staging table.
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

  constructor(opts: ParquetEncoderOptions = {}) {
    this.codec = opts.compression ?? 'zstd';
    // Encodes beyond one per core do not finish sooner (each COPY keeps a core busy), but each
    // holds a whole batch in DuckDB: about 1 kB a row, so 100 MB for a full batch.
    this.maxConcurrency = Math.max(1, Math.min(opts.maxConcurrency ?? 8, availableParallelism()));
    this.config = { threads: String(opts.threads ?? 1) };
    if (opts.memoryLimit) this.config.memory_limit = opts.memoryLimit;
  }

  async encodeToFile(records: ChangeList, path: string): Promise<{ bytes: number }> {
    const con = await this.acquire();
    let healthy = false;
    try {
      const staged = new StagedBatch(ChangeColumns.from(records));
      const coded = staged.layout.coded;
      // A fresh table for each batch: after DELETE, DuckDB kept the deleted rows' blocks and a
      // long run grew by hundreds of MB.
      await con.run(`CREATE OR REPLACE TEMP TABLE stage (${staged.layout.ddl});${coded ? ` CREATE OR REPLACE TEMP TABLE dict (${DICT_DDL});` : ''}`);
      const appender = await con.createAppender('stage');
      try {
        // One chunk, refilled: every chunk is native memory that only a JS garbage collection
        // gives back, and a chunk per 2048 rows held a batch's worth of it.
        const chunk = DuckDBDataChunk.create(staged.layout.types);
        for (let k = 0; k < staged.chunks; k++) {
          chunk.reset();
          staged.fill(k, chunk.chunk);
          appender.appendDataChunk(chunk);
          if ((k & 15) === 15) await nextTick();
        }
      } finally {
        appender.closeSync();
      }
      const dict = staged.dictionaries();
      if (dict.chunks.length > 0) {
        const dictAppender = await con.createAppender('dict');
        try {
          for (const chunk of dict.chunks) dictAppender.appendDataChunk(chunk);
        } finally {
          dictAppender.closeSync();
        }
      }
      // One statement list, one trip to DuckDB's thread: a small object's fixed cost is most of its cost.
      await con.run(`COPY (${dict.select}) TO ${sqlString(path)} (FORMAT parquet, COMPRESSION ${this.codec}); DROP TABLE stage;${coded ? ' DROP TABLE dict;' : ''}`);
      healthy = true;
      return { bytes: (await stat(path)).size };
    } catch (err) {
      throw new IntegratorError('SINK_WRITE_FAILED', `cannot encode ${records.length} records as Parquet to ${path}: ${errorMessage(err)}`, {
        cause: err,
        details: { path, records: records.length },
      });
    } finally {
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
      return await (await this.instance).connect();
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
