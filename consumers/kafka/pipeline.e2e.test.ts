import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventIdOf } from '../../src/core/event-id.js';
import { eventLines } from '../../test/fixtures/events.js';
import { type KafkaMock, startKafkaMock } from '../../test/stack/kafka-mock.js';
import { type Started, startProcess } from '../../test/stack/process.js';
import { startWorkerPipeline, TABLE } from './e2e-worker.js';
import { committedOffsets, produce, until } from './test-kit.js';

/** Kafka end to end: mock cluster → KafkaSource → the real pipeline → a Parquet lake in a temp dir. */
let mock: KafkaMock;
let tmp: string;
const workers: Started[] = [];

beforeAll(async () => {
  mock = await startKafkaMock({ brokers: 1 });
  tmp = await mkdtemp(join(tmpdir(), 'kafka-e2e-'));
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await mock?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const PARTITIONS = 4;
const lines = [...eventLines(3500)];

/** The event id of the i-th message produced round-robin from `first` (what the pipeline derives from its position). */
function expectedIds(topic: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => eventIdOf({ source: 'kafka', stream: topic, shard: String(i % PARTITIONS), seq: String(Math.floor(i / PARTITIONS)) }));
}

async function parquetFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && e.name.endsWith('.parquet')).map((e) => join(e.parentPath, e.name));
}

/** Rows of the raw layer: event id, partition and offset. */
async function lakeRows(lake: string): Promise<Array<{ id: string; shard: string; seq: bigint }>> {
  const files = await parquetFiles(join(lake, TABLE));
  if (files.length === 0) return [];
  const db = await DuckDBInstance.create(':memory:');
  try {
    const conn = await db.connect();
    const list = files.map((f) => `'${f}'`).join(', ');
    const reader = await conn.runAndReadAll(`SELECT event_id, shard, sequence FROM read_parquet([${list}])`);
    conn.closeSync();
    return reader.getRowObjectsJS().map((r) => ({ id: String(r.event_id), shard: String(r.shard), seq: BigInt(String(r.sequence)) }));
  } finally {
    db.closeSync();
  }
}

const countIds = (rows: ReadonlyArray<{ id: string }>) => {
  const m = new Map<string, number>();
  for (const r of rows) m.set(r.id, (m.get(r.id) ?? 0) + 1);
  return m;
};

function startWorker(topic: string, groupId: string, lakeDir: string): Promise<Started> {
  const settings = JSON.stringify({ brokers: [...mock.brokers], topic, groupId, lakeDir });
  // node itself with tsx's loader, not the tsx CLI: the CLI runs the script in a child process,
  // which a SIGKILL of the CLI would leave running.
  return startProcess(process.execPath, ['--import', 'tsx', join('consumers', 'kafka', 'e2e-worker.ts'), settings], {
    ready: (out) => out.includes('ready'),
    name: `kafka worker (${groupId})`,
  });
}

describe('Kafka → pipeline → lake', () => {
  it('writes every event exactly once, dead-letters the tombstone and the undecodable message, and commits the end offsets', async () => {
    const topic = 'inv-once';
    const lake = join(tmp, topic);
    const good = lines.slice(0, 2000);
    await produce(mock.brokers, topic, good);
    // Offsets 500 of partitions 0 and 1: a tombstone and a message that is not JSON.
    await produce(mock.brokers, topic, [null, '{"not json'], PARTITIONS);

    const w = await startWorkerPipeline({ brokers: [...mock.brokers], topic, groupId: 'g-once', lakeDir: lake });
    await until(() => w.running.stats().written + w.running.stats().deadLettered >= 2002, 'everything delivered', 60_000);
    const summary = await w.stop();

    expect(summary).toMatchObject({ written: 2000, deadLettered: 2 });
    const counts = countIds(await lakeRows(lake));
    const ids = expectedIds(topic, 2000);
    expect(counts.size).toBe(2000);
    expect(ids.every((id) => counts.get(id) === 1)).toBe(true);
    expect(await committedOffsets(mock.brokers, 'g-once', topic)).toEqual({ 0: '501', 1: '501', 2: '500', 3: '500' });
  });

  it('killed mid-run (SIGKILL) and restarted: nothing lost, repeats only past the last commit', async () => {
    const topic = 'inv-kill';
    const lake = join(tmp, topic);
    await produce(mock.brokers, topic, lines.slice(0, 3000));

    const first = await startWorker(topic, 'g-kill', lake);
    workers.push(first);
    let seen = 0;
    const deadline = Date.now() + 60_000;
    while (seen < 800) {
      if (Date.now() > deadline) throw new Error(`only ${seen} events in the lake after 60 s`);
      await new Promise((r) => setTimeout(r, 200));
      seen = countIds(await lakeRows(lake)).size;
    }
    process.kill(first.child.pid!, 'SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    const atKill = await committedOffsets(mock.brokers, 'g-kill', topic);
    // It had committed progress, so the restart resumes from there rather than from the start.
    expect(Object.values(atKill).some((o) => Number(o) > 0)).toBe(true);
    expect(countIds(await lakeRows(lake)).size).toBeLessThan(3000);

    await produce(mock.brokers, topic, lines.slice(3000, 3500), PARTITIONS, 3000);
    const second = await startWorker(topic, 'g-kill', lake);
    workers.push(second);
    const ids = expectedIds(topic, 3500);
    const deadline2 = Date.now() + 60_000;
    for (;;) {
      const counts = countIds(await lakeRows(lake));
      if (ids.every((id) => counts.has(id))) break;
      if (Date.now() > deadline2) throw new Error(`${ids.filter((id) => !counts.has(id)).length} events missing from the lake after 60 s`);
      await new Promise((r) => setTimeout(r, 300));
    }
    // Graceful stop (SIGTERM): the final flush and commit, then leaving the group.
    const exited = new Promise((r) => second.child.once('exit', r));
    process.kill(second.child.pid!, 'SIGTERM');
    await exited;
    expect(second.child.exitCode, second.output().slice(-4000)).toBe(0);

    const rows = await lakeRows(lake);
    const counts = countIds(rows);
    expect(counts.size).toBe(3500);
    // A record is in the lake twice only if it was written but not yet committed when the first
    // process died: its offset is at or past that partition's committed offset.
    for (const r of rows) {
      if (counts.get(r.id)! > 1) expect(r.seq >= BigInt(atKill[Number(r.shard)] ?? '-1')).toBe(true);
    }
    expect(await committedOffsets(mock.brokers, 'g-kill', topic), second.output().slice(-4000)).toEqual({ 0: '875', 1: '875', 2: '875', 3: '875' });
  });
});
