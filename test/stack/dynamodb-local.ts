import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { freePort, startProcess } from './process.js';

/** Dummy credentials: DynamoDB Local checks only that some are present. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
export const LOCAL_REGION = 'us-east-1';

export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly pid: number;
  /** A DynamoDB client pointed at this instance. */
  dynamodb(): DynamoDBClient;
  /** A DynamoDB Streams client pointed at this instance. */
  streams(): DynamoDBStreamsClient;
  /** Stops the JVM by the pid this harness started. */
  stop(): Promise<void>;
}

/** The jar ships inside the npm package amplify-dynamodb-simulator, under emulator/. */
export function dynamoDbLocalDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('amplify-dynamodb-simulator')), 'emulator');
}

function assertJava(): void {
  const r = spawnSync('java', ['-version'], { stdio: 'ignore' });
  if (r.error || r.status !== 0) {
    throw new Error('DynamoDB Local needs a Java runtime and `java` was not found on PATH: run `apt-get install -y default-jre-headless` (scripts/setup-machine.sh does this in CI)');
  }
}

/**
 * Starts DynamoDB Local in memory on a free port and resolves once it answers API calls.
 * `-sharedDb` so every client sees the same tables whatever its credentials and region;
 * `-disableTelemetry` so the emulator never reaches beyond the machine.
 */
export async function startDynamoDbLocal(opts: { timeoutMs?: number } = {}): Promise<DynamoDbLocal> {
  assertJava();
  const dir = dynamoDbLocalDir();
  const jar = join(dir, 'DynamoDBLocal.jar');
  if (!existsSync(jar)) throw new Error(`DynamoDB Local jar not found at ${jar}: is amplify-dynamodb-simulator installed (npm ci)?`);
  const port = await freePort();
  const started = await startProcess(
    'java',
    [`-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`, '-Xmx256m', '-jar', jar, '-inMemory', '-sharedDb', '-disableTelemetry', '-port', String(port)],
    { cwd: dir, name: 'DynamoDB Local', timeoutMs: opts.timeoutMs ?? 60_000, ready: (out) => out.includes('CorsParams') },
  );
  const endpoint = `http://127.0.0.1:${port}`;
  const clients: Array<{ destroy(): void }> = [];
  const dynamodb = () => {
    const c = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 3 });
    clients.push(c);
    return c;
  };
  const streams = () => {
    const c = new DynamoDBStreamsClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 3 });
    clients.push(c);
    return c;
  };
  try {
    await waitUntilAnswering(dynamodb(), opts.timeoutMs ?? 60_000);
  } catch (err) {
    await started.stop();
    throw new Error(`DynamoDB Local started but did not answer; output:\n${started.output().slice(-2000)}`, { cause: err });
  }
  return {
    endpoint,
    pid: started.child.pid ?? -1,
    dynamodb,
    streams,
    async stop() {
      for (const c of clients) c.destroy();
      await started.stop();
    },
  };
}

/** The banner prints before Jetty listens; an API call is the real readiness check. */
async function waitUntilAnswering(client: DynamoDBClient, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await client.send(new ListTablesCommand({ Limit: 1 }));
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
