import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import { CreateStreamCommand, DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { createKinesisClient } from '../../consumers/kinesis/create.js';
import { freePort, startProcess } from './process.js';

const require = createRequire(import.meta.url);

/** kinesalite in memory on loopback: stream state changes take effect at once. */
export interface Kinesalite {
  readonly endpoint: string;
  /** A Kinesis client for it; HTTP/1.1, since the SDK's default HTTP/2 handler fails against kinesalite. */
  client(): KinesisClient;
  /** CPU seconds (user + system) the emulator has used so far; undefined in process or off Linux. */
  cpuSeconds(): number | undefined;
  stop(): Promise<void>;
}

const ZERO_DELAYS = { createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 1000 };

/** The service's own client settings (consumers/kinesis/create.ts), pointed at the emulator. */
export function kinesisClient(endpoint: string): KinesisClient {
  return createKinesisClient({ region: 'us-east-1', endpoint, accessKeyId: 'local', secretAccessKey: 'local', maxAttempts: 3 });
}

/**
 * Starts kinesalite. By default as a child process (its own core, stopped by pid), which is what
 * the benchmark needs so the emulator does not share the event loop it measures; `inProcess`
 * serves it from this process through its module (faster to start, for small tests).
 */
export async function startKinesalite(opts: { inProcess?: boolean } = {}): Promise<Kinesalite> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const clients: KinesisClient[] = [];
  const client = () => {
    const c = kinesisClient(endpoint);
    clients.push(c);
    return c;
  };
  const destroyClients = () => {
    for (const c of clients.splice(0)) c.destroy();
  };

  if (opts.inProcess) {
    const kinesalite = require('kinesalite') as (o: object) => Server;
    const server = kinesalite(ZERO_DELAYS);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return {
      endpoint,
      client,
      cpuSeconds: () => undefined,
      stop: async () => {
        destroyClients();
        server.closeAllConnections?.();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  }

  const cli = require.resolve('kinesalite/cli.js');
  const proc = await startProcess(
    process.execPath,
    [cli, '--port', String(port), '--createStreamMs', '0', '--deleteStreamMs', '0', '--updateStreamMs', '0', '--shardLimit', '1000'],
    { ready: (out) => out.includes('Listening at'), timeoutMs: 20_000, name: 'kinesalite' },
  );
  return {
    endpoint,
    client,
    cpuSeconds: () => processCpuSeconds(proc.child.pid),
    stop: async () => {
      destroyClients();
      await proc.stop();
    },
  };
}

/** utime + stime of a process from /proc (Linux), in seconds. */
function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** USER_HZ: 100 on every Linux that Node supports. */
const CLOCK_TICKS_PER_SECOND = 100;

/** Creates a stream and waits until it is ACTIVE (immediately, with zero delays). */
export async function createStream(client: Pick<KinesisClient, 'send'>, name: string, shardCount: number): Promise<void> {
  await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shardCount }));
  for (let i = 0; i < 100; i++) {
    const s = await client.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    if (s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`stream ${name} did not become ACTIVE`);
}
