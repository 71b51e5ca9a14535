export interface BenchArgs {
  readonly events?: number;
  readonly json: boolean;
  readonly source?: string;
  readonly enrich?: string;
  readonly sink?: boolean;
}

/** `--events 1000000 --json --source kinesis --enrich postgres --sink` */
export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const out: { events?: number; json: boolean; source?: string; enrich?: string; sink?: boolean } = { json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--json') out.json = true;
    else if (a === '--events') {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) throw new Error(`--events must be a positive whole number`);
      out.events = n;
    } else if (a === '--source') out.source = value();
    else if (a === '--enrich') out.enrich = value();
    else if (a === '--sink') out.sink = true;
    else throw new Error(`unknown option ${a}; use --events N, --json, --source kinesis, --enrich postgres, --sink`);
  }
  return out;
}
