/**
 * Helpers for the Kafka source's tests on librdkafka's mock cluster: a producer, and a harness
 * that stands in for the pipeline (collects envelopes, "delivers" them, commits when told).
 */
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import type { Subscription } from 'rxjs';
import type { Envelope } from '../../src/core/envelope.js';
import { ManualGate } from '../../src/core/flow-gate.js';
import type { Logger } from '../../src/core/logger.js';
import { MemoryMetrics } from '../../src/core/metrics.js';
import { type Position, shardKey } from '../../src/core/position.js';
import type { SourceContext } from '../../src/core/ports.js';
import { KafkaSourceConfig } from './config.js';
import { KafkaSource } from './source.js';

export function kafkaClient(brokers: readonly string[], clientId = 'test'): Kafka {
  return new Kafka({ clientId, brokers: [...brokers], logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 100 } });
}

/** Sends `values` round-robin over `partitions` partitions (value i to partition i % partitions). */
export async function produce(brokers: readonly string[], topic: string, values: ReadonlyArray<string | null>, partitions = 4, firstIndex = 0): Promise<void> {
  const producer = kafkaClient(brokers, 'producer').producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: true });
  await producer.connect();
  try {
    const byPartition = new Map<number, Array<{ value: string | null }>>();
    values.forEach((value, i) => {
      const p = (firstIndex + i) % partitions;
      let list = byPartition.get(p);
      if (!list) byPartition.set(p, (list = []));
      list.push({ value });
    });
    for (let i = 0; i < 3; i++) {
      try {
        await producer.sendBatch({
          topicMessages: [...byPartition].map(([partition, msgs]) => ({ topic, messages: msgs.map((m) => ({ ...m, partition })) })),
        });
        return;
      } catch (err) {
        // The first send to a topic may race its auto-creation on the mock cluster.
        if (i === 2) throw err;
        await new Promise((r) => setTimeout(r, 300));
      }
    }
  } finally {
    await producer.disconnect();
  }
}

/** The group's committed next offsets, per partition. */
export async function committedOffsets(brokers: readonly string[], groupId: string, topic: string): Promise<Record<number, string>> {
  const admin = kafkaClient(brokers, 'admin').admin();
  await admin.connect();
  try {
    const res = await admin.fetchOffsets({ groupId, topics: [topic] });
    const out: Record<number, string> = {};
    for (const t of res) for (const p of t.partitions) out[p.partition] = p.offset;
    return out;
  } finally {
    await admin.disconnect();
  }
}

export function sourceConfig(brokers: readonly string[], topic: string, groupId: string, overrides: Partial<KafkaSourceConfig> = {}): KafkaSourceConfig {
  return KafkaSourceConfig.parse({
    type: 'kafka',
    brokers: [...brokers],
    topic,
    groupId,
    // The mock cluster holds a group in Joining for up to a session (or rebalance) timeout
    // whenever a member joins or leaves, so both are as short as allowed.
    sessionTimeoutMs: 6000,
    rebalanceTimeoutMs: 6000,
    heartbeatIntervalMs: 500,
    maxWaitTimeMs: 100,
    ...overrides,
  });
}

export type DeliveryMode =
  /** Every poll is "written" and committed at once. */
  | 'commit-each-poll'
  /** Nothing is committed until `flush` (from the source or the test). */
  | 'commit-on-flush'
  /** Nothing is ever committed: a pipeline that dies before writing. */
  | 'never';

/** Stands in for the pipeline: subscribes to `open()`, keeps what arrives, commits as told. */
export class Harness {
  readonly envelopes: Envelope[] = [];
  readonly gate = new ManualGate();
  readonly metrics = new MemoryMetrics();
  readonly flushCalls: Array<readonly string[] | undefined> = [];
  readonly source: KafkaSource;
  completed = false;
  error: unknown;
  private readonly latest = new Map<string, Position>();
  private readonly sub: Subscription;
  private waiters: Array<() => void> = [];

  constructor(
    brokers: readonly string[],
    config: KafkaSourceConfig,
    private readonly mode: DeliveryMode,
    readonly log: RecordingLogger = new RecordingLogger(),
  ) {
    this.source = new KafkaSource(config, { kafka: kafkaClient(brokers, `c-${config.groupId}`), log, metrics: this.metrics });
    const ctx: SourceContext = { gate: this.gate, log, metrics: this.metrics, flush: (keys) => this.flush(keys) };
    this.sub = this.source.open(ctx).subscribe({
      next: (poll) => void this.onPoll(poll),
      error: (err: unknown) => {
        this.error = err;
        this.wake();
      },
      complete: () => {
        this.completed = true;
        this.wake();
      },
    });
  }

  /** Message values received, as text. */
  values(): string[] {
    return this.envelopes.map((e) => (e.payload.kind === 'bytes' ? e.payload.data.toString('utf8') : ''));
  }

  async flush(keys?: readonly string[]): Promise<void> {
    this.flushCalls.push(keys);
    if (this.mode !== 'never') await this.commitLatest(keys);
  }

  private async commitLatest(keys?: readonly string[]): Promise<void> {
    const todo = [...this.latest].filter(([k]) => !keys || keys.includes(k));
    for (const [k, pos] of todo) {
      await this.source.commit(pos);
      if (this.latest.get(k) === pos) this.latest.delete(k);
    }
  }

  /** Resolves once `count` envelopes have arrived (fails after `timeoutMs`). */
  async waitFor(count: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.envelopes.length < count) {
      if (this.error) throw this.error;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected ${count} envelopes, got ${this.envelopes.length} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async stop(): Promise<void> {
    await this.source.stop();
    this.sub.unsubscribe();
  }

  private async onPoll(poll: readonly Envelope[]): Promise<void> {
    this.envelopes.push(...poll);
    for (const e of poll) this.latest.set(shardKey(e.position), e.position);
    this.wake();
    if (this.mode === 'commit-each-poll') await this.commitLatest();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

export const range = (n: number, prefix = 'm'): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

/** Keeps log lines so a test can see what the source reported (assignments, rebalances). */
export class RecordingLogger implements Logger {
  readonly lines: Array<{ level: string; msg: string; obj: object }> = [];
  debug(obj: object, msg = ''): void {
    this.lines.push({ level: 'debug', msg, obj });
  }
  info(obj: object, msg = ''): void {
    this.lines.push({ level: 'info', msg, obj });
  }
  warn(obj: object, msg = ''): void {
    this.lines.push({ level: 'warn', msg, obj });
  }
  error(obj: object, msg = ''): void {
    this.lines.push({ level: 'error', msg, obj });
  }
  child(): Logger {
    return this;
  }
  count(msg: string): number {
    return this.lines.filter((l) => l.msg.includes(msg)).length;
  }
}

/** Polls `cond` until it holds (fails after `timeoutMs`, naming `what`). */
export async function until(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
