import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One fault case's outcome, as the final check measured it. */
export interface CaseResult {
  readonly case: string;
  /** Events the test put into the source (good and poison). */
  readonly produced: number;
  /** Produced events found in the raw layer or the DLQ. */
  readonly found: number;
  readonly dlq: number;
  /** Event ids present more than once in the raw layer (allowed: at least once). */
  readonly rawRepeats: number;
  readonly curatedRows: number;
  /** Event ids present more than once in the curated layer (must be 0). */
  readonly curatedDuplicates: number;
  /** Produced events in neither the raw layer nor the DLQ (must be 0). */
  readonly lost: number;
  readonly note?: string;
}

/**
 * Where every case appends its row: set by the suite's global setup; without it (a file run on
 * its own under another config) a file named after the vitest main process, the workers' parent.
 */
export function summaryFile(): string {
  return process.env.FAULTS_SUMMARY_FILE ?? join(tmpdir(), `inventory-faults-summary-${process.ppid}.jsonl`);
}

export function recordCase(row: CaseResult): void {
  appendFileSync(summaryFile(), `${JSON.stringify(row)}\n`);
}

export function readSummary(file: string): CaseResult[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as CaseResult);
}

/** The table printed at the end of the run. */
export function formatSummary(rows: readonly CaseResult[]): string {
  const head = ['case', 'produced', 'found', 'dlq', 'raw repeats', 'curated rows', 'dup in curated', 'lost'];
  const body = rows.map((r) => [r.case, r.produced, r.found, r.dlq, r.rawRepeats, r.curatedRows, r.curatedDuplicates, r.lost].map(String));
  const total = ['TOTAL', ...(['produced', 'found', 'dlq', 'rawRepeats', 'curatedRows', 'curatedDuplicates', 'lost'] as const).map((k) => String(rows.reduce((s, r) => s + r[k], 0)))];
  const all = [head, ...body, total];
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => `${i === 0 ? ':' : '-'}${'-'.repeat(w)}${i === 0 ? '-' : ':'}`).join('|')}|`;
  return [line(head), rule, ...body.map(line), rule, line(total)].join('\n');
}
