import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { METRIC, type Metrics } from '../core/metrics.js';
import type { Catalog, CommittedPartition } from '../core/ports.js';
import type { GlueCatalogConfig } from './config.js';
import { GlueCaller, type GlueSend, type Sleep } from './glue-call.js';
import { GlueCrawlerTrigger } from './glue-crawler.js';
import { GlueCuratedTrigger } from './glue-curated-trigger.js';
import { GluePartitionRegistrar } from './glue-partitions.js';
import { type LakeFormat, withSlash } from './glue-table.js';

export interface GlueCatalogDeps {
  readonly glue: GlueSend;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** s3://bucket/prefix of the lake; the raw table lives at <lakeRoot>/<table>/. */
  readonly lakeRoot: string;
  /** The sink's table (folder) name and object format. */
  readonly table: string;
  readonly format: LakeFormat;
  /** Injected in tests so backoff and polling do not wait for real. */
  readonly sleep?: Sleep;
  readonly now?: () => number;
}

/**
 * The Glue Data Catalog behind the Catalog port: partitions registered as they commit (or a
 * crawler started), then curated runs once the watermark releases them. Every failure is retried,
 * logged and counted inside; partitionsCommitted never throws, so checkpoints never wait on Glue.
 */
export class GlueCatalog implements Catalog {
  readonly registrar: GluePartitionRegistrar | undefined;
  readonly crawler: GlueCrawlerTrigger | undefined;
  readonly curated: GlueCuratedTrigger | undefined;
  private readonly seen = new Set<string>();
  private readonly log: Logger;

  constructor(
    readonly config: GlueCatalogConfig,
    private readonly deps: GlueCatalogDeps,
  ) {
    if (!deps.lakeRoot.startsWith('s3://')) {
      throw new Error(`catalog.type "glue" needs the lake on S3 (sink.type s3); the lake is at "${deps.lakeRoot}"`);
    }
    this.log = deps.log.child({ component: 'catalog', catalog: 'glue', database: config.database });
    const caller = new GlueCaller(deps.glue, config.retry, this.log, deps.metrics, deps.sleep);
    const table = config.table ?? deps.table;
    const location = `${withSlash(deps.lakeRoot)}${deps.table}/`;
    if (config.mode === 'partitions') {
      this.registrar = new GluePartitionRegistrar(
        {
          database: config.database,
          ...(config.catalogId ? { catalogId: config.catalogId } : {}),
          table,
          location,
          format: deps.format,
          createDatabase: config.createDatabase,
          updateSchema: config.updateSchema,
        },
        caller,
        config.retry,
        this.log,
      );
    } else {
      this.crawler = new GlueCrawlerTrigger(config.crawler!, { database: config.database, location }, caller, this.log);
    }
    if (config.curated) {
      this.curated = new GlueCuratedTrigger(config.curated, {
        caller,
        log: this.log,
        metrics: deps.metrics,
        table,
        rawLocation: location,
        ...(deps.now ? { now: deps.now } : {}),
      });
    }
  }

  async partitionsCommitted(parts: readonly CommittedPartition[], watermarkMs: number): Promise<void> {
    try {
      if (this.registrar) {
        await this.registrar.register(parts.map((p) => p.partition));
      } else if (this.crawler) {
        let fresh = false;
        for (const p of parts) {
          if (this.seen.has(p.partition.path)) continue;
          if (this.seen.size >= 100_000) this.seen.clear(); // bounded; a repeat only asks for one more crawl
          this.seen.add(p.partition.path);
          fresh = true;
        }
        if (fresh) this.crawler.request();
      }
      this.curated?.onCommitted(parts, watermarkMs);
    } catch (err) {
      // Defensive: the parts above catch their own errors; whatever slips through is still only reported.
      this.deps.metrics.inc(METRIC.catalogFailures, { catalog: 'glue', op: 'partitionsCommitted' });
      this.log.error({ error: errorMessage(err) }, 'catalog update failed');
    }
  }

  /** Waits for queued crawls and curated runs (tests; the demo summary). */
  async idle(): Promise<void> {
    await this.crawler?.idle();
    await this.curated?.idle();
  }

  async close(): Promise<void> {
    try {
      if (this.registrar && this.registrar.pendingCount > 0) await this.registrar.register([]);
      await this.crawler?.close();
      await this.curated?.close();
    } catch (err) {
      this.log.error({ error: errorMessage(err) }, 'catalog close failed');
    }
  }
}
