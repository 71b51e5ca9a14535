import type { GlueClient } from '@aws-sdk/client-glue';
import type { AwsClientConfig } from '../config/aws.js';
import { IntegratorError } from '../core/errors.js';
import { loadAdapter } from '../core/load-adapter.js';
import type { Logger } from '../core/logger.js';
import type { Metrics } from '../core/metrics.js';
import type { Catalog } from '../core/ports.js';
import type { CatalogConfig } from './config.js';
import type { GlueSend } from './glue-call.js';

/** For catalog.type none: committed partitions are simply not catalogued. */
export const NO_CATALOG: Catalog = {
  partitionsCommitted: () => Promise.resolve(),
  close: () => Promise.resolve(),
};

export interface CatalogDeps {
  /** Injected Glue client (tests, emulators); built from catalog.aws when absent. */
  readonly glue?: GlueSend;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Where the lake is: a local directory, or s3://bucket/prefix. */
  readonly lakeRoot: string;
  /** The raw table: its folder in the lake (sink.table); default inventory_changes. */
  readonly table?: string;
  /** The sink's object format (sink.format); default parquet. */
  readonly format?: 'parquet' | 'ndjson';
  /**
   * The configured extra partition keys (partitioning.extraKeys). Informational: the table's
   * partition keys are taken from the committed partitions themselves, so they always match.
   */
  readonly partitionKeys?: readonly string[];
}

export async function glueClientFor(aws: AwsClientConfig): Promise<GlueClient> {
  const { GlueClient } = await loadAdapter('catalog.type "glue"', () => import('@aws-sdk/client-glue'));
  return new GlueClient({
    region: aws.region,
    maxAttempts: aws.maxAttempts,
    ...(aws.endpoint ? { endpoint: aws.endpoint } : {}),
    ...(aws.accessKeyId && aws.secretAccessKey ? { credentials: { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey } } : {}),
  });
}

/**
 * Builds the configured catalog; a configuration that cannot work fails here, at start-up. Only
 * the configured catalog's module is imported: Glue brings the AWS SDK (~27 MB), the local
 * catalog DuckDB (~35 MB).
 */
export async function createCatalog(cfg: CatalogConfig, deps: CatalogDeps): Promise<Catalog> {
  const table = deps.table ?? 'inventory_changes';
  const format = deps.format ?? 'parquet';
  switch (cfg.type) {
    case 'none':
      return NO_CATALOG;
    case 'duckdb': {
      if (format !== 'parquet') throw configError('catalog.type "duckdb" builds the curated layer from Parquet; set sink.format to parquet');
      const { LocalDuckDbCatalog } = await loadAdapter('catalog.type "duckdb"', () => import('./duckdb-catalog.js'));
      return configured(() => new LocalDuckDbCatalog(cfg, { log: deps.log, metrics: deps.metrics, lakeRoot: deps.lakeRoot, table }));
    }
    case 'glue': {
      const { GlueCatalog } = await loadAdapter('catalog.type "glue"', () => import('./glue-catalog.js'));
      const glue = deps.glue ?? (await glueClientFor(cfg.aws));
      return configured(() => new GlueCatalog(cfg, { glue, log: deps.log, metrics: deps.metrics, lakeRoot: deps.lakeRoot, table, format }));
    }
  }
}

/** A catalog constructor's refusal of the configuration, as a start-up error naming the section. */
function configured(build: () => Catalog): Catalog {
  try {
    return build();
  } catch (err) {
    throw configError((err as Error).message, err);
  }
}

function configError(message: string, cause?: unknown): IntegratorError {
  return new IntegratorError('CONFIG_INVALID', `catalog: ${message}`, cause === undefined ? {} : { cause });
}
