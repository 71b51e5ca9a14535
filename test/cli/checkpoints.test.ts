import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { DynamoDbLeaseCoordinator } from '../../src/checkpoints/dynamodb-lease-coordinator.js';
import { type DynamoDbLocal, startDynamoDbLocal } from '../stack/dynamodb-local.js';

const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

const run = promisify(execFile);

/** Runs the real command line; resolves with its exit code and output instead of throwing. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/runtime/main.ts', ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Issue 6: `checkpoints list|set|reset`, refusing to move a shard a live worker holds. */
describe('inventory-integrator checkpoints', () => {
  let local: DynamoDbLocal;
  let dir: string;
  let config: string;
  const TABLE = 'cli-leases';
  const STREAM = 'cli-stream';

  beforeAll(async () => {
    local = await startDynamoDbLocal();
    dir = await mkdtemp(join(tmpdir(), 'cli-checkpoints-'));
    config = join(dir, 'service.yaml');
    await writeFile(
      config,
      stringify({
        source: { type: 'kinesis', streamName: STREAM, aws: { endpoint: 'http://127.0.0.1:9', ...CREDENTIALS } },
        sink: { type: 'file', dir: join(dir, 'lake') },
        checkpoints: { type: 'dynamodb', tableName: TABLE, aws: { endpoint: local.endpoint, ...CREDENTIALS } },
      }),
    );
  });
  afterAll(async () => {
    await local?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists, refuses to move a held shard unless forced, and resets once the leases are back', async () => {
    const worker = new DynamoDbLeaseCoordinator({ client: local.dynamodb(), tableName: TABLE, workerId: 'worker-1', leaseDurationMs: 60_000, renewIntervalMs: 0 });
    await worker.syncShards('kinesis', STREAM, [
      { shard: 's0', parents: [] },
      { shard: 's1', parents: [] },
    ]);
    await worker.claim('kinesis', STREAM);
    await worker.checkpoint({ source: 'kinesis', stream: STREAM, shard: 's0', seq: '100' });

    const listed = await cli('checkpoints', 'list', '--config', config);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/kinesis\tcli-stream\ts0\t100\t/);

    const refused = await cli('checkpoints', 'set', '--config', config, '--shard', 's0', '--seq', '50');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/refusing: leases are held by running workers: cli-stream\/s0 \(held by worker-1\)/);

    const badSeq = await cli('checkpoints', 'set', '--config', config, '--shard', 's0', '--seq', 'fifty');
    expect(badSeq.code).toBe(2);
    expect(badSeq.stderr).toMatch(/--seq "fifty" is not a sequence number/);

    const forced = await cli('checkpoints', 'set', '--config', config, '--shard', 's0', '--seq', '50', '--force');
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('cli-stream/s0: 100 → 50');

    await worker.releaseAll();
    const json = JSON.parse((await cli('checkpoints', 'list', '--config', config, '--json')).stdout) as Array<{ shard: string; seq: string }>;
    expect(json.map((c) => [c.shard, c.seq])).toEqual([['s0', '50']]);

    const reset = await cli('checkpoints', 'reset', '--config', config);
    expect(reset.code).toBe(0);
    expect(reset.stdout).toContain('deleted 1 checkpoint of cli-stream');
    expect((await cli('checkpoints', 'list', '--config', config)).stdout).toContain('no checkpoints');
  });
});
