/**
 * Rebalance paths a Kafka broker takes but librdkafka's mock cluster cannot: a real coordinator
 * accepts commits of the current generation while a rebalance is being prepared (the mock refuses
 * them), which is what makes "flush and commit before the partitions are revoked" work. A
 * scripted kafkajs consumer stands in for the broker here (fault injection); everything else is
 * tested on the mock cluster (source.test.ts, group.test.ts).
 */
import type { Consumer, EachBatchPayload } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/core/envelope.js';
import { IntegratorError } from '../../src/core/errors.js';
import { ManualGate } from '../../src/core/flow-gate.js';
import { MemoryMetrics } from '../../src/core/metrics.js';
import { type Position, shardKey } from '../../src/core/position.js';
import type { SourceContext } from '../../src/core/ports.js';
import { KafkaSourceConfig } from './config.js';
import { KafkaSource } from './source.js';
import { RecordingLogger, until } from './test-kit.js';

const TOPIC = 't';
const EVENTS = { GROUP_JOIN: 'group_join', REBALANCING: 'rebalancing', CRASH: 'crash', DISCONNECT: 'disconnect' };
const rebalanceError = () => Object.assign(new Error('The group is rebalancing'), { type: 'REBALANCE_IN_PROGRESS' });

type Commit = { topic: string; partition: number; offset: string };

class ScriptedConsumer {
  readonly events = EVENTS;
  readonly commits: Commit[][] = [];
  readonly paused: string[] = [];
  /** Errors the next commitOffsets calls throw, in order. */
  readonly commitErrors: unknown[] = [];
  eachBatch: ((p: EachBatchPayload) => Promise<void>) | undefined;
  private readonly listeners = new Map<string, Array<(e: unknown) => void>>();

  on(event: string, listener: (e: unknown) => void): void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
  }
  emit(event: string, payload: unknown): void {
    for (const l of this.listeners.get(event) ?? []) l({ payload });
  }
  join(partitions: number[]): void {
    this.emit(EVENTS.GROUP_JOIN, { memberAssignment: { [TOPIC]: partitions } });
  }
  async connect(): Promise<void> {}
  async subscribe(): Promise<void> {}
  async run(cfg: { eachBatch: (p: EachBatchPayload) => Promise<void>; autoCommit: boolean; eachBatchAutoResolve: boolean }): Promise<void> {
    expect(cfg.autoCommit).toBe(false);
    expect(cfg.eachBatchAutoResolve).toBe(false);
    this.eachBatch = cfg.eachBatch;
  }
  async commitOffsets(list: Commit[]): Promise<void> {
    const err = this.commitErrors.shift();
    if (err) throw err;
    this.commits.push(list);
  }
  pause(): void {
    this.paused.push('pause');
  }
  resume(): void {
    this.paused.push('resume');
  }
  async disconnect(): Promise<void> {}

  /** Hands a batch of `offsets` of `partition` to the source, as kafkajs' runner would. */
  batch(partition: number, offsets: number[], opts: { heartbeat?: () => Promise<void> } = {}): { done: Promise<void>; resolved: string[] } {
    const resolved: string[] = [];
    const messages = offsets.map((o) => ({ offset: String(o), value: Buffer.from(`v${partition}-${o}`), timestamp: '1700000000000', key: null, attributes: 0, headers: {} }));
    const done = this.eachBatch!({
      batch: { topic: TOPIC, partition, messages } as unknown as EachBatchPayload['batch'],
      resolveOffset: (o: string) => void resolved.push(o),
      heartbeat: opts.heartbeat ?? (async () => undefined),
      pause: () => () => undefined,
      commitOffsetsIfNecessary: async () => undefined,
      uncommittedOffsets: () => ({ topics: [] }),
      isRunning: () => true,
      isStale: () => false,
    });
    return { done, resolved };
  }
}

function setup() {
  const consumer = new ScriptedConsumer();
  const config = KafkaSourceConfig.parse({ type: 'kafka', brokers: ['127.0.0.1:9'], topic: TOPIC, heartbeatIntervalMs: 500 });
  const log = new RecordingLogger();
  const source = new KafkaSource(config, { kafka: { consumer: () => consumer as unknown as Consumer }, log, metrics: new MemoryMetrics() });
  const gate = new ManualGate();
  const polls: Envelope[][] = [];
  const latest = new Map<string, Position>();
  const flushes: Array<readonly string[] | undefined> = [];
  const ctx: SourceContext = {
    gate,
    log,
    metrics: new MemoryMetrics(),
    // The pipeline's flush: everything received from these shards is written, then committed.
    flush: async (keys) => {
      flushes.push(keys);
      for (const [k, pos] of latest) if (!keys || keys.includes(k)) await source.commit(pos);
    },
  };
  source.open(ctx).subscribe((poll) => {
    polls.push([...poll]);
    for (const e of poll) latest.set(shardKey(e.position), e.position);
  });
  const seqs = () => polls.flat().map((e) => `${e.position.shard}@${e.position.seq}`);
  return { consumer, source, gate, polls, flushes, seqs, log };
}

