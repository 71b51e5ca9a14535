import { CreateTableCommand, DeleteItemCommand, type DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { Subscription } from 'rxjs';
import type { Envelope } from '../../src/core/envelope.js';
import { ALWAYS_OPEN, type FlowGate } from '../../src/core/flow-gate.js';
import { SILENT_LOGGER } from '../../src/core/logger.js';
import { NO_METRICS } from '../../src/core/metrics.js';
import type { Source } from '../../src/core/ports.js';
import { shardKey } from '../../src/core/position.js';

/** Test helpers for the DynamoDB Streams suites (DynamoDB Local). Not used by the service. */

type Send = Pick<DynamoDBClient, 'send'>;

/** An inventory table keyed (sku, warehouseId) with a NEW_AND_OLD_IMAGES stream; returns its stream ARN. */
export async function createInventoryTable(client: Send, tableName: string): Promise<string> {
  const out = await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [
        { AttributeName: 'sku', AttributeType: 'S' },
        { AttributeName: 'warehouseId', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'sku', KeyType: 'HASH' },
        { AttributeName: 'warehouseId', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  const arn = out.TableDescription?.LatestStreamArn;
  if (!arn) throw new Error(`table ${tableName} was created without a stream`);
  return arn;
}

const key = (sku: string, wh: string) => ({ sku: { S: sku }, warehouseId: { S: wh } });

/** What the test did to the table, in order: the expected stream, change by change. */
export interface Applied {
  readonly op: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly sku: string;
  readonly warehouseId: string;
  readonly before: number | null;
  readonly after: number | null;
}

/** Drives the table the way the shop would, remembering each item's quantity. */
export class InventoryTable {
  readonly applied: Applied[] = [];
  private readonly qty = new Map<string, number>();

  constructor(
    private readonly client: Send,
    readonly tableName: string,
  ) {}

  async insert(sku: string, wh: string, quantity: number): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: { ...key(sku, wh), quantity: { N: String(quantity) }, lastChangeType: { S: 'restock' }, updatedAt: { S: new Date().toISOString() } },
      }),
    );
    this.record('INSERT', sku, wh, null, quantity);
  }

  async change(sku: string, wh: string, delta: number, type: 'sale' | 'return' | 'adjustment', orderId?: string): Promise<void> {
    const out = await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: key(sku, wh),
        UpdateExpression: `SET quantity = quantity + :d, lastChangeType = :t, updatedAt = :at${orderId ? ', lastOrderId = :o' : ''}`,
        ExpressionAttributeValues: { ':d': { N: String(delta) }, ':t': { S: type }, ':at': { S: new Date().toISOString() }, ...(orderId ? { ':o': { S: orderId } } : {}) },
        ReturnValues: 'ALL_NEW',
      }),
    );
    this.record('MODIFY', sku, wh, this.qty.get(`${sku}/${wh}`) ?? null, Number(out.Attributes!.quantity!.N));
  }

  async remove(sku: string, wh: string): Promise<void> {
    await this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: key(sku, wh) }));
    this.record('REMOVE', sku, wh, this.qty.get(`${sku}/${wh}`) ?? null, null);
  }

  private record(op: Applied['op'], sku: string, warehouseId: string, before: number | null, after: number | null): void {
    this.applied.push({ op, sku, warehouseId, before, after });
    if (after === null) this.qty.delete(`${sku}/${warehouseId}`);
    else this.qty.set(`${sku}/${warehouseId}`, after);
  }
}

/**
 * Stands in for the pipeline: keeps every envelope in arrival order and, unless told not to,
 * commits each chunk's last position right away (per shard, in order), as delivery would.
 */
export class Drain {
  readonly received: Envelope[] = [];
  private sub: Subscription | undefined;
  private readonly commits = new Map<string, Promise<void>>();
  error: unknown;
  completed = false;

  constructor(
    private readonly source: Source,
    private readonly opts: { commit?: (e: Envelope, index: number) => boolean; gate?: FlowGate } = {},
  ) {}

  start(): this {
    this.sub = this.source.open({ gate: this.opts.gate ?? ALWAYS_OPEN, log: SILENT_LOGGER, metrics: NO_METRICS, flush: async () => undefined }).subscribe({
      next: (chunk) => {
        for (const e of chunk) this.received.push(e);
        const last = chunk[chunk.length - 1]!;
        if (this.opts.commit && !this.opts.commit(last, this.received.length - 1)) return;
        const k = shardKey(last.position);
        const prev = this.commits.get(k) ?? Promise.resolve();
        this.commits.set(
          k,
          prev.then(() => this.source.commit(last.position)).catch((err: unknown) => {
            this.error = err;
          }),
        );
      },
      error: (err: unknown) => (this.error = err),
      complete: () => (this.completed = true),
    });
    return this;
  }

  async until(pred: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (this.error) throw this.error;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (received ${this.received.length})`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Resolves once every commit issued so far has settled. */
  async settled(): Promise<void> {
    await Promise.all(this.commits.values());
  }

  async stop(): Promise<void> {
    await this.source.stop();
    await this.settled();
    this.sub?.unsubscribe();
  }
}
