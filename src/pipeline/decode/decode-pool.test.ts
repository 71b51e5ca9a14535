import { afterEach, describe, expect, it } from 'vitest';
import type { Envelope } from '../../core/envelope.js';
import { SILENT_LOGGER } from '../../core/logger.js';
import { normalize, type NormalizeOptions } from '../normalize.js';
import { DecodePool, MIN_POOLED_RECORDS } from './decode-pool.js';
import { decodeFailure } from './types.js';

const opts: NormalizeOptions = {
  maxRecordBytes: 2000,
  decodeDynamoDb: () => decodeFailure('RECORD_INVALID', 'dynamodb decoder called on the main thread'),
  now: () => 0,
};

function env(i: number, data: Buffer | string, extra: Partial<Envelope['position']> = {}): Envelope {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  return { position: { source: 'kinesis', stream: 's', shard: i % 3 === 0 ? 'shard-a' : 'shard-b', seq: String(1000 + i), ...extra }, payload: { kind: 'bytes', data: bytes }, receivedAt: 5, arrivedAt: i, size: bytes.length };
}

const good = (i: number) => JSON.stringify({ eventType: 'sale', sku: `SKU-${i % 7}`, warehouseId: 'WH-1', quantityBefore: i % 5 === 0 ? null : 10, quantityAfter: 7, delta: -3, orderId: i % 2 ? null : `O-${i}`, eventTime: '2026-11-21T10:00:00Z' });

/** Every kind of payload the pipeline meets, enough of them to go to the workers. */
function poll(): Envelope[] {
  const out: Envelope[] = [];
  for (let i = 0; out.length < MIN_POOLED_RECORDS * 2; i++) {
    if (i % 50 === 1) out.push(env(i, '{not json'));
    else if (i % 50 === 2) out.push(env(i, Buffer.from([0xff, 0xfe])));
    else if (i % 50 === 3) out.push(env(i, ''));
    else if (i % 50 === 4) out.push(env(i, JSON.stringify({ eventName: 'INSERT', dynamodb: {} })));
    else if (i % 50 === 5) out.push(env(i, 'x'.repeat(3000)));
    else if (i % 50 === 6) out.push(env(i, JSON.stringify({ sku: 'no type' })));
    else if (i % 50 === 7) out.push({ position: { source: 'dynamodb', stream: 't', shard: 'x', seq: String(i) }, payload: { kind: 'dynamodb', record: {} }, receivedAt: 5, size: 10 });
    else out.push(env(i, good(i), i % 10 === 8 ? { sub: i % 4 } : {}));
  }
  return out;
}

let pool: DecodePool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

describe('DecodePool', () => {
  it('makes exactly the changes and dead letters that normalize makes, in order, on a worker thread', async () => {
    const envs = poll();
    pool = new DecodePool(1, SILENT_LOGGER);
    expect(await pool.normalizeAll(envs, opts)).toEqual(envs.map((e) => normalize(e, opts)));
    // Several polls in flight at once come back to the right callers.
    const [a, b] = await Promise.all([pool.normalizeAll(envs.slice(0, 300), opts), pool.normalizeAll(envs.slice(200), opts)]);
    expect(a).toEqual(envs.slice(0, 300).map((e) => normalize(e, opts)));
    expect(b).toEqual(envs.slice(200).map((e) => normalize(e, opts)));
  });

  it('decodes inline with no workers, and small polls inline', async () => {
    const envs = poll();
    pool = new DecodePool(0, SILENT_LOGGER);
    expect(pool.concurrency).toBe(1);
    expect(await pool.normalizeAll(envs, opts)).toEqual(envs.map((e) => normalize(e, opts)));
    const small = envs.slice(0, 10);
    expect(await new DecodePool(4, SILENT_LOGGER).normalizeAll(small, opts)).toEqual(small.map((e) => normalize(e, opts)));
  });

  it('falls back to decoding inline, losing nothing, when its worker dies', async () => {
    const envs = poll();
    pool = new DecodePool(1, SILENT_LOGGER);
    await pool.normalizeAll(envs, opts);
    const pending = pool.normalizeAll(envs, opts);
    // Kill the worker while it holds a request.
    await (pool as unknown as { threads: Array<{ worker: { terminate(): Promise<number> } }> }).threads[0]!.worker.terminate();
    expect(await pending).toEqual(envs.map((e) => normalize(e, opts)));
    expect(await pool.normalizeAll(envs, opts)).toEqual(envs.map((e) => normalize(e, opts)));
  });
});
