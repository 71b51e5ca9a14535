import { isUtf8 } from 'node:buffer';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Logger } from '../src/core/logger.js';
import type { Metrics } from '../src/core/metrics.js';
import type { DeadLetter, DeadLetterSink, ObjectStore } from '../src/core/ports.js';
import { shardKey } from '../src/core/position.js';
import { assertSafePrefix, rangeName } from './key.js';

const gzipAsync = promisify(gzip);

export interface DlqSinkOptions {
  readonly store: ObjectStore;
  /** Folder of the dead letters in the store, e.g. "dlq". */
  readonly prefix: string;
  readonly metrics: Metrics;
  readonly log: Logger;
}

/**
 * One dead letter as a JSON line. The payload is kept byte for byte: valid UTF-8 as text,
 * anything else as base64 (`payloadEncoding: "base64"`), DynamoDB stream records as JSON.
 */
export function letterLine(l: DeadLetter): string {
  const payload =
    l.payload.kind === 'dynamodb'
      ? { payloadEncoding: 'json', payload: l.payload.record }
      : isUtf8(l.payload.data)
        ? { payloadEncoding: 'utf8', payload: l.payload.data.toString('utf8') }
        : { payloadEncoding: 'base64', payload: l.payload.data.toString('base64') };
  return JSON.stringify({
    position: l.position,
    code: l.code,
    reason: l.reason,
    receivedAt: new Date(l.receivedAt).toISOString(),
    ...payload,
  });
}

const utcDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/**
 * Dead letters as gzip NDJSON under `{prefix}/dt=YYYY-MM-DD/` (UTC date they were received),
 * one object per shard and date, named after the first and last positions it holds, so a
 * retried write replaces its object.
 */
export class DlqSink implements DeadLetterSink {
  constructor(private readonly opts: DlqSinkOptions) {
    assertSafePrefix(opts.prefix, 'dlq prefix');
  }

  async write(letters: readonly DeadLetter[]): Promise<void> {
    const groups = new Map<string, DeadLetter[]>();
    for (const l of letters) {
      const g = `${shardKey(l.position)}\u0000${utcDate(l.receivedAt)}`;
      let list = groups.get(g);
      if (!list) groups.set(g, (list = []));
      list.push(l);
    }
    for (const group of groups.values()) {
      const first = group[0]!;
      const last = group[group.length - 1]!;
      const key = `${this.opts.prefix}/dt=${utcDate(first.receivedAt)}/${rangeName(first.position, last.position)}.ndjson.gz`;
      const body = await gzipAsync(Buffer.from(`${group.map(letterLine).join('\n')}\n`, 'utf8'));
      await this.opts.store.put(key, body);
      this.opts.log.info({ key, letters: group.length }, 'dead letters written');
    }
  }

  async close(): Promise<void> {}
}
