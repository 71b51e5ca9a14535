import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { FileCheckpointStore } from '../../src/checkpoints/file-store.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { eventIdOf } from '../../src/core/event-id.js';
import { readChangesFromParquet } from '../../sinks/testing/read-parquet.js';
import { putAll } from '../../consumers/kinesis/test-support.js';
import { eventLines } from '../fixtures/events.js';
import { createStream, type Kinesalite, startKinesalite } from '../stack/kinesalite.js';
import { startProcess, type Started } from '../stack/process.js';

const STREAM = 'inventory-service';

async function parquetFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else if (e.name.endsWith('.parquet') && !d.includes('.tmp')) out.push(join(d, e.name));
    }
  };
  await walk(root);
  return out;
}

/** A bare read of every record of every shard, from the start. */
async function readWholeStream(client: KinesisClient, stream: string): Promise<Array<{ shard: string; seq: string }>> {
  const out: Array<{ shard: string; seq: string }> = [];
  const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: stream }));
  for (const s of Shards) {
    let it = (await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: s.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    while (it) {
      const page = await client.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10_000 }));
      for (const r of page.Records ?? []) out.push({ shard: s.ShardId!, seq: r.SequenceNumber! });
      if ((page.Records ?? []).length === 0) break;
      it = page.NextShardIterator;
    }
  }
  return out;
}

/** Issue 6: the service as a child process — metrics, readiness, and a SIGTERM in the middle of a load. */
describe('container service', () => {
  let kinesis: Kinesalite;
  let dir: string;
  let service: Started | undefined;

  beforeAll(async () => {
    kinesis = await startKinesalite();
    await createStream(kinesis.client(), STREAM, 2);
    dir = await mkdtemp(join(tmpdir(), 'service-'));
  });
  afterAll(async () => {
    await service?.stop();
    await kinesis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves /metrics and /readyz, and on SIGTERM checkpoints exactly what is in the lake', async () => {
    const lake = join(dir, 'lake');
    const checkpoints = join(dir, 'checkpoints.json');
    const configPath = join(dir, 'service.yaml');
    await writeFile(
      configPath,
      stringify({
        source: { type: 'kinesis', streamName: STREAM, idleTimeBetweenReadsMs: 200, aws: { endpoint: kinesis.endpoint, accessKeyId: 'x', secretAccessKey: 'x' } },
        sink: { type: 'file', dir: lake },
        checkpoints: { type: 'file', path: checkpoints },
        batching: { maxRecords: 200, maxAgeMs: 300 },
        service: { host: '127.0.0.1', port: 0, shutdownDeadlineMs: 20_000 },
        logging: { level: 'info' },
      }),
    );
    const client = kinesis.client();
    const lines = [...eventLines(3000, { seed: 3 })];
    await putAll(client, STREAM, lines.slice(0, 1000).map((data, i) => ({ pk: `k${i % 17}`, data })));

    // node --import tsx, not the tsx CLI: a signal to the CLI does not reach its child.
    service = await startProcess(process.execPath, ['--import', 'tsx', 'src/runtime/main.ts', 'run', '--config', configPath], {
      name: 'service',
      ready: (out) => /service listening on :\d+/.test(out),
      timeoutMs: 60_000,
    });
    const port = Number(/service listening on :(\d+)/.exec(service.output())![1]);
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    let ready = false;
    for (let i = 0; i < 100 && !ready; i++) {
      ready = (await fetch(`${base}/readyz`)).status === 200;
      if (!ready) await new Promise((r) => setTimeout(r, 200));
    }
    expect(ready).toBe(true);

    // Keep producing while the service works, then stop it in the middle of the load.
    const producing = (async () => {
      for (let i = 1000; i < lines.length; i += 100) {
        await putAll(client, STREAM, lines.slice(i, i + 100).map((data, j) => ({ pk: `k${(i + j) % 17}`, data })));
        await new Promise((r) => setTimeout(r, 30));
      }
    })();
    let metrics = '';
    for (let i = 0; i < 100; i++) {
      metrics = await (await fetch(`${base}/metrics`)).text();
      const m = /integrator_events_written_total\{[^}]*\} (\d+)/.exec(metrics);
      if (m && Number(m[1]) >= 600) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(metrics).toMatch(/integrator_events_received_total\{source="kinesis",shard="[^"]+"\} \d+/);
    expect(metrics).toMatch(/integrator_checkpoints_committed_total/);
    expect(metrics).toMatch(/integrator_flush_seconds_bucket/);

    const exited = new Promise<number | null>((r) => service!.child.once('exit', (code) => r(code)));
    service.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await producing;
    expect(service.output()).toMatch(/stopping: no more reads/);

    // Every record in the lake is covered by its shard's checkpoint, and every record the
    // checkpoint covers is in the lake: nothing acknowledged is missing, nothing extra.
    const cps = await new FileCheckpointStore(checkpoints).list('kinesis', STREAM);
    const rows = await readChangesFromParquet(await parquetFiles(lake));
    expect(rows.length).toBeGreaterThan(0);
    const ids = new Set(rows.map((r) => r.eventId));
    expect(ids.size).toBe(rows.length);

    const all = await readWholeStream(client, STREAM);
    let covered = 0;
    for (const rec of all) {
      const cp = cps.find((c) => c.shard === rec.shard);
      const isCovered = cp !== undefined && (BigInt(rec.seq) <= BigInt(cp.seq));
      const id = eventIdOf({ source: 'kinesis', stream: STREAM, shard: rec.shard, seq: rec.seq });
      expect(ids.has(id), `${rec.shard}@${rec.seq} covered=${isCovered}`).toBe(isCovered);
      if (isCovered) covered++;
    }
    expect(covered).toBe(rows.length);
  });
});
