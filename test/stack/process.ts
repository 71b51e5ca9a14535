import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** Asks the OS for a free loopback port (never a fixed one, so suites can run side by side). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export interface Started {
  readonly child: ChildProcess;
  readonly output: () => string;
  stop(): Promise<void>;
}

/**
 * Starts a process and resolves once `ready(output)` says so. The process is stopped by its own
 * pid (`stopSignal`, SIGTERM unless set, then SIGKILL) when `stop()` is called or the test process exits.
 */
export async function startProcess(
  command: string,
  args: readonly string[],
  opts: { ready: (output: string) => boolean; timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string; name?: string; stopSignal?: NodeJS.Signals },
): Promise<Started> {
  const child = spawn(command, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const onData = (b: Buffer) => {
    out += b.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  };
  process.once('exit', kill);
  const stop = async () => {
    process.off('exit', kill);
    if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    process.kill(child.pid, opts.stopSignal ?? 'SIGTERM');
    const t = setTimeout(kill, 3000);
    await exited;
    clearTimeout(t);
  };
  const name = opts.name ?? command;
  await new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => {
      void stop();
      reject(new Error(`${name} did not become ready within ${opts.timeoutMs ?? 30_000} ms; output:\n${out.slice(-2000)}`));
    }, opts.timeoutMs ?? 30_000);
    const check = () => {
      if (opts.ready(out)) {
        clearTimeout(deadline);
        child.stdout?.off('data', check);
        child.stderr?.off('data', check);
        resolve();
      }
    };
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    child.once('exit', (code, signal) => {
      clearTimeout(deadline);
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready; output:\n${out.slice(-2000)}`));
    });
  });
  return { child, output: () => out, stop };
}
