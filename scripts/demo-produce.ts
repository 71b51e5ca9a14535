import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { Partitioners, type Producer as KafkaProducer } from 'kafkajs';
import { kafkaClient } from '../consumers/kafka/test-kit.js';
import { putAll } from '../consumers/kinesis/test-support.js';
import type { ErrorCode } from '../src/core/errors.js';
import type { DemoSource } from './demo-prereqs.js';
import type { DemoStack } from './demo-stack.js';
import type { WorkloadOp } from './demo-workload.js';

/** Sends ops to one source, in order per lane. */
export interface DemoProducer {
  /** Resolves with the time each op was sent (epoch ms), in the order of `ops`. */
  send(ops: readonly WorkloadOp[]): Promise<readonly number[]>;
  close(): Promise<void>;
}

/** What was produced into one source, for the checks and the latency figures. */
export interface Produced {
  readonly source: DemoSource;
  /** Good records by content key: the times they were sent (a key may repeat). */
  readonly sentAt: Map<string, number[]>;
  readonly good: number;
  readonly malformed: ReadonlyArray<{ readonly code: ErrorCode; readonly category: string }>;
  /** Records per label (restock, sale, …, delete, malformed categories). */
  readonly labels: Map<string, number>;
  firstSentAt: number;
  lastSentAt: number;
}

function kinesisProducer(k: NonNullable<DemoStack['kinesis']>): DemoProducer {
  return {
    async send(ops) {
      const at = Date.now();
      await putAll(
        k.client,
        k.stream,
        ops.map((op) => ({ pk: op.lane, data: op.payload.kind === 'message' ? op.payload.data : Buffer.alloc(0) })),
      );
      return ops.map(() => at);
    },
    close: async () => undefined,
  };
}

/**
 * kafkajs producer on the mock cluster; messages keyed by item, so an item's changes stay in one
 * partition. The topic auto-creates on first use, and a send may race that: it is retried.
 */
async function kafkaProducer(k: NonNullable<DemoStack['kafka']>): Promise<DemoProducer> {
  const client = kafkaClient(k.brokers, 'inventory-demo-producer');
  const producer: KafkaProducer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: true });
  await producer.connect();
  return {
    async send(ops) {
      const messages = ops.map((op) => ({ key: op.lane, value: op.payload.kind === 'message' ? op.payload.data : Buffer.alloc(0) }));
      const at = Date.now();
      for (let attempt = 1; ; attempt++) {
        try {
          await producer.send({ topic: k.topic, messages });
          return ops.map(() => at);
        } catch (err) {
          if (attempt >= 5) throw new Error(`Kafka send to ${k.topic} failed ${attempt} times: ${(err as Error).message}`, { cause: err });
          await new Promise((r) => setTimeout(r, 300 * attempt));
        }
      }
    },
    close: () => producer.disconnect(),
  };
}

/** Item writes: lanes (items) in parallel, each lane's writes in order, as the shop's systems would. */
function dynamoDbProducer(d: NonNullable<DemoStack['dynamodb']>, concurrency = 16): DemoProducer {
  const write = (op: WorkloadOp) =>
    op.payload.kind === 'put'
      ? d.client.send(new PutItemCommand({ TableName: d.table, Item: op.payload.item }))
      : op.payload.kind === 'delete'
        ? d.client.send(new DeleteItemCommand({ TableName: d.table, Key: op.payload.key }))
        : Promise.reject(new Error('a DynamoDB op must be a put or a delete'));
  return {
    async send(ops) {
      const lanes = new Map<string, number[]>();
      ops.forEach((op, i) => {
        let l = lanes.get(op.lane);
        if (!l) lanes.set(op.lane, (l = []));
        l.push(i);
      });
      const queue = [...lanes.values()];
      const sentAt: number[] = new Array<number>(ops.length);
      const worker = async () => {
        for (let lane = queue.shift(); lane; lane = queue.shift()) {
          for (const i of lane) {
            sentAt[i] = Date.now();
            await write(ops[i]!);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
      return sentAt;
    },
    close: async () => undefined,
  };
}

export async function createProducer(source: DemoSource, stack: DemoStack): Promise<DemoProducer> {
  const missing = () => new Error(`no ${source} emulator is running`);
  switch (source) {
    case 'kinesis':
      if (!stack.kinesis) throw missing();
      return kinesisProducer(stack.kinesis);
    case 'kafka':
      if (!stack.kafka) throw missing();
      return kafkaProducer(stack.kafka);
    case 'dynamodb':
      if (!stack.dynamodb) throw missing();
      return dynamoDbProducer(stack.dynamodb);
  }
}

export function emptyProduced(source: DemoSource): Produced {
  return { source, sentAt: new Map(), good: 0, malformed: [], labels: new Map(), firstSentAt: Number.NaN, lastSentAt: Number.NaN };
}

function note(p: Produced, ops: readonly WorkloadOp[], sentAt: readonly number[]): Produced {
  let good = p.good;
  const malformed = [...p.malformed];
  ops.forEach((op, i) => {
    const at = sentAt[i]!;
    p.labels.set(op.label, (p.labels.get(op.label) ?? 0) + 1);
    if (op.expect.kind === 'dlq') {
      malformed.push({ code: op.expect.code, category: op.expect.category });
      return;
    }
    good++;
    const times = p.sentAt.get(op.expect.key);
    if (times) times.push(at);
    else p.sentAt.set(op.expect.key, [at]);
  });
  return { ...p, good, malformed, firstSentAt: Number.isNaN(p.firstSentAt) ? Math.min(...sentAt) : p.firstSentAt, lastSentAt: Date.now() };
}

/**
 * Sends a source's ops at a steady pace over `durationMs` (a slice every `tickMs`), as a live
 * shop would, and notes when each record was sent. A slow send is caught up on the next tick.
 */
export async function produceSteadily(
  source: DemoSource,
  ops: readonly WorkloadOp[],
  producer: DemoProducer,
  opts: { durationMs: number; tickMs?: number; signal?: AbortSignal },
): Promise<Produced> {
  const tick = opts.tickMs ?? 100;
  const started = Date.now();
  let sent = 0;
  let produced = emptyProduced(source);
  while (sent < ops.length) {
    opts.signal?.throwIfAborted();
    const due = Math.min(ops.length, Math.ceil((ops.length * (Date.now() - started + tick)) / Math.max(1, opts.durationMs)));
    if (due > sent) {
      const slice = ops.slice(sent, due);
      produced = note(produced, slice, await producer.send(slice));
      sent = due;
    }
    if (sent < ops.length) await new Promise((r) => setTimeout(r, tick));
  }
  return produced;
}
