import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatSummary, readSummary } from './harness/summary.js';

/**
 * The fault suite's global setup: one results file for the run (each case appends its row), and
 * at the end the summary table: cases, events produced and found, duplicates in curated, lost.
 */
export default function setup(): () => void {
  const file = join(tmpdir(), `inventory-faults-summary-${process.pid}-${Date.now()}.jsonl`);
  process.env.FAULTS_SUMMARY_FILE = file;
  return () => {
    const rows = readSummary(file);
    rmSync(file, { force: true });
    if (rows.length === 0) return;
    const bad = rows.filter((r) => r.lost > 0 || r.curatedDuplicates > 0);
    process.stdout.write(`\nFault-injection summary (${rows.length} cases):\n${formatSummary(rows)}\n${bad.length === 0 ? 'lost = 0 and duplicates in curated = 0 in every case.' : `FAILED: ${bad.map((r) => r.case).join(', ')}`}\n\n`);
  };
}
