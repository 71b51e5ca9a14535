/**
 * `npm run demo`: the whole system on the local stack in one command (docs/demo.md).
 *
 *   npm run demo                      # 3000 inventory changes; the lake stays in .demo/lake to query
 *   npm run demo -- --clean           # remove the lake at the end too
 *   npm run demo -- --events 20000    # a bigger workload
 *
 * Exit codes: 0 every produced event is in the lake or the DLQ and once in the curated layer;
 * 1 the demo failed (the message says why; everything it started is stopped); 2 bad usage.
 */
import { writeFile } from 'node:fs/promises';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { runDemo } from './demo-run.js';
import { renderSummary } from './demo-summary.js';

interface CliOptions {
  readonly events: number;
  readonly keep: boolean;
  readonly clean: boolean;
  readonly dir: string;
  readonly embeddedDb: boolean;
  readonly json?: string;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000) throw new InvalidArgumentError(`"${v}" is not a whole number between 1 and 1000000`);
  return n;
}

function parseArgs(argv: readonly string[]): CliOptions {
  const program = new Command()
    .name('npm run demo --')
    .description('Runs the inventory integrator end to end on the local stack and prints what reached the lake.')
    .option('-n, --events <n>', 'inventory changes to produce over all sources', positiveInt, 3000)
    .option('--keep', 'leave the lake (Parquet, DLQ, curated tables) in <dir>/lake to query it afterwards (the default)', true)
    .option('--clean', 'remove the lake at the end instead of leaving it', false)
    .option('--dir <dir>', 'working directory: the lake goes to <dir>/lake, configs and logs to <dir>/run (both replaced on each run)', '.demo')
    .option('--embedded-db', 'use the embedded PostgreSQL even when one runs at 127.0.0.1:5432', false)
    .option('--json <file>', 'also write the summary as JSON to this file')
    .exitOverride()
    .showHelpAfterError();
  program.parse([...argv], { from: 'user' });
  return program.opts<CliOptions>();
}

async function main(): Promise<number> {
  let opts: CliOptions;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    return err instanceof CommanderError && err.exitCode === 0 ? 0 : 2;
  }
  const started = Date.now();
  const say = (line: string) => process.stdout.write(`[demo ${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);
  const abort = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (abort.signal.aborted) {
      process.stderr.write(`demo: second ${sig}, exiting now\n`);
      process.exit(130);
    }
    say(`${sig}: stopping everything the demo started …`);
    abort.abort(new Error(`interrupted by ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await runDemo({ events: opts.events, keep: opts.keep && !opts.clean, dir: opts.dir, say, signal: abort.signal, embeddedDatabase: opts.embeddedDb });
    process.stdout.write(renderSummary(result));
    if (opts.json) await writeFile(opts.json, `${JSON.stringify(result, null, 2)}\n`);
    return result.report.problems.length === 0 ? 0 : 1;
  } catch (err) {
    process.stderr.write(`\ndemo failed: ${(err as Error).message}\n`);
    return 1;
  }
}

// Exit explicitly: a client library keeping a socket open must not keep a finished demo alive.
process.exit(await main());
