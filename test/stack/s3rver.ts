import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startProcess } from './process.js';

export interface S3Stack {
  readonly endpoint: string;
  readonly bucket: string;
  /** A new client pointed at the emulator (path-style, credentials S3RVER/S3RVER). */
  client(): S3Client;
  stop(): Promise<void>;
}

/**
 * s3rver as a child process on a free loopback port (it picks the port; we read it back), with
 * one bucket and a throw-away data directory. A child keeps its exception handlers and event
 * loop out of the test process.
 */
export async function startS3rver(bucket = 'lake'): Promise<S3Stack> {
  const dir = await mkdtemp(join(tmpdir(), 's3rver-'));
  const bin = createRequire(import.meta.url).resolve('s3rver/bin/s3rver.js');
  const proc = await startProcess(process.execPath, [bin, '-d', dir, '-a', '127.0.0.1', '-p', '0', '--configure-bucket', bucket], {
    name: 's3rver',
    ready: (out) => /S3rver listening on [\d.]+:\d+/.test(out),
  });
  const port = Number(/S3rver listening on [\d.]+:(\d+)/.exec(proc.output())![1]);
  const endpoint = `http://127.0.0.1:${port}`;
  const clients: S3Client[] = [];
  return {
    endpoint,
    bucket,
    client() {
      const c = new S3Client({
        endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
        requestHandler: new NodeHttpHandler(),
      });
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.destroy();
      await proc.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
