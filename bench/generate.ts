import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { malformedLines, writeEventsFile, type WrittenEventsFile } from '../test/fixtures/events.js';

export interface GenerateArgs {
  /** NDJSON file to write (parent directories are created). */
  readonly out: string;
  readonly events: number;
  readonly seed?: number;
  readonly customers?: number;
  readonly orders?: number;
  readonly skus?: number;
  /** Zipf exponent of popularity; 0 is uniform. */
  readonly zipf?: number;
  readonly format?: 'canonical' | 'dynamodb';
  readonly eventTimeFormat?: 'iso' | 'epoch' | 'mixed';
  /** Adds one line of each malformed kind, spread evenly through the file. */
  readonly withMalformed?: boolean;
}

export interface GenerateResult extends WrittenEventsFile {
  readonly seconds: number;
}

/**
 * Writes a benchmark or demo input file: `count` deterministic inventory events (the same
 * arguments always give the same bytes), optionally with the malformed cases mixed in.
 */
export async function generateEvents(args: GenerateArgs): Promise<GenerateResult> {
  const t0 = performance.now();
  const malformed = args.withMalformed ? spread(args.events, malformedLines().map((m) => m.data)) : [];
  const written = await writeEventsFile(resolve(args.out), args.events, {
    seed: args.seed,
    customers: args.customers,
    orders: args.orders,
    skus: args.skus,
    zipf: args.zipf,
    format: args.format,
    eventTimeFormat: args.eventTimeFormat,
    malformed,
  });
  return { ...written, seconds: Math.round(performance.now() - t0) / 1000 };
}

/** Places the bad lines at evenly spaced line numbers among `events` good ones (1-based, increasing, inside the file). */
export function spread(events: number, bad: readonly Buffer[]): Array<{ line: number; data: Buffer }> {
  return bad.map((data, i) => ({ line: i + 1 + Math.floor(((i + 1) * events) / (bad.length + 1)), data }));
}

const int = (name: string, min: number) => (v: string): number => {
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be a whole number >= ${min}, got "${v}"`);
  return n;
};
const num = (name: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a number >= 0, got "${v}"`);
  return n;
};

export async function main(argv: readonly string[]): Promise<void> {
  const program = new Command('generate')
    .description('Write deterministic inventory events as NDJSON (for the benchmark and the demo)')
    .requiredOption('--out <file>', 'NDJSON file to write')
    .option('--events <n>', 'number of events', int('--events', 0), 1_000_000)
    .option('--seed <n>', 'PRNG seed', int('--seed', 0), 42)
    .option('--customers <n>', 'distinct customers', int('--customers', 1), 40_000)
    .option('--orders <n>', 'distinct orders', int('--orders', 1), 200_000)
    .option('--skus <n>', 'distinct skus', int('--skus', 1), 5_000)
    .option('--zipf <s>', 'Zipf exponent of popularity (0 = uniform)', num('--zipf'), 1)
    .option('--format <f>', 'canonical | dynamodb', (v) => {
      if (v !== 'canonical' && v !== 'dynamodb') throw new InvalidArgumentError(`--format must be canonical or dynamodb, got "${v}"`);
      return v;
    })
    .option('--event-time-format <f>', 'iso | epoch | mixed', (v) => {
      if (v !== 'iso' && v !== 'epoch' && v !== 'mixed') throw new InvalidArgumentError(`--event-time-format must be iso, epoch or mixed, got "${v}"`);
      return v;
    })
    .option('--with-malformed', 'mix in one line of each malformed kind')
    .parse([...argv], { from: 'user' });
  const o = program.opts<{
    out: string;
    events: number;
    seed: number;
    customers: number;
    orders: number;
    skus: number;
    zipf: number;
    format?: 'canonical' | 'dynamodb';
    eventTimeFormat?: 'iso' | 'epoch' | 'mixed';
    withMalformed?: boolean;
  }>();
  const result = await generateEvents({ ...o, withMalformed: o.withMalformed === true });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
