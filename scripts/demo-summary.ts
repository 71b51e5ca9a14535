import { formatRows } from './demo-query.js';
import type { SourceReport } from './demo-report.js';
import { type DemoResult, shown } from './demo-run.js';

const sec = (s: number): string => (Number.isFinite(s) ? s.toFixed(2) : '-');
const cut = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function table(header: readonly string[], rows: ReadonlyArray<readonly (string | number)[]>): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  // First column left-aligned (names), the others right-aligned (numbers).
  const line = (r: readonly string[]) => r.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)].map((l) => `  ${l}`).join('\n');
}

const sum = (rs: readonly SourceReport[], f: (r: SourceReport) => number) => rs.reduce((n, r) => n + f(r), 0);

/** Keys of a tally, largest first: "ok 2950, missing 12". */
const tallyText = (t: Readonly<Record<string, number>>) =>
  Object.entries(t)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

/** The summary printed at the end of `npm run demo`. */
export function renderSummary(r: DemoResult): string {
  const rep = r.report;
  const out: string[] = [];
  const produced = sum(rep.sources, (s) => s.produced);
  out.push('', `Inventory integrator demo: ${produced} events through ${rep.sources.map((s) => s.source).join(', ')} in ${r.seconds.toFixed(1)} s`, '');
  const row = (s: SourceReport) => [s.source, s.produced, s.inLake, s.rawDuplicates, s.missing, s.malformed, s.deadLettered, s.objects, sec(s.latency.p50), sec(s.latency.p99)];
  out.push(
    table(
      ['source', 'produced', 'in lake', 'raw dups', 'missing', 'malformed', 'in DLQ', 'objects', 'p50 s', 'p99 s'],
      [
        ...rep.sources.map(row),
        ['total', produced, sum(rep.sources, (s) => s.inLake), sum(rep.sources, (s) => s.rawDuplicates), sum(rep.sources, (s) => s.missing), sum(rep.sources, (s) => s.malformed), sum(rep.sources, (s) => s.deadLettered), rep.objects, sec(rep.latency.p50), sec(rep.latency.p99)],
      ],
    ),
  );
  out.push('', `  latency: from the producer's send to the Parquet object holding the event being stored (batches flush after 1 s); max ${sec(rep.latency.max)} s over ${rep.latency.samples} events`);
  for (const s of rep.sources) out.push(`  ${s.source} workload: ${tallyText(s.labels)}`);
  for (const m of r.missing) out.push(`  ${m.source}: skipped, ${m.tool} is missing; install it with: ${m.install}`);

  const dlqTotal = sum(rep.sources, (s) => s.deadLettered);
  out.push('', `Dead-letter queue: ${dlqTotal} letters in ${rep.dlqObjects} objects (gzip NDJSON under lake/dlq/), each with its reason and the original bytes`);
  for (const d of rep.dlqReasons) {
    out.push(`  ${d.code.padEnd(20)} ${String(d.count).padStart(4)}`);
    for (const e of d.examples) out.push(`      e.g. ${cut(e, 110)}`);
  }

  const hours = rep.partitions;
  out.push('', `Raw layer: ${rep.objects} Parquet objects in ${hours.length} partitions (${hours.length > 0 ? `${hours[0]} … ${hours[hours.length - 1]}` : 'none'})`);
  const enrichment: Record<string, number> = {};
  for (const s of rep.sources) for (const [k, v] of Object.entries(s.enrichment)) enrichment[k] = (enrichment[k] ?? 0) + v;
  out.push(`  enrichment status: ${tallyText(enrichment)} (from ${r.database})`);
  if (rep.curated) {
    const t = rep.curated.tables;
    out.push(
      '',
      `Curated layer (deploy/glue/curated.sql run by DuckDB): ${Object.entries(t)
        .map(([k, v]) => `${k} ${v} rows`)
        .join(', ')}`,
      `  joined with reference tables exported from the database: ${rep.curated.referenceRows.orders} orders, ${rep.curated.referenceRows.customers} customers`,
    );
  }

  const lake = shown(r.lakeDir);
  out.push('', r.lakeKept ? `Query the lake (kept in ${lake}) with DuckDB:` : `Query the lake with DuckDB (run with --keep to leave it in ${lake}; removed now):`);
  out.push(`  npx tsx scripts/demo-query.ts "${r.queries.curated}"`, `  npx tsx scripts/demo-query.ts "${r.queries.raw}"`, '  (or paste the SQL into the duckdb CLI)', '');
  out.push(formatRows(r.queries.curatedRows, 12).replace(/^/gm, '  '));

  out.push('');
  if (rep.problems.length === 0) {
    out.push('Result: OK: every produced event is in the lake (or, if malformed, in the DLQ) and exactly once in the curated layer.');
  } else {
    out.push('Result: FAILED');
    for (const p of rep.problems) out.push(`  - ${p}`);
  }
  return `${out.join('\n')}\n`;
}
