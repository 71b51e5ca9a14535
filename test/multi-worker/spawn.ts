import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Started, startProcess } from '../stack/process.js';
import type { WorkerSettings } from './kinesis-worker.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

/**
 * Starts kinesis-worker.ts in its own process and resolves once it is wired. `node --import tsx`
 * rather than the tsx CLI: the CLI runs the script in a child process, and a SIGKILL to the CLI
 * would leave that child running.
 */
export function startKinesisWorker(settings: WorkerSettings): Promise<Started> {
  return startProcess(process.execPath, ['--import', 'tsx', join(here, 'kinesis-worker.ts'), JSON.stringify(settings)], {
    cwd: root,
    ready: (out) => out.includes('READY'),
    timeoutMs: 60_000,
    name: settings.workerId,
  });
}

/** SIGKILL by pid: no final flush, no checkpoint, no lease hand-back. */
export function kill(w: Started): void {
  if (w.child.pid && w.child.exitCode === null && w.child.signalCode === null) process.kill(w.child.pid, 'SIGKILL');
}

export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
