import { isAbsolute, join } from 'node:path';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { METRIC, type Metrics } from '../core/metrics.js';
import type { Catalog, CommittedPartition } from '../core/ports.js';
import type { DuckDbCatalogConfig } from './config.js';
import { buildCuratedLocally, type LocalCuratedResult } from './curated-duckdb.js';
import { type CuratedStatement, loadCuratedSql } from './curated-sql.js';
import { DuePartitions } from './due-partitions.js';
import { type LocalCatalogState, type LocalTable, emptyState, loadState, rawColumnsSpec, saveState, scanPartitions } from './local-state.js';

export interface LocalCatalogDeps {
  readonly log: Logger;
  readonly metrics: Metrics;
  /** The lake directory (sink.type file). */
  readonly lakeRoot: string;
  /** The raw table's name and folder. */
  readonly table: string;
  readonly now?: () => number;
}

/**
 * The catalog of a local lake, what the demo runs: the table and partition list kept in a JSON
 * file beside the lake (rebuilt by scanning the lake when missing), and the curated tables built
 * by DuckDB with the same SQL the Glue job runs, written as Parquet under <lake>/curated/.
 * Builds run in the background, one at a time; nothing here throws into the pipeline.
 */
export class LocalDuckDbCatalog implements Catalog {
  private loading: Promise<LocalCatalogState> | undefined;
  private readonly due: DuePartitions;
  private building: Promise<void> | undefined;
  private rebuildWanted = false;
  private changedSinceBuild = false;
  private statements: CuratedStatement[] | undefined;
  /** State writes, one after the other (commits and builds both write it). */
  private saving: Promise<void> = Promise.resolve();
  private readonly log: Logger;
  private readonly now: () => number;
  /** The last curated build's counts (demo summary). */
  lastBuild: LocalCuratedResult | undefined;

