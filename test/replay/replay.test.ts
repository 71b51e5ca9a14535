import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putAll } from '../../consumers/kinesis/test-support.js';
import { parseConfig } from '../../src/config/load.js';
import { SILENT_LOGGER } from '../../src/core/logger.js';
import { MemoryMetrics } from '../../src/core/metrics.js';
import { runReplay } from '../../src/runtime/replay.js';
import { readChangesFromParquet } from '../../sinks/testing/read-parquet.js';
import { eventLines } from '../fixtures/events.js';
import { createStream, type Kinesalite, startKinesalite } from '../stack/kinesalite.js';

const STREAM = 'replayed';

async function lakeFiles(root: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.name === '.tmp') continue;
      if (e.isDirectory()) await walk(join(d, e.name));
      else if (e.name.endsWith('.parquet')) out.set(relative(root, join(d, e.name)), await readFile(join(d, e.name)));
    }
  };
  await walk(root);
  return out;
}

/** Issue 6: replay from a timestamp on kinesalite, twice, into the same keys. */
describe('replay', () => {
  let kinesis: Kinesalite;
  let dir: string;
  const lines = [...eventLines(1200, { seed: 11 })];
  let boundary = 0;

  beforeAll(async () => {
    kinesis = await startKinesalite();
    const client = kinesis.client();
    await createStream(client, STREAM, 2);
    await putAll(client, STREAM, lines.slice(0, 600).map((data, i) => ({ pk: `k${i}`, data: `${data.slice(0, -1)},"n":${i}}` })));
    await new Promise((r) => setTimeout(r, 1500));
    boundary = Date.now();
    await new Promise((r) => setTimeout(r, 1500));
    await putAll(client, STREAM, lines.slice(600).map((data, i) => ({ pk: `k${i}`, data: `${data.slice(0, -1)},"n":${600 + i}}` })));
    dir = await mkdtemp(join(tmpdir(), 'replay-'));
  });
  afterAll(async () => {
    await kinesis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const config = (lake: string) =>
    parseConfig({
      source: { type: 'kinesis', streamName: STREAM, idleTimeBetweenReadsMs: 200, aws: { endpoint: kinesis.endpoint, accessKeyId: 'x', secretAccessKey: 'x' } },
      sink: { type: 'file', dir: lake },
      checkpoints: { type: 'file', path: join(dir, 'service-checkpoints.json') },
      batching: { maxRecords: 100 },
    });

  const replay = (lake: string, dryRun = false) =>
    runReplay(config(lake), { start: { kind: 'timestamp', ms: boundary }, end: { kind: 'now' }, dryRun, idleMs: 2500, log: SILENT_LOGGER, metrics: new MemoryMetrics() });

  it('starts at the first record the stream received at or after the timestamp', async () => {
    const lake = join(dir, 'lake');
    const summary = await replay(lake);
    expect(summary.written).toBe(600);
    const rows = await readChangesFromParquet([...(await lakeFiles(lake)).keys()].map((k) => join(lake, k)));
    expect(rows).toHaveLength(600);
    // Every replayed record is from the second half, and all of the second half is there.
    expect(rows.every((r) => r.ingestTime >= boundary)).toBe(true);
  });

  it('replaying the same range again writes identical object keys and contents', async () => {
    const lake = join(dir, 'lake');
    const first = await lakeFiles(lake);
    const again = join(dir, 'lake-again');
    await replay(again);
    const second = await lakeFiles(again);
    expect([...second.keys()].sort()).toEqual([...first.keys()].sort());
    for (const [k, v] of first) expect(second.get(k)!.equals(v), k).toBe(true);
    // And into the same lake: the objects are overwritten, not duplicated.
    await replay(lake);
    expect([...(await lakeFiles(lake)).keys()].sort()).toEqual([...first.keys()].sort());
  });

  it('--dry-run names the same objects and writes nothing', async () => {
    const lake = join(dir, 'lake-dry');
    const summary = await replay(lake, true);
    expect((await lakeFiles(lake)).size).toBe(0);
    const expected = [...(await lakeFiles(join(dir, 'lake'))).keys()].sort();
    expect(summary.plannedObjects!.map((o) => o.key).sort()).toEqual(expected);
  });
});
