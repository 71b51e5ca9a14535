import {
  type AttributeValue,
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ScanCommand,
  type ScanCommandInput,
} from '@aws-sdk/client-dynamodb';
import { IntegratorError } from '../core/errors.js';
import type { SourceKind } from '../core/position.js';
import { SOURCE_KINDS } from '../core/position.js';
import { sleep } from '../core/retry.js';

export type DynamoDbSend = Pick<DynamoDBClient, 'send'>;

/**
 * One item per shard, keyed by `leaseKey` = source|stream|shard (shardKey). The checkpoint, the
 * owner and the lease counter live together so that a single conditional write can check "I
 * still own it" and move the checkpoint in one step.
 */
export interface LeaseItem {
  readonly leaseKey: string;
  readonly source: SourceKind;
  readonly stream: string;
  readonly shard: string;
  readonly parents: readonly string[];
  /** Last delivered sequence, or SHARD_END. */
  readonly checkpoint?: string;
  readonly checkpointSub?: number;
  readonly checkpointedAt?: number;
  /** Absent when nobody holds the lease. */
  readonly owner?: string;
  /** Bumped by every renewal and every change of owner: what "still alive" is judged by. */
  readonly leaseCounter: number;
  /** When the owner's lease ends by the owner's clock; informative (expiry is judged by counter). */
  readonly expiresAt?: number;
}

/** Attribute names; `#names` in expressions because several are DynamoDB reserved words. */
export const A = {
  key: 'leaseKey',
  source: 'source',
  stream: 'stream',
  shard: 'shard',
  parents: 'parentShardIds',
  checkpoint: 'checkpoint',
  sub: 'checkpointSubSequence',
  checkpointedAt: 'checkpointedAt',
  owner: 'leaseOwner',
  counter: 'leaseCounter',
  expiresAt: 'leaseExpiresAt',
} as const;

export const NAMES: Record<string, string> = Object.fromEntries(Object.entries(A).map(([k, v]) => [`#${k}`, v]));

export const S = (s: string): AttributeValue => ({ S: s });
export const N = (n: number): AttributeValue => ({ N: String(n) });

/** Only the `#name` placeholders an expression uses (DynamoDB rejects unused ones). */
export function namesFor(...expressions: string[]): Record<string, string> {
  const text = expressions.join(' ');
  return Object.fromEntries(Object.entries(NAMES).filter(([k]) => new RegExp(`${k}\\b`).test(text)));
}

export function keyOf(leaseKey: string): Record<string, AttributeValue> {
  return { [A.key]: S(leaseKey) };
}

export function decodeLease(item: Record<string, AttributeValue>): LeaseItem {
  const str = (name: string) => item[name]?.S;
  const num = (name: string) => (item[name]?.N === undefined ? undefined : Number(item[name]!.N));
  const source = str(A.source);
  const leaseKey = str(A.key);
  if (!leaseKey || !source || !(SOURCE_KINDS as readonly string[]).includes(source) || str(A.stream) === undefined || str(A.shard) === undefined) {
    throw new IntegratorError('CHECKPOINT_FAILED', `lease table item ${leaseKey ?? '(no leaseKey)'} lacks source/stream/shard`, { details: { item } });
  }
  const optional = {
    checkpoint: str(A.checkpoint),
    checkpointSub: num(A.sub),
    checkpointedAt: num(A.checkpointedAt),
    owner: str(A.owner),
    expiresAt: num(A.expiresAt),
  };
  return {
    leaseKey,
    source: source as SourceKind,
    stream: str(A.stream)!,
    shard: str(A.shard)!,
    parents: (item[A.parents]?.L ?? []).flatMap((v) => (v.S === undefined ? [] : [v.S])),
    leaseCounter: num(A.counter) ?? 0,
    ...(Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)) as Partial<LeaseItem>),
  };
}

/** Every lease of the table (optionally of one source and stream), strongly consistent. */
export async function scanLeases(client: DynamoDbSend, tableName: string, source?: SourceKind, stream?: string): Promise<LeaseItem[]> {
  const filters: string[] = [];
  const values: Record<string, AttributeValue> = {};
  if (source !== undefined) {
    filters.push('#source = :source');
    values[':source'] = S(source);
  }
  if (stream !== undefined) {
    filters.push('#stream = :stream');
    values[':stream'] = S(stream);
  }
  const base: ScanCommandInput = { TableName: tableName, ConsistentRead: true };
  if (filters.length > 0) {
    base.FilterExpression = filters.join(' AND ');
    base.ExpressionAttributeNames = namesFor(base.FilterExpression);
    base.ExpressionAttributeValues = values;
  }
  const out: LeaseItem[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ ...base, ...(start ? { ExclusiveStartKey: start } : {}) }));
    for (const item of page.Items ?? []) out.push(decodeLease(item));
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

export const errorName = (err: unknown): string | undefined =>
  typeof err === 'object' && err !== null && 'name' in err ? String((err as { name: unknown }).name) : undefined;

export const isConditionalFailure = (err: unknown): boolean => errorName(err) === 'ConditionalCheckFailedException';

/**
 * Makes sure the table exists and is ACTIVE. With `create`, a missing table is created on demand
 * (PAY_PER_REQUEST); several workers racing to create it is fine (ResourceInUse is success).
 */
export async function ensureLeaseTable(client: DynamoDbSend, tableName: string, create: boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let created = false; ; ) {
    let status: string | undefined;
    try {
      status = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table?.TableStatus;
    } catch (err) {
      if (errorName(err) !== 'ResourceNotFoundException') {
        throw new IntegratorError('DEPENDENCY_UNAVAILABLE', `cannot describe lease table ${tableName}: ${String(err)}`, { retriable: true, cause: err });
      }
      if (!create) {
        throw new IntegratorError('CONFIG_INVALID', `lease table ${tableName} does not exist and checkpoints.createTable is false`, { cause: err });
      }
      if (!created) {
        created = true;
        try {
          await client.send(
            new CreateTableCommand({
              TableName: tableName,
              AttributeDefinitions: [{ AttributeName: A.key, AttributeType: 'S' }],
              KeySchema: [{ AttributeName: A.key, KeyType: 'HASH' }],
              BillingMode: 'PAY_PER_REQUEST',
            }),
          );
        } catch (e) {
          if (errorName(e) !== 'ResourceInUseException') {
            throw new IntegratorError('DEPENDENCY_UNAVAILABLE', `cannot create lease table ${tableName}: ${String(e)}`, { retriable: true, cause: e });
          }
        }
      }
    }
    if (status === 'ACTIVE') return;
    if (Date.now() > deadline) throw new IntegratorError('TIMEOUT', `lease table ${tableName} not ACTIVE after ${timeoutMs} ms (status ${status ?? 'missing'})`, { retriable: true });
    await sleep(status === undefined ? 200 : 1000);
  }
}
