/**
 * Encoder benchmark: rows/s of the Parquet encoder against DuckDB's own single-thread
 * NDJSON → Parquet COPY of the same rows, measured in the same run (quote the ratio; absolute
 * figures move with the machine's load).
 *
 *   npx tsx bench/sink.ts --events 1000000 [--batch 50000] [--concurrency 2] [--codec zstd]
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import type { InventoryChange } from '../src/core/model.js';
import { ParquetEncoder, type ParquetCodec } from '../sinks/encoding/parquet.js';
import { makeChanges } from '../test/fixtures/changes.js';

export interface SinkBenchArgs {
  readonly events: number;
  readonly batch?: number;
  readonly concurrency?: number;
  readonly codec?: ParquetCodec;
}

const JSON_COLUMNS = `{event_id: 'VARCHAR', source: 'VARCHAR', stream: 'VARCHAR', shard: 'VARCHAR', sequence: 'VARCHAR',
  event_type: 'VARCHAR', sku: 'VARCHAR', warehouse_id: 'VARCHAR', quantity_before: 'BIGINT', quantity_after: 'BIGINT',
  delta: 'BIGINT', order_id: 'VARCHAR', customer_id: 'VARCHAR', event_time: 'BIGINT', ingest_time: 'BIGINT',
  enrichment_status: 'VARCHAR', enrichment_failed: 'VARCHAR[]', customer: 'MAP(VARCHAR, VARCHAR)', order_info: 'MAP(VARCHAR, VARCHAR)'}`;

async function writeNdjson(records: readonly InventoryChange[], path: string): Promise<void> {
  const out = createWriteStream(path);
  let buf = '';
  for (const r of records) {
    const e = r.enrichment;
    buf += `${JSON.stringify({
      event_id: r.eventId, source: r.source, stream: r.stream, shard: r.shard, sequence: r.sequence, event_type: r.eventType,
      sku: r.sku, warehouse_id: r.warehouseId, quantity_before: r.quantityBefore, quantity_after: r.quantityAfter, delta: r.delta,
      order_id: r.orderId, customer_id: r.customerId, event_time: r.eventTime, ingest_time: r.ingestTime,
      enrichment_status: e.status, enrichment_failed: e.failed, customer: e.customer, order_info: e.order,
    })}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
      buf = '';
    }
  }
  out.end(buf);
  await new Promise<void>((resolve, reject) => out.once('finish', resolve).once('error', reject));
}

/** DuckDB, one thread, reading the NDJSON and writing one Parquet file with the same codec. */
async function ceiling(ndjson: string, out: string, codec: ParquetCodec): Promise<{ ms: number; cpuMs: number }> {
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await db.connect();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await con.run(`COPY (SELECT * REPLACE (make_timestamptz(event_time * 1000) AS event_time, make_timestamptz(ingest_time * 1000) AS ingest_time)
    FROM read_json('${ndjson}', format = 'newline_delimited', columns = ${JSON_COLUMNS})) TO '${out}' (FORMAT parquet, COMPRESSION ${codec})`);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  con.closeSync();
  db.closeSync();
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

async function encoderRun(records: readonly InventoryChange[], dir: string, args: Required<SinkBenchArgs>) {
  const encoder = new ParquetEncoder({ compression: args.codec, maxConcurrency: args.concurrency });
  try {
    // One warm-up batch so JIT and connection setup are not billed to the measured run.
    await encoder.encodeToFile(records.slice(0, Math.min(args.batch, records.length)), join(dir, 'warmup.parquet'));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let bytes = 0;
    let next = 0;
    const worker = async () => {
      for (let i = next++; i * args.batch < records.length; i = next++) {
        const part = records.slice(i * args.batch, (i + 1) * args.batch);
        // Read `bytes` after the await: `bytes += await ...` would lose the other worker's adds.
        const written = await encoder.encodeToFile(part, join(dir, `part-${i}.parquet`));
        bytes += written.bytes;
      }
    };
    await Promise.all(Array.from({ length: args.concurrency }, worker));
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    return { ms, bytes, cpuUsPerRow: (cpu.user + cpu.system) / records.length };
  } finally {
    await encoder.close();
  }
}

export async function run(args: SinkBenchArgs): Promise<Record<string, number>> {
  const opts: Required<SinkBenchArgs> = { batch: 50_000, concurrency: 2, codec: 'zstd', ...args };
  const dir = await mkdtemp(join(tmpdir(), 'sink-bench-'));
  try {
    const records = makeChanges(opts.events);
    const ndjson = join(dir, 'events.ndjson');
    await writeNdjson(records, ndjson);
    const enc = await encoderRun(records, dir, opts);
    const ceil = await ceiling(ndjson, join(dir, 'ceiling.parquet'), opts.codec);
    const encoderRowsPerSec = Math.round((records.length / enc.ms) * 1000);
    const ceilingRowsPerSec = Math.round((records.length / ceil.ms) * 1000);
    const ceilingCpuUsPerRow = (ceil.cpuMs * 1000) / records.length;
    return {
      events: records.length,
      batch: opts.batch,
      concurrency: opts.concurrency,
      encoderRowsPerSec,
      encoderCpuUsPerRow: Math.round(enc.cpuUsPerRow * 100) / 100,
      ceilingRowsPerSec,
      ceilingCpuUsPerRow: Math.round(ceilingCpuUsPerRow * 100) / 100,
      // CPU per row compared: steadier than wall time on a machine shared with other work.
      cpuRatio: Math.round((ceilingCpuUsPerRow / enc.cpuUsPerRow) * 1000) / 1000,
      ratio: Math.round((encoderRowsPerSec / ceilingRowsPerSec) * 1000) / 1000,
      parquetBytes: enc.bytes,
      ceilingParquetBytes: (await stat(join(dir, 'ceiling.parquet'))).size,
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const codec = (flag('codec') ?? 'zstd') as ParquetCodec;
  const result = await run({
    events: Number(flag('events') ?? 1_000_000),
    batch: Number(flag('batch') ?? 50_000),
    concurrency: Number(flag('concurrency') ?? 2),
    codec,
  });
  console.log(JSON.stringify(result));
}