const pos = (partition: number, offset: number): Position => ({ source: 'kafka', stream: TOPIC, shard: String(partition), seq: String(offset) });

describe('KafkaSource rebalances (scripted broker)', () => {
  it('on a heartbeat that reveals a rebalance, flushes and commits every assigned partition before kafkajs rejoins', async () => {
    const { consumer, gate, flushes, seqs } = setup();
    await until(() => consumer.eachBatch !== undefined, 'run()');
    consumer.join([0, 1]);
    await consumer.batch(0, [0, 1, 2]).done;
    expect(seqs()).toEqual(['0@0', '0@1', '0@2']);

    // The next batch waits at a closed gate; its heartbeat is answered REBALANCE_IN_PROGRESS.
    gate.set(false);
    const order: string[] = [];
    const waiting = consumer.batch(1, [0, 1], {
      heartbeat: async () => {
        order.push('heartbeat');
        throw rebalanceError();
      },
    });
    await expect(waiting.done).rejects.toMatchObject({ type: 'REBALANCE_IN_PROGRESS' });
    expect(flushes).toEqual([['kafka|t|0', 'kafka|t|1']]);
    expect(consumer.commits).toEqual([[{ topic: TOPIC, partition: 0, offset: '3' }]]);
    // The batch that met the rebalance is not handed on; kafkajs fetches it again after the rejoin.
    expect(seqs()).toEqual(['0@0', '0@1', '0@2']);
    expect(waiting.resolved).toEqual([]);
    expect(consumer.paused).toEqual(['pause', 'resume']);
  });

  it('sends commits that arrive during a rebalance after the rejoin, and only for partitions still assigned', async () => {
    const { consumer, source } = setup();
    await until(() => consumer.eachBatch !== undefined, 'run()');
    consumer.join([0, 1]);
    await consumer.batch(0, [0, 1, 2, 3, 4]).done;
    await consumer.batch(1, [0, 1, 2, 3, 4]).done;

    consumer.emit(EVENTS.REBALANCING, {});
    await source.commit(pos(0, 4));
    await source.commit(pos(1, 4));
    expect(consumer.commits).toEqual([]);

    consumer.join([1]);
    await until(() => consumer.commits.length === 1, 'the deferred commit');
    expect(consumer.commits).toEqual([[{ topic: TOPIC, partition: 1, offset: '5' }]]);
    // A late commit for the partition another member owns now is never sent.
    await source.commit(pos(0, 4));
    expect(consumer.commits).toHaveLength(1);
  });

  it('skips records kafkajs fetches again after a rebalance and still moves its fetch position', async () => {
    const { consumer, seqs } = setup();
    await until(() => consumer.eachBatch !== undefined, 'run()');
    consumer.join([1]);
    await consumer.batch(1, [0, 1, 2, 3, 4]).done;
    consumer.join([1]);
    const again = consumer.batch(1, [3, 4, 5, 6]);
    await again.done;
    expect(seqs()).toEqual(['1@0', '1@1', '1@2', '1@3', '1@4', '1@5', '1@6']);
    expect(again.resolved).toEqual(['6']);
  });

  it('never sends a commit from an earlier ownership of a partition it lost and regained', async () => {
    const { consumer, source, seqs } = setup();
    await until(() => consumer.eachBatch !== undefined, 'run()');
    consumer.join([0]);
    await consumer.batch(0, [0, 1, 2]).done;
    consumer.join([]);
    // Meanwhile another member committed up to 10; this member gets the partition back.
    consumer.join([0]);
    await source.commit(pos(0, 2));
    expect(consumer.commits).toEqual([]);
    await consumer.batch(0, [10, 11]).done;
    await source.commit(pos(0, 11));
    expect(consumer.commits).toEqual([[{ topic: TOPIC, partition: 0, offset: '12' }]]);
    expect(seqs()).toEqual(['0@0', '0@1', '0@2', '0@10', '0@11']);
  });

  it('retries a commit refused as rebalancing when no rejoin follows (the group was only finishing a sync)', async () => {
    const { consumer, source } = setup();
    await until(() => consumer.eachBatch !== undefined, 'run()');
    consumer.join([0]);
    await consumer.batch(0, [0, 1]).done;
    consumer.commitErrors.push(rebalanceError());
    await source.commit(pos(0, 1));
    expect(consumer.commits).toEqual([]);
    await until(() => consumer.commits.length === 1, 'the retried commit', 5000);
    expect(consumer.commits).toEqual([[{ topic: TOPIC, partition: 0, offset: '2' }]]);
  });

  it('reports any other commit failure as a retriable CHECKPOINT_FAILED, and the next attempt goes through', async () => {
    const { consumer, source } = setup();
    await until(() => consumer.eachBatch !== undefined, 'run()');
    consumer.join([0]);
    await consumer.batch(0, [0]).done;
    consumer.commitErrors.push(new Error('connection reset'));
    const err = await source.commit(pos(0, 0)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegratorError);
    expect(err).toMatchObject({ code: 'CHECKPOINT_FAILED', retriable: true });
    await source.commit(pos(0, 0));
    expect(consumer.commits).toEqual([[{ topic: TOPIC, partition: 0, offset: '1' }]]);
  });
});
