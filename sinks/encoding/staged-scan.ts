import { BIGINT, type DuckDBConnection, DuckDBTableFunction } from '@duckdb/node-api';
import type { StagedBatch } from './parquet-staging.js';

/** The table function's name in SQL: `FROM staged_batch(<id>)`. */
const NAME = 'staged_batch';

interface Bound {
  readonly staged: StagedBatch;
}
interface Progress {
  next: number;
}

/**
 * Batches staged for DuckDB, scanned by a table function instead of appended to a temp table.
 *
 * DuckDB asks for each chunk of `FROM staged_batch(id)` on the JS thread (through a thread-safe
 * call from the query's thread), and the batch fills it in place. Compared with an appender,
 * nothing is copied into a table and read back: the appender's flush into table storage ran
 * synchronously on the JS thread, the busiest one, and cost most for nested MAP columns.
 *
 * The function is registered once per DuckDB instance (registration is instance-wide); each
 * encoder owns its instance, so its registry of batches in flight is its own.
 */
export class StagedScan {
  private readonly batches = new Map<number, StagedBatch>();
  private nextId = 0;
  private readonly fn = DuckDBTableFunction.create({
    name: NAME,
    parameterTypes: [BIGINT],
    bindFunction: (info) => {
      const id = Number(info.getParameter(0));
      const staged = this.batches.get(id);
      if (!staged) {
        info.setError(`${NAME}(${id}): no such batch in flight`);
        return;
      }
      const { names, types } = staged.layout;
      names.forEach((name, k) => info.addResultColumn(name, types[k]!));
      info.setCardinality(staged.rows, true);
      info.setBindData({ staged } satisfies Bound);
    },
    initFunction: (info) => {
      // One scanning thread: the chunks come in row order, which the file keeps.
      info.setMaxThreads(1);
      info.setInitData({ next: 0 } satisfies Progress);
    },
    mainFunction: (info, output) => {
      const { staged } = info.bindData as Bound;
      const progress = info.initData as Progress;
      const k = progress.next++;
      // A chunk of zero rows ends the scan: staged blocks are never empty.
      if (k >= staged.chunks) output.rowCount = 0;
      else staged.fill(k, output.chunk);
    },
  });

  register(con: DuckDBConnection): void {
    con.registerTableFunction(this.fn);
  }

  /** Makes `staged` scannable until `release`; returns the SQL table expression that scans it. */
  open(staged: StagedBatch): { readonly from: string; release(): void } {
    const id = this.nextId++;
    this.batches.set(id, staged);
    return { from: `${NAME}(${id})`, release: () => this.batches.delete(id) };
  }
}
