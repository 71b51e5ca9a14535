import {
  BatchCreatePartitionCommand,
  CreateDatabaseCommand,
  CreateTableCommand,
  GetTableCommand,
  type PartitionInput,
  type TableInput,
  UpdateTableCommand,
} from '@aws-sdk/client-glue';
import { LRUCache } from 'lru-cache';
import { IntegratorError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { PartitionRef } from '../core/ports.js';
import { backoffDelay } from '../core/retry.js';
import type { CatalogRetryConfig } from './config.js';
import type { GlueCaller } from './glue-call.js';
import { hasName, isThrottlingName } from './glue-errors.js';
import { type LakeFormat, dataColumns, partitionInput, planSchema, rawTableInput, tableInputOf, withSlash } from './glue-table.js';

/** BatchCreatePartition accepts at most 100 partitions a call. */
export const PARTITION_CHUNK = 100;

const RETRIABLE_ENTRY = new Set(['InternalServiceException', 'OperationTimeoutException', 'ConcurrentModificationException']);

export interface GlueTableTarget {
  readonly database: string;
  readonly catalogId?: string;
  readonly table: string;
  /** s3://bucket/prefix/table/ */
  readonly location: string;
  readonly format: LakeFormat;
  readonly createDatabase: boolean;
  readonly updateSchema: boolean;
}

/**
 * Registers committed partitions in Glue the moment they land: the table is created when missing
 * (columns from RAW_COLUMNS, partition keys from the first partition seen), grown when the raw
 * schema gains columns, and partitions are added with BatchCreatePartition. A partition that could
 * not be registered stays pending and is tried again on the next commit; nothing here throws.
 */
export class GluePartitionRegistrar {
  private table: TableInput | undefined;
  private keys: readonly string[] | undefined;
  private readonly registered = new LRUCache<string, true>({ max: 50_000 });
  private readonly pending = new Map<string, PartitionRef>();

  constructor(
    private readonly target: GlueTableTarget,
    private readonly caller: GlueCaller,
    private readonly retry: CatalogRetryConfig,
    private readonly log: Logger,
  ) {}

  /** Partitions committed but not registered yet (failed calls are retried from here). */
  get pendingCount(): number {
    return this.pending.size;
  }

  async register(parts: readonly PartitionRef[]): Promise<void> {
    for (const p of parts) if (!this.registered.has(p.path)) this.pending.set(p.path, p);
    const first = this.pending.values().next();
    if (first.done) return;
    try {
      await this.ensureTable(first.value);
    } catch (err) {
      this.caller.failed('EnsureTable', err, { table: this.target.table, pending: this.pending.size });
      return;
    }
    const inputs: { path: string; input: PartitionInput }[] = [];
    for (const [path, ref] of this.pending) {
      try {
        inputs.push({ path, input: partitionInput(this.table!, this.keys!, ref) });
      } catch (err) {
        // A partition whose keys do not fit the table can never be added; say so loudly, once.
        this.pending.delete(path);
        this.caller.failed('PartitionInput', err, { partition: path });
      }
    }
    for (let i = 0; i < inputs.length; i += PARTITION_CHUNK) {
      await this.createChunk(inputs.slice(i, i + PARTITION_CHUNK));
    }
  }

  private async createChunk(chunk: readonly { path: string; input: PartitionInput }[]): Promise<void> {
    let todo = chunk;
    for (let attempt = 1; todo.length > 0; attempt++) {
      let errors;
      try {
        errors = await this.batchCreate(todo.map((t) => t.input));
      } catch (err) {
        this.caller.failed('BatchCreatePartition', err, { partitions: todo.length, pendingKept: true });
        return;
      }
      const retryable: typeof todo[number][] = [];
      const failedByPath = new Map<string, string>();
      for (const e of errors) {
        const path = todo.find((t) => sameValues(t.input.Values, e.PartitionValues))?.path;
        if (path !== undefined) failedByPath.set(path, e.ErrorDetail?.ErrorCode ?? 'Unknown');
      }
      for (const t of todo) {
        const code = failedByPath.get(t.path);
        if (code === undefined || code === 'AlreadyExistsException') {
          // Created now, or by an earlier run or another worker: either way it is in the catalog.
          this.pending.delete(t.path);
          this.registered.set(t.path, true);
        } else if (isThrottlingName(code) || RETRIABLE_ENTRY.has(code)) {
          retryable.push(t);
        } else {
          this.pending.delete(t.path);
          this.caller.failed('BatchCreatePartition', new IntegratorError('CATALOG_FAILED', `Glue refused partition ${t.path}: ${code}`), {
            partition: t.path,
            code,
          });
        }
      }
      if (retryable.length > 0 && attempt >= this.retry.maxAttempts) {
        this.caller.failed('BatchCreatePartition', new IntegratorError('CATALOG_FAILED', 'partitions still refused after retries', { retriable: true }), {
          partitions: retryable.map((t) => t.path),
          pendingKept: true,
        });
        return;
      }
      if (retryable.length > 0) await this.caller.wait(backoffDelay(attempt, this.retry));
      todo = retryable;
    }
  }

  /** One BatchCreatePartition (with call-level retries); re-creates the table if it vanished. */
  private async batchCreate(inputs: PartitionInput[]) {
    const send = () =>
      this.caller.call('BatchCreatePartition', (glue) =>
        glue.send(
          new BatchCreatePartitionCommand({
            CatalogId: this.target.catalogId,
            DatabaseName: this.target.database,
            TableName: this.target.table,
            PartitionInputList: inputs,
          }),
        ),
      );
    try {
      return (await send()).Errors ?? [];
    } catch (err) {
      if (!hasName(err, 'EntityNotFoundException')) throw err;
      this.log.warn({ table: this.target.table }, 'glue table vanished; creating it again');
      this.table = undefined;
      await this.ensureTable({ path: '', values: Object.fromEntries((this.keys ?? []).map((k) => [k, ''])) });
      return (await send()).Errors ?? [];
    }
  }

  private async ensureTable(sample: PartitionRef): Promise<void> {
    if (this.table) return;
    const { database, catalogId, table: name } = this.target;
    let existing;
    try {
      existing = (await this.caller.call('GetTable', (g) => g.send(new GetTableCommand({ CatalogId: catalogId, DatabaseName: database, Name: name })))).Table;
    } catch (err) {
      if (!hasName(err, 'EntityNotFoundException')) throw err;
    }
    if (!existing) {
      const input = rawTableInput({ name, location: this.target.location, format: this.target.format, partitionKeys: Object.keys(sample.values) });
      if (await this.createTable(input)) {
        this.log.info({ database, table: name, partitionKeys: Object.keys(sample.values) }, 'created glue table');
        this.table = input;
        this.keys = Object.keys(sample.values);
        return;
      }
      existing = (await this.caller.call('GetTable', (g) => g.send(new GetTableCommand({ CatalogId: catalogId, DatabaseName: database, Name: name })))).Table;
      if (!existing) throw new IntegratorError('CATALOG_FAILED', `glue table ${database}.${name} exists but GetTable returned nothing`, { retriable: true });
    }
    this.keys = (existing.PartitionKeys ?? []).map((k) => k.Name ?? '');
    const at = existing.StorageDescriptor?.Location ?? '';
    if (withSlash(at) !== withSlash(this.target.location)) {
      // Partitions are placed below the table's location; the objects are below ours.
      this.log.warn({ table: name, tableLocation: at, lakeLocation: this.target.location }, 'glue table points elsewhere than the lake; its partitions will too');
    }
    this.table = await this.evolve(tableInputOf(existing), existing.VersionId);
  }

  /** Creates the table (and the database when allowed); false when someone else created it first. */
  private async createTable(input: TableInput): Promise<boolean> {
    const { database, catalogId } = this.target;
    const create = () => this.caller.call('CreateTable', (g) => g.send(new CreateTableCommand({ CatalogId: catalogId, DatabaseName: database, TableInput: input })));
    try {
      await create();
      return true;
    } catch (err) {
      if (hasName(err, 'AlreadyExistsException')) return false;
      if (!hasName(err, 'EntityNotFoundException') || !this.target.createDatabase) throw err;
    }
    try {
      await this.caller.call('CreateDatabase', (g) =>
        g.send(new CreateDatabaseCommand({ CatalogId: catalogId, DatabaseInput: { Name: database, Description: 'inventory lake (inventory-integrator)' } })),
      );
      this.log.info({ database }, 'created glue database');
    } catch (err) {
      if (!hasName(err, 'AlreadyExistsException')) throw err;
    }
    try {
      await create();
      return true;
    } catch (err) {
      if (hasName(err, 'AlreadyExistsException')) return false;
      throw err;
    }
  }

  /** Appends raw columns the table lacks; type conflicts are reported, never applied. */
  private async evolve(input: TableInput, versionId: string | undefined): Promise<TableInput> {
    const plan = planSchema(input.StorageDescriptor?.Columns ?? [], dataColumns(this.keys ?? []));
    if (plan.conflicts.length > 0) {
      this.caller.failed('SchemaConflict', new IntegratorError('CATALOG_FAILED', 'raw column types differ from the Glue table; left unchanged, migrate by hand'), {
        table: this.target.table,
        conflicts: plan.conflicts,
      });
    }
    if (plan.added.length === 0 || !this.target.updateSchema) {
      if (plan.added.length > 0) this.log.warn({ table: this.target.table, missing: plan.added }, 'glue table lacks raw columns; updateSchema is off');
      return input;
    }
    const next: TableInput = { ...input, StorageDescriptor: { ...input.StorageDescriptor, Columns: plan.columns } };
    await this.caller.call('UpdateTable', (g) =>
      g.send(
        new UpdateTableCommand({
          CatalogId: this.target.catalogId,
          DatabaseName: this.target.database,
          TableInput: next,
          // Optimistic concurrency: a concurrent change fails this call instead of being overwritten.
          ...(versionId ? { VersionId: versionId } : {}),
        }),
      ),
    );
    this.log.info({ table: this.target.table, added: plan.added }, 'added columns to glue table; older partitions keep their own schema');
    return next;
  }
}

function sameValues(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (!a || !b || a.length !== b.length) return false;
  return a.every((v, i) => v === b[i]);
}

