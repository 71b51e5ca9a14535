import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventLines, seededRng } from '../fixtures/events.js';
import { intBetween } from '../fixtures/random.js';
import { createStream, type Kinesalite, startKinesalite } from '../stack/kinesalite.js';
import { COMPACT_EVENTS, kinesisSource, serviceConfig } from './harness/configs.js';
import { allDelivered, finalCheck } from './harness/lake-check.js';
import { KinesisProducer } from './harness/producers.js';
import { type Service, startService, until, writeConfig } from './harness/service.js';

/**
 * Case 1: the container service (a child process: `run --config`) reading a 4-shard Kinesis
 * stream on kinesalite, checkpoints in a file, Parquet lake in a directory, killed with SIGKILL
 * ten times at seeded random moments while events keep arriving, restarted each time.
 */
const SEED = 20261121;
const KILLS = 10;
const STREAM = 'faults-kill';

let kin: Kinesalite;
let dir: string;
let current: Service | undefined;

beforeAll(async () => {
  kin = await startKinesalite();
  dir = await mkdtemp(join(tmpdir(), 'faults-kill-'));
  await createStream(kin.client(), STREAM, 4);
});
afterAll(async () => {
  await current?.stop();
  await kin?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('fault: SIGKILL at random moments', () => {
  it(`killed ${KILLS} times and restarted: every event in the raw layer, once in curated`, async () => {
    const rng = seededRng(SEED);
    const lake = join(dir, 'lake');
    const config = await writeConfig(dir, 'service', serviceConfig({ source: kinesisSource(kin.endpoint, STREAM), lakeDir: lake, checkpointFile: join(dir, 'checkpoints.json') }));
    const lines = [...eventLines(400, { seed: SEED, ...COMPACT_EVENTS })];
    const producer = new KinesisProducer(kin.client(), STREAM);
    let producing = true;
    let n = 0;
    const background = (async () => {
      while (producing) {
        await producer.put(Array.from({ length: 40 }, () => lines[n++ % lines.length]!));
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const kills: number[] = [];
    try {
      for (let k = 0; k < KILLS; k++) {
        current = await startService(config, { name: `service #${k + 1}` });
        // Seeded moments from just after start-up (mid shard sync) to a few batches in.
        const after = intBetween(rng, 100, 2500);
        await new Promise((r) => setTimeout(r, after));
        await current.crash();
        kills.push(after);
        current = undefined;
      }
      current = await startService(config, { name: 'final service' });
      await new Promise((r) => setTimeout(r, 1000));
      producing = false;
      await background;
      await until('every produced event in the lake', 120_000, () => allDelivered(lake, producer.eventIds));
      expect(await current.drain()).toBe(0);
      current = undefined;
    } finally {
      producing = false;
      await background;
    }
    const { raw } = await finalCheck(`SIGKILL x${KILLS} (Kinesis, file lake)`, lake, producer.eventIds, `kills after ${kills.join(',')} ms`);
    expect(raw.size).toBe(producer.eventIds.length);
  }, 300_000);
});
