import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../test/stack/process.js';
import { ManualGate } from '../../src/core/flow-gate.js';
import { MemoryMetrics } from '../../src/core/metrics.js';
import { KafkaSourceConfig } from './config.js';
import { createKafkaSource, kafkaLogCreator } from './create.js';
import { KafkaSource } from './source.js';
import { RecordingLogger } from './test-kit.js';

const base = { type: 'kafka', brokers: ['127.0.0.1:9092'], topic: 'inventory' } as const;

describe('Kafka source config', () => {
  it('fills defaults: group, offsets from the beginning, timeouts', () => {
    const c = KafkaSourceConfig.parse(base);
    expect(c).toMatchObject({ groupId: 'inventory-integrator', fromBeginning: true, sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 60_000, heartbeatIntervalMs: 3000 });
  });

  it('rejects a broker without a port and unknown keys, naming them', () => {
    const bad = KafkaSourceConfig.safeParse({ ...base, brokers: ['localhost'] });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toContain('host:port');
    const unknown = KafkaSourceConfig.safeParse({ ...base, autoCommit: true });
    expect(unknown.success).toBe(false);
    expect(JSON.stringify(unknown.error?.issues)).toContain('autoCommit');
  });

  it('wants exactly one of sasl.password and sasl.passwordEnv', () => {
    const sasl = { mechanism: 'scram-sha-512', username: 'u' } as const;
    expect(KafkaSourceConfig.safeParse({ ...base, sasl }).success).toBe(false);
    expect(KafkaSourceConfig.safeParse({ ...base, sasl: { ...sasl, password: 'p', passwordEnv: 'P' } }).success).toBe(false);
    expect(KafkaSourceConfig.safeParse({ ...base, sasl: { ...sasl, passwordEnv: 'P' } }).success).toBe(true);
  });

  it('createKafkaSource names a passwordEnv that is not set', () => {
    const config = KafkaSourceConfig.parse({ ...base, sasl: { mechanism: 'plain', username: 'u', passwordEnv: 'KAFKA_PW_FOR_TEST' } });
    const deps = { log: new RecordingLogger(), metrics: new MemoryMetrics() };
    expect(() => createKafkaSource(config, { ...deps, env: {} })).toThrow(/KAFKA_PW_FOR_TEST/);
    expect(createKafkaSource(config, { ...deps, env: { KAFKA_PW_FOR_TEST: 'secret' } })).toBeInstanceOf(KafkaSource);
  });

  it('logs kafkajs rebalance chatter as a warning, real errors as errors', () => {
    const log = new RecordingLogger();
    const entry = (message: string) => ({ namespace: 'Runner', level: logLevel.ERROR, label: 'ERROR', log: { timestamp: 'now', logger: 'kafkajs', message } });
    const write = kafkaLogCreator(log)(logLevel.WARN);
    write(entry('The group is rebalancing, re-joining'));
    write(entry('Crash: KafkaJSNumberOfRetriesExceeded'));
    expect(log.lines.map((l) => l.level)).toEqual(['warn', 'error']);
  });
});

describe('KafkaSource failures', () => {
  it('errors its observable with SOURCE_READ_FAILED naming the topic when no broker answers', async () => {
    const port = await freePort();
    const kafka = new Kafka({ clientId: 't', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 1, initialRetryTime: 50, maxRetryTime: 200 } });
    const config = KafkaSourceConfig.parse({ ...base, brokers: [`127.0.0.1:${port}`] });
    const source = new KafkaSource(config, { kafka, log: new RecordingLogger(), metrics: new MemoryMetrics() });
    const ctx = { gate: new ManualGate(), log: new RecordingLogger(), metrics: new MemoryMetrics(), flush: async () => undefined };
    const err = await new Promise<unknown>((resolve) => source.open(ctx).subscribe({ error: resolve, complete: () => resolve(undefined) }));
    expect(err).toMatchObject({ code: 'SOURCE_READ_FAILED', retriable: true });
    expect(String((err as Error).message)).toContain('topic inventory');
    await source.stop();
  });
});
