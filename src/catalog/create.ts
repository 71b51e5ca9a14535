import { GlueClient } from '@aws-sdk/client-glue';
import type { AwsClientConfig } from '../config/aws.js';
import { IntegratorError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Metrics } from '../core/metrics.js';
import type { Catalog } from '../core/ports.js';
import type { CatalogConfig } from './config.js';
import { LocalDuckDbCatalog } from './duckdb-catalog.js';
import type { GlueSend } from './glue-call.js';
import { GlueCatalog } from './glue-catalog.js';

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

export function glueClientFor(aws: AwsClientConfig): GlueClient {
  return new GlueClient({
    region: aws.region,
    maxAttempts: aws.maxAttempts,
    ...(aws.endpoint ? { endpoint: aws.endpoint } : {}),
    ...(aws.accessKeyId && aws.secretAccessKey ? { credentials: { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey } } : {}),
  });
}

/** Builds the configured catalog; a configuration that cannot work fails here, at start-up. */
export function createCatalog(cfg: CatalogConfig, deps: CatalogDeps): Catalog {
  const table = deps.table ?? 'inventory_changes';
  const format = deps.format ?? 'parquet';
  try {
    switch (cfg.type) {
      case 'none':
        return NO_CATALOG;
      case 'duckdb':
        if (format !== 'parquet') throw new Error('catalog.type "duckdb" builds the curated layer from Parquet; set sink.format to parquet');
        return new LocalDuckDbCatalog(cfg, { log: deps.log, metrics: deps.metrics, lakeRoot: deps.lakeRoot, table });
      case 'glue':
        return new GlueCatalog(cfg, {
          glue: deps.glue ?? glueClientFor(cfg.aws),
          log: deps.log,
          metrics: deps.metrics,
          lakeRoot: deps.lakeRoot,
          table,
          format,
        });
    }
  } catch (err) {
    throw new IntegratorError('CONFIG_INVALID', `catalog: ${(err as Error).message}`, { cause: err });
  }
}
