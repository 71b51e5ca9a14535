import { parseBenchArgs } from './args.js';

/**
 * npm run bench -- [--events N] [--json] [--source kinesis] [--enrich postgres] [--sink]
 * Each benchmark measures a reference in the same run and reports the ratio to it, because the
 * machines are shared and absolute rates drift.
 */
async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2));
  let result: Record<string, unknown>;
  if (args.source === 'kinesis') result = await (await import('./kinesis.js')).run(args);
  else if (args.source !== undefined && args.source !== 'file') throw new Error(`--source ${args.source}: only "file" (default) and "kinesis" have benchmarks`);
  else if (args.enrich === 'postgres') result = await (await import('./enrich.js')).run(args);
  else if (args.enrich !== undefined) throw new Error(`--enrich ${args.enrich}: only "postgres" has a benchmark`);
  else if (args.sink) result = await (await import('./sink.js')).run({ events: args.events ?? 200_000 });
  else result = await (await import('./pipeline.js')).run({ events: args.events ?? 1_000_000 });
  if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else for (const [k, v] of Object.entries(result)) process.stdout.write(`${k.padEnd(24)} ${typeof v === 'number' ? Math.round(v * 1000) / 1000 : v}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
