import { type ChildProcess, fork } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { bundleLambda } from '../../scripts/bundle-lambda.js';

export interface Bundles {
  /** A bundle with DuckDB beside it (symlinked node_modules, as the deploy copy would be). */
  readonly withDuckDb: string;
  /** The same index.mjs alone in a directory with no node_modules anywhere above it. */
  readonly withoutDuckDb: string;
  remove(): Promise<void>;
}

/** Bundles the handler once with scripts/bundle-lambda.ts, into temp directories. */
export async function bundleForTests(): Promise<Bundles> {
  const base = await mkdtemp(join(tmpdir(), 'lambda-bundle-'));
  const r = await bundleLambda({ outDir: join(base, 'with'), duckdb: 'link' });
  const bare = join(base, 'without');
  await mkdir(bare, { recursive: true });
  await copyFile(r.outfile, join(bare, 'index.mjs'));
  return { withDuckDb: r.outfile, withoutDuckDb: join(bare, 'index.mjs'), remove: () => rm(base, { recursive: true, force: true }) };
}

// What the Lambda Node runtime does, reduced: import the bundle once per process (a warm
// execution environment), then call `handler(event, context)` per invocation, one at a time.
const RUNNER = `
const { handler } = await import(process.argv[2]);
process.on('message', async (m) => {
  const until = Date.now() + m.remainingMs;
  const context = { awsRequestId: m.id, functionName: 'inventory-integrator-stream-handler', getRemainingTimeInMillis: () => Math.max(0, until - Date.now()) };
  try {
    process.send({ id: m.id, result: await handler(m.event, context) });
  } catch (err) {
    process.send({ id: m.id, error: { message: String(err && err.message), code: err && err.code } });
  }
});
process.send({ ready: true });
`;

export interface InvokeError extends Error {
  readonly code?: string;
}

export interface LambdaProcess {
  /** Invokes the handler; rejects with the handler's error (message and code) when it throws. */
  invoke(event: unknown, remainingMs?: number): Promise<{ batchItemFailures: Array<{ itemIdentifier: string }> }>;
  /** Everything the function printed (pino lines, EMF lines). */
  output(): string;
  readonly invocations: number;
  stop(): Promise<void>;
}

/**
 * A warm execution environment as a child process: the bundled handler imported by real Node
 * ESM (not through vitest's transform), environment variables as the function configuration.
 */
export async function startLambda(bundle: string, env: Record<string, string>): Promise<LambdaProcess> {
  // Beside the bundle, so it goes away with the bundle's directory.
  const runnerFile = join(dirname(bundle), 'runner.mjs');
  await writeFile(runnerFile, RUNNER);
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('INTEGRATOR') && k !== 'NODE_PATH' && k !== 'NODE_OPTIONS'));
  // The function's own /tmp, as Lambda gives each execution environment: the sink's scratch
  // folder, never removed by a function that is frozen instead of stopped, goes with the bundle.
  const tmp = await mkdtemp(join(dirname(bundle), 'tmp-'));
  const child: ChildProcess = fork(runnerFile, [bundle], { env: { ...clean, TMPDIR: tmp, ...env }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const pending = new Map<string, { resolve: (v: never) => void; reject: (e: Error) => void }>();
  let n = 0;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', (code, signal) => {
    for (const p of pending.values()) p.reject(new Error(`lambda process exited (${code ?? signal}):\n${out.slice(-4000)}`));
    pending.clear();
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`lambda process exited (${code}) before it was ready:\n${out}`)));
  });
  child.on('message', (m: { id?: string; result?: never; error?: { message: string; code?: string } }) => {
    const p = m.id === undefined ? undefined : pending.get(m.id);
    if (!p) return;
    pending.delete(m.id!);
    if (m.error) p.reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
    else p.resolve(m.result!);
  });
  return {
    invoke: (event, remainingMs = 60_000) =>
      new Promise((resolve, reject) => {
        const id = `req-${++n}`;
        pending.set(id, { resolve, reject });
        child.send({ id, event, remainingMs });
      }),
    output: () => out,
    get invocations() {
      return n;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
