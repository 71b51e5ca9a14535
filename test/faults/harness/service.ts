import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { type Started, startProcess } from '../../stack/process.js';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(here, '..', '..', '..');
const MAIN = join(ROOT, 'src', 'runtime', 'main.ts');

let entry: Promise<string[]> | undefined;

/**
 * How to start the CLI: by default the service bundled with esbuild (the
 * same code; it starts about 2 s sooner than through tsx on a loaded 2-core machine, which adds
 * up over a dozen restarts). FAULTS_SERVICE=tsx runs src/runtime/main.ts through tsx instead.
 * The bundle sits three folders below the root so curated.sql is found where the sources look.
 */
export function serviceCommand(): Promise<string[]> {
  entry ??= (async () => {
    if (process.env.FAULTS_SERVICE === 'tsx') return ['--import', 'tsx', MAIN];
    const dir = join(ROOT, 'node_modules', '.cache', 'inventory-faults');
    mkdirSync(dir, { recursive: true });
    const { build } = await import('esbuild');
    const out = await build({ entryPoints: [MAIN], bundle: true, platform: 'node', format: 'esm', packages: 'external', write: false, logLevel: 'warning' });
    const code = out.outputFiles[0]!.contents;
    // Named by content: test processes running side by side share one file, and nothing needs
    // deleting at exit (vitest's workers may not get to run exit handlers). Old ones are pruned.
    const name = `main-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`;
    const outfile = join(dir, name);
    if (!existsSync(outfile)) {
      const tmp = `${outfile}.${process.pid}.tmp`;
      writeFileSync(tmp, code);
      renameSync(tmp, outfile);
    }
    for (const f of readdirSync(dir)) {
      try {
        const p = join(dir, f);
        if (f !== name && Date.now() - statSync(p).mtimeMs > 3_600_000) rmSync(p, { force: true });
      } catch {
        /* pruned by another test process meanwhile */
      }
    }
    return [outfile];
  })();
  return entry;
}

/** Writes a service configuration (the same YAML a user writes) and returns its path. */
export async function writeConfig(dir: string, name: string, config: Record<string, unknown>): Promise<string> {
  const path = join(dir, `${name}.yaml`);
  await writeFile(path, stringify(config));
  return path;
}

/** Runs the CLI to completion (e.g. `config check`), with its exit code and both outputs. */
export async function runCli(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...(await serviceCommand()), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  return { code, stdout, stderr };
}

export interface Service extends Started {
  /** Resolves with the exit code (or the signal) once the process has ended. */
  readonly exited: Promise<number | NodeJS.Signals>;
  /** SIGKILL by pid: no flush, no checkpoint, no lease hand-back. Resolves once it is gone. */
  crash(): Promise<void>;
  /** SIGTERM: the graceful drain. Resolves with the exit code. */
  drain(): Promise<number | NodeJS.Signals>;
}

/**
 * The container service as a child process: `run --config FILE`, HTTP on a free port. Run by
 * node itself (a bundle, or `--import tsx`), never the tsx CLI, which runs the script in a
 * grandchild that a SIGKILL to the CLI would leave running.
 */
export async function startService(configPath: string, opts: { name?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Service> {
  const started = await startProcess(process.execPath, [...(await serviceCommand()), 'run', '--config', configPath, '--port', '0'], {
    cwd: ROOT,
    env: opts.env ?? process.env,
    name: opts.name ?? 'service',
    timeoutMs: opts.timeoutMs ?? 90_000,
    ready: (out) => out.includes('service listening on'),
  });
  const { child } = started;
  const exited = new Promise<number | NodeJS.Signals>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode ?? child.signalCode!);
    else child.once('exit', (code, signal) => resolve(code ?? signal!));
  });
  const signal = (s: NodeJS.Signals) => {
    if (child.pid && child.exitCode === null && child.signalCode === null) process.kill(child.pid, s);
  };
  return {
    ...started,
    exited,
    async crash() {
      signal('SIGKILL');
      await exited;
      await started.stop();
    },
    async drain() {
      signal('SIGTERM');
      const code = await exited;
      await started.stop();
      return code;
    },
  };
}

export { until } from '../../multi-worker/spawn.js';