  constructor(
    readonly config: DuckDbCatalogConfig,
    private readonly deps: LocalCatalogDeps,
  ) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(deps.lakeRoot)) {
      throw new Error(`catalog.type "duckdb" needs a local lake directory (sink.type file); the lake is at "${deps.lakeRoot}"`);
    }
    this.log = deps.log.child({ component: 'catalog', catalog: 'duckdb' });
    this.due = new DuePartitions(config.curated.allowedLatenessMs);
    this.now = deps.now ?? Date.now;
  }

  get stateFile(): string {
    return isAbsolute(this.config.stateFile) ? this.config.stateFile : join(this.deps.lakeRoot, this.config.stateFile);
  }

  /** The table as the catalog knows it (after the first call, or a scan of the lake). */
  async describe(): Promise<LocalTable> {
    return this.tableOf(await this.load());
  }

  async partitionsCommitted(parts: readonly CommittedPartition[], watermarkMs: number): Promise<void> {
    try {
      this.deps.metrics.inc(METRIC.catalogCalls, { catalog: 'duckdb', op: 'register' });
      const state = await this.load();
      const now = this.now();
      for (const p of parts) {
        const table = this.tableOf(state, p.table);
        const keys = Object.keys(p.partition.values);
        if (table.partitionKeys.length === 0) table.partitionKeys = keys;
        else if (keys.join('/') !== table.partitionKeys.join('/')) {
          this.log.error({ partition: p.partition.path, keys, tableKeys: table.partitionKeys }, 'partition keys differ from the table; recorded anyway');
        }
        const entry = (table.partitions[p.partition.path] ??= {
          path: p.partition.path,
          values: { ...p.partition.values },
          objects: [],
          records: 0,
          bytes: 0,
          minEventTime: p.minEventTime,
          maxEventTime: p.maxEventTime,
          firstCommittedAt: now,
          lastCommittedAt: now,
        });
        for (const o of p.objects) {
          // A rewrite of the same key (retry, replay) replaces the object: count it once.
          if (entry.objects.includes(o.key)) continue;
          entry.objects.push(o.key);
          entry.records += o.records;
          entry.bytes += o.bytes;
        }
        entry.minEventTime = Math.min(entry.minEventTime, p.minEventTime);
        entry.maxEventTime = Math.max(entry.maxEventTime, p.maxEventTime);
        entry.lastCommittedAt = now;
      }
      await this.save(state);
      if (parts.length > 0) this.changedSinceBuild = true;
      if (this.config.curated.enabled && this.config.curated.refresh === 'watermark') {
        this.due.add(parts);
        if (this.due.takeDue(watermarkMs).length > 0) void this.requestBuild();
      }
    } catch (err) {
      this.fail('register', err);
    }
  }

  /** Resolves when no curated build is running (tests, the demo). */
  async idle(): Promise<void> {
    while (this.building) await this.building;
  }

  /** Builds the curated tables now (after any build in progress) and returns the counts. */
  async refreshCurated(): Promise<LocalCuratedResult | undefined> {
    await this.requestBuild();
    return this.lastBuild;
  }

  async close(): Promise<void> {
    try {
      await this.building;
      if (this.config.curated.enabled && this.changedSinceBuild) await this.requestBuild();
    } catch (err) {
      this.fail('close', err);
    }
  }

  private requestBuild(): Promise<void> {
    if (this.building) {
      this.rebuildWanted = true;
      return this.building;
    }
    this.building = (async () => {
      try {
        do {
          this.rebuildWanted = false;
          await this.buildOnce();
        } while (this.rebuildWanted);
      } finally {
        this.building = undefined;
      }
    })();
    return this.building;
  }

  private async buildOnce(): Promise<void> {
    const started = this.now();
    try {
      this.statements ??= loadCuratedSql(this.config.curated.sqlFile);
      const state = await this.load();
      const table = this.tableOf(state);
      this.changedSinceBuild = false;
      const result = await buildCuratedLocally({
        rawTableDir: join(this.deps.lakeRoot, table.location),
        partitions: Object.keys(table.partitions),
        referenceDir: join(this.deps.lakeRoot, this.config.curated.referenceDir),
        outputDir: join(this.deps.lakeRoot, this.config.curated.outputDir),
        statements: this.statements,
      });
      this.lastBuild = result;
      state.curated = { builtAt: this.now(), tables: { ...result.tables }, rawRows: result.rawRows, partitions: Object.keys(table.partitions).length };
      await this.save(state);
      this.deps.metrics.inc(METRIC.curatedRuns, { catalog: 'duckdb', state: 'SUCCEEDED' });
      if (result.missingReference.length > 0) {
        this.log.warn({ missing: result.missingReference, dir: this.config.curated.referenceDir }, 'reference tables missing: curated joins leave their columns NULL');
      }
      this.log.info({ ...result.tables, rawRows: result.rawRows, ms: this.now() - started }, 'built curated tables');
    } catch (err) {
      this.changedSinceBuild = true;
      this.deps.metrics.inc(METRIC.curatedRuns, { catalog: 'duckdb', state: 'FAILED' });
      this.fail('curated', err);
    }
  }

  /** Single flight: a commit and a build starting together share one load. */
  private load(): Promise<LocalCatalogState> {
    this.loading ??= this.loadOnce().catch((err: unknown) => {
      this.loading = undefined;
      throw err;
    });
    return this.loading;
  }

  private async loadOnce(): Promise<LocalCatalogState> {
    const loaded = await loadState(this.stateFile);
    if (loaded) return loaded;
    // No catalog yet: register what the lake already holds, like MSCK REPAIR TABLE.
    const state = emptyState();
    const table = this.tableOf(state);
    const now = this.now();
    for (const p of await scanPartitions(join(this.deps.lakeRoot, table.location))) {
      if (table.partitionKeys.length === 0) table.partitionKeys = Object.keys(p.values);
      table.partitions[p.path] = {
        path: p.path,
        values: p.values,
        objects: p.objects.map((o) => `${table.location}/${p.path}/${o}`),
        records: 0,
        bytes: 0,
        minEventTime: 0,
        maxEventTime: 0,
        firstCommittedAt: now,
        lastCommittedAt: now,
      };
    }
    if (Object.keys(table.partitions).length > 0) {
      this.changedSinceBuild = true;
      this.log.info({ partitions: Object.keys(table.partitions).length }, 'local catalog rebuilt from the lake');
    }
    await this.save(state);
    return state;
  }

  private save(state: LocalCatalogState): Promise<void> {
    const next = this.saving.then(() => saveState(this.stateFile, state));
    this.saving = next.catch(() => undefined);
    return next;
  }

  private tableOf(state: LocalCatalogState, name = this.deps.table): LocalTable {
    return (state.tables[name] ??= { name, location: name, columns: rawColumnsSpec(), partitionKeys: [], partitions: {} });
  }

  private fail(op: string, err: unknown): void {
    this.deps.metrics.inc(METRIC.catalogFailures, { catalog: 'duckdb', op });
    this.log.error({ op, error: errorMessage(err) }, 'local catalog operation failed');
  }
}
