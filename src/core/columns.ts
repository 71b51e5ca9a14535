/**
 * The raw table's columns, in file order: one list shared by the Parquet writer, the Glue table
 * definition and the Athena DDL so they can never drift apart. Names are snake_case because Glue
 * and Athena lower-case column names anyway.
 */
export type LakeType = 'string' | 'bigint' | 'int' | 'timestamp' | 'map<string,string>' | 'array<string>';

export interface LakeColumn {
  readonly name: string;
  readonly type: LakeType;
  readonly nullable: boolean;
  readonly comment: string;
}

export const RAW_COLUMNS: readonly LakeColumn[] = [
  { name: 'event_id', type: 'string', nullable: false, comment: 'stable id derived from the source position' },
  { name: 'source', type: 'string', nullable: false, comment: 'dynamodb | kinesis | kafka | file' },
  { name: 'stream', type: 'string', nullable: false, comment: 'stream, table, topic or file stream name' },
  { name: 'shard', type: 'string', nullable: false, comment: 'shard id or Kafka partition' },
  { name: 'sequence', type: 'string', nullable: false, comment: 'sequence number or offset within the shard' },
  { name: 'event_type', type: 'string', nullable: false, comment: 'restock | sale | return | adjustment | insert | modify | remove' },
  { name: 'sku', type: 'string', nullable: false, comment: 'stock keeping unit' },
  { name: 'warehouse_id', type: 'string', nullable: false, comment: 'warehouse holding the stock' },
  { name: 'quantity_before', type: 'bigint', nullable: true, comment: 'on-hand quantity before the change' },
  { name: 'quantity_after', type: 'bigint', nullable: true, comment: 'on-hand quantity after the change' },
  { name: 'delta', type: 'bigint', nullable: false, comment: 'quantity_after - quantity_before' },
  { name: 'order_id', type: 'string', nullable: true, comment: 'order behind the change, if any' },
  { name: 'customer_id', type: 'string', nullable: true, comment: 'customer behind the change, if any' },
  { name: 'event_time', type: 'timestamp', nullable: false, comment: 'when the change happened (UTC); partitions follow it' },
  { name: 'ingest_time', type: 'timestamp', nullable: false, comment: 'when the record reached the stream (its arrival time), else when the integrator read it (UTC)' },
  { name: 'enrichment_status', type: 'string', nullable: false, comment: 'ok | missing | failed | skipped' },
  { name: 'enrichment_failed', type: 'array<string>', nullable: true, comment: 'lookups that failed or found nothing' },
  { name: 'customer', type: 'map<string,string>', nullable: true, comment: 'customer attributes carried from RDS' },
  { name: 'order_info', type: 'map<string,string>', nullable: true, comment: 'order attributes carried from RDS' },
];

/** Hive partition columns, outermost first; configured extra keys follow these. */
export const BASE_PARTITION_KEYS = ['dt', 'hour'] as const;
