import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileCheckpointStore } from '../../src/checkpoints/file-store.js';
import { parseConfig } from '../../src/config/load.js';
import { eventIdOf } from '../../src/core/event-id.js';
import { SILENT_LOGGER } from '../../src/core/logger.js';
import { MemoryMetrics } from '../../src/core/metrics.js';
import type { CheckpointStore } from '../../src/core/ports.js';
import { buildPipeline, type PipelineSummary } from '../../src/pipeline/build-pipeline.js';
import { composeRuntime } from '../../src/runtime/compose.js';
import { readChangesFromParquet } from '../../sinks/testing/read-parquet.js';
import { malformedLines, writeEventsFile } from '../fixtures/events.js';
import { startS3rver, type S3Stack } from '../stack/s3rver.js';

/** Issue 2's end-to-end proof: file source → pipeline → Parquet on S3 (s3rver), read back with DuckDB. */
describe('file source into S3 on s3rver', () => {
  let s3: S3Stack;
  let client: S3Client;
  let dir: string;
  const EVENTS = 3000;
  const bad = malformedLines({ largeBytes: 2 * 1024 * 1024 });
  const badAt = bad.map((b, i) => ({ line: 100 + i * 250, data: b.data }));
  let eventsFile: string;
  let lines: Buffer[];

  beforeAll(async () => {
    s3 = await startS3rver('lake');
    client = s3.client();
    dir = await mkdtemp(join(tmpdir(), 'file-to-s3-'));
    eventsFile = (await writeEventsFile(join(dir, 'events.ndjson'), EVENTS, { seed: 7, malformed: badAt })).path;
    lines = (await readFile(eventsFile)).toString('latin1').split('\n').slice(0, -1).map((l) => Buffer.from(l, 'latin1'));
  });
  afterAll(async () => {
    client?.destroy();
    await s3?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const config = (prefix: string, checkpointPath: string) =>
    parseConfig({
      source: { type: 'file', path: eventsFile, stream: 'events' },
      sink: { type: 's3', bucket: 'lake', prefix, forcePathStyle: true, aws: { endpoint: s3.endpoint, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } },
      checkpoints: { type: 'file', path: checkpointPath },
      batching: { maxRecords: 400, maxAgeMs: 600_000 },
    });

  async function run(prefix: string, checkpoints?: CheckpointStore): Promise<PipelineSummary> {
    const runtime = await composeRuntime(config(prefix, join(dir, `${prefix}-cp.json`)), { log: SILENT_LOGGER, metrics: new MemoryMetrics() }, checkpoints ? { checkpoints } : {});
    try {
      return await buildPipeline(runtime.ports, runtime.options).start().done;
    } finally {
      await runtime.close();
    }
  }

  async function keys(prefix: string): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: 'lake', Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) out.push(o.Key!);
      token = page.NextContinuationToken;
    } while (token);
    return out.sort();
  }

  const body = async (key: string) => Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: 'lake', Key: key }))).Body!.transformToByteArray());

  async function lakeRows(prefix: string) {
    const parquet = (await keys(`${prefix}/inventory_changes/`)).filter((k) => k.endsWith('.parquet'));
    const paths: string[] = [];
    for (const [i, k] of parquet.entries()) {
      const p = join(dir, `${prefix}-${i}.parquet`);
      await writeFile(p, await body(k));
      paths.push(p);
    }
    return { parquet, rows: await readChangesFromParquet(paths) };
  }

  it('writes every good line as a typed Parquet row and every bad line to the DLQ with its reason', async () => {
    const summary = await run('first');
    expect(summary).toMatchObject({ received: EVENTS + bad.length, written: EVENTS, deadLettered: bad.length });

    const { rows } = await lakeRows('first');
    expect(rows).toHaveLength(EVENTS);
    const byId = new Map(rows.map((r) => [r.eventId, r]));
    const badLines = new Set(badAt.map((b) => b.line));
    for (let n = 1; n <= lines.length; n++) {
      if (badLines.has(n)) continue;
      const input = JSON.parse(lines[n - 1]!.toString('utf8')) as Record<string, unknown>;
      const row = byId.get(eventIdOf({ source: 'file', stream: 'events', shard: '0', seq: String(n) }));
      expect(row, `line ${n}`).toBeDefined();
      expect(row).toMatchObject({
        sequence: String(n),
        eventType: input.eventType,
        sku: input.sku,
        warehouseId: input.warehouseId,
        quantityBefore: input.quantityBefore ?? null,
        quantityAfter: input.quantityAfter ?? null,
        orderId: input.orderId ?? null,
        customerId: input.customerId ?? null,
        eventTime: typeof input.eventTime === 'number' ? input.eventTime : Date.parse(input.eventTime as string),
      });
    }

    const dlqKeys = await keys('first/dlq/');
    const letters = (await Promise.all(dlqKeys.map(async (k) => gunzipSync(await body(k)).toString('utf8').split('\n').filter(Boolean)))).flat().map((l) => JSON.parse(l) as Record<string, any>);
    expect(letters).toHaveLength(bad.length);
    for (const [i, b] of bad.entries()) {
      const letter = letters.find((l) => l.position.seq === String(badAt[i]!.line));
      expect(letter, b.category).toBeDefined();
      expect(letter!.code).toBe(b.code);
      expect(String(letter!.reason).toLowerCase()).toContain(b.reasonMentions.toLowerCase());
      if (b.code !== 'RECORD_TOO_LARGE') {
        const raw = letter!.payloadEncoding === 'base64' ? Buffer.from(letter!.payload, 'base64') : Buffer.from(letter!.payload, 'utf8');
        expect(raw.equals(b.data), `${b.category} kept byte for byte`).toBe(true);
      }
    }
    expect((await new FileCheckpointStore(join(dir, 'first-cp.json')).get('file', 'events', '0'))?.seq).toBe(String(lines.length));
  });

  it('after a crash between write and checkpoint, a restart rewrites the same keys and loses nothing', async () => {
    const real = new FileCheckpointStore(join(dir, 'crash-cp.json'));
    // The process "dies" before any checkpoint lands: writes happen, checkpoints do not.
    const crashing: CheckpointStore = { ...real, get: real.get.bind(real), list: real.list.bind(real), delete: real.delete.bind(real), put: async () => {} };
    await run('crash', crashing);
    const before = await keys('crash/');
    const contents = new Map(await Promise.all(before.map(async (k) => [k, (await body(k)).toString('base64')] as const)));
    expect(await real.get('file', 'events', '0')).toBeUndefined();

    await run('crash', real);
    const after = await keys('crash/');
    expect(after).toEqual(before);
    for (const k of after.filter((x) => x.endsWith('.parquet'))) {
      const rows = await readChangesFromParquet(await fetchTo(k));
      const original = await readChangesFromParquet(await writeTo(`${k}.orig`, Buffer.from(contents.get(k)!, 'base64')));
      expect(rows.map((r) => r.eventId)).toEqual(original.map((r) => r.eventId));
    }
    const { rows } = await lakeRows('crash');
    expect(new Set(rows.map((r) => r.eventId)).size).toBe(EVENTS);
    expect(rows).toHaveLength(EVENTS);
  });

  const writeTo = async (name: string, data: Buffer) => {
    const p = join(dir, name.replace(/[^A-Za-z0-9.-]/g, '_'));
    await writeFile(p, data);
    return p;
  };
  const fetchTo = async (key: string) => writeTo(key, await body(key));
});
