import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import { CreateStreamCommand, DescribeStreamSummaryCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { freePort, startProcess } from './process.js';

const require = createRequire(import.meta.url);

/** kinesalite in memory on loopback: stream state changes take effect at once. */
export interface Kinesalite {
  readonly endpoint: string;
  /** A Kinesis client for it; HTTP/1.1, since the SDK's default HTTP/2 handler fails against kinesalite. */
  client(): KinesisClient;
  stop(): Promise<void>;
}

const ZERO_DELAYS = { createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 1000 };

export function kinesisClient(endpoint: string): KinesisClient {
  return new KinesisClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    requestHandler: new NodeHttpHandler({ connectionTimeout: 5000, requestTimeout: 30_000 }),
    maxAttempts: 3,
  });
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
    stop: async () => {
      destroyClients();
      await proc.stop();
    },
  };
}

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
