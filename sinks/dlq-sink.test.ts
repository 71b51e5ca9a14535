import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SILENT_LOGGER } from '../src/core/logger.js';
import { MemoryMetrics, METRIC } from '../src/core/metrics.js';
import type { DeadLetter } from '../src/core/ports.js';
import { DlqSink } from './dlq-sink.js';
import { FileObjectStore } from './file/store.js';

let root: string;
let store: FileObjectStore;
let metrics: MemoryMetrics;
let dlq: DlqSink;

const at = Date.UTC(2026, 10, 21, 23, 59, 59);
const letter = (seq: string, data: Buffer | { kind: 'dynamodb'; record: unknown }, over: Partial<DeadLetter> = {}): DeadLetter => ({
  position: { source: 'file', stream: 'events', shard: '0', seq },
  code: 'RECORD_INVALID',
  reason: 'sku: Required',
  payload: Buffer.isBuffer(data) ? { kind: 'bytes', data } : data,
  receivedAt: at,
  ...over,
});

async function readLetters(key: string): Promise<Array<Record<string, unknown>>> {
  const body = await store.get(key);
  expect(body).toBeDefined();
  return gunzipSync(body!).toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'dlq-'));
  store = new FileObjectStore(root);
  metrics = new MemoryMetrics();
  dlq = new DlqSink({ store, prefix: 'dlq', metrics, log: SILENT_LOGGER });
});
afterEach(async () => rm(root, { recursive: true, force: true }));

describe('DlqSink', () => {
  it('writes gzip NDJSON under dlq/dt=<UTC date received>/ with a key from the first and last positions', async () => {
    await dlq.write([letter('7', Buffer.from('{"bad":')), letter('9', Buffer.from('{"sku":1}'), { code: 'RECORD_UNDECODABLE', reason: 'bad JSON' })]);
    expect(await store.list('dlq/')).toEqual(['dlq/dt=2026-11-21/file-events-0-7-9.ndjson.gz']);
    const lines = await readLetters('dlq/dt=2026-11-21/file-events-0-7-9.ndjson.gz');
    expect(lines[0]).toEqual({
      position: { source: 'file', stream: 'events', shard: '0', seq: '7' },
      code: 'RECORD_INVALID',
      reason: 'sku: Required',
      receivedAt: '2026-11-21T23:59:59.000Z',
      payloadEncoding: 'utf8',
      payload: '{"bad":',
    });
    expect(lines[1]).toMatchObject({ code: 'RECORD_UNDECODABLE', reason: 'bad JSON', payload: '{"sku":1}' });
  });

  it('keeps invalid UTF-8 byte for byte as base64, and odd valid text exactly', async () => {
    const invalid = Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x00, 0x0a, 0x80, 0x7d]);
    const text = Buffer.from('\ufeff{"sku":"ü\u0000\u2028","n":"\\u0000"}\r', 'utf8');
    const big = Buffer.alloc(2 * 1024 * 1024, 0x61);
    await dlq.write([letter('1', invalid), letter('2', text), letter('3', big)]);
    const lines = await readLetters('dlq/dt=2026-11-21/file-events-0-1-3.ndjson.gz');
    expect(lines[0]!.payloadEncoding).toBe('base64');
    expect(Buffer.from(lines[0]!.payload as string, 'base64').equals(invalid)).toBe(true);
    expect(lines[1]!.payloadEncoding).toBe('utf8');
    expect(Buffer.from(lines[1]!.payload as string, 'utf8').equals(text)).toBe(true);
    expect(Buffer.from(lines[2]!.payload as string, 'utf8').equals(big)).toBe(true);
  });

  it('stores a DynamoDB stream record as JSON', async () => {
    const record = { eventName: 'INSERT', dynamodb: { SequenceNumber: '100', NewImage: { sku: { N: '12' } } } };
    await dlq.write([letter('100', { kind: 'dynamodb', record }, { position: { source: 'dynamodb', stream: 'inventory', shard: 'shardId-0001', seq: '100' } })]);
    const [line] = await readLetters('dlq/dt=2026-11-21/dynamodb-inventory-shardId-0001-100-100.ndjson.gz');
    expect(line).toMatchObject({ payloadEncoding: 'json', payload: record });
  });

  it('splits letters received on different UTC days and from different shards', async () => {
    const nextDay = at + 2000;
    await dlq.write([
      letter('1', Buffer.from('a')),
      letter('2', Buffer.from('b'), { receivedAt: nextDay }),
      letter('3', Buffer.from('c'), { position: { source: 'file', stream: 'events', shard: '1', seq: '3' } }),
    ]);
    expect(await store.list('dlq/')).toEqual([
      'dlq/dt=2026-11-21/file-events-0-1-1.ndjson.gz',
      'dlq/dt=2026-11-21/file-events-1-3-3.ndjson.gz',
      'dlq/dt=2026-11-22/file-events-0-2-2.ndjson.gz',
    ]);
  });

  it('rewrites the same object when the same letters are written again (retry, replay)', async () => {
    const letters = [letter('5', Buffer.from('x')), letter('6', Buffer.from('y'))];
    await dlq.write(letters);
    await dlq.write(letters);
    expect(await store.list('dlq/')).toHaveLength(1);
  });

  it('escapes hostile stream and shard names in its keys', async () => {
    await dlq.write([letter('1', Buffer.from('x'), { position: { source: 'kafka', stream: '../../etc', shard: '/root', seq: '1' } })]);
    expect(await store.list('dlq/')).toEqual(['dlq/dt=2026-11-21/kafka-..%2F..%2Fetc-%2Froot-1-1.ndjson.gz']);
  });
});
