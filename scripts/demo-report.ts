import { compareSeq } from '../src/core/position.js';
import type { Produced } from './demo-produce.js';
import type { DemoSource } from './demo-prereqs.js';
import type { LakeContents, LakeRow } from './demo-lake.js';
import { lakeKey } from './demo-workload.js';

/** The demo's findings for one source: what went in, what the lake and the DLQ hold. */
export interface SourceReport {
  readonly source: DemoSource;
  readonly produced: number;
  readonly malformed: number;
  /** Distinct events of this source in the raw layer, matched to what was produced. */
  readonly inLake: number;
  /** Extra raw copies of an event (at-least-once); the curated layer keeps one. */
  readonly rawDuplicates: number;
  /** Produced good events not found in the lake. */
  readonly missing: number;
  /** Lake rows that match nothing produced. */
  readonly unexpected: number;
  readonly deadLettered: number;
  readonly dlqByCode: Readonly<Record<string, number>>;
  readonly expectedDlqByCode: Readonly<Record<string, number>>;
  readonly objects: number;
  /** Sent → object stored, seconds. */
  readonly latency: { readonly p50: number; readonly p99: number; readonly max: number; readonly samples: number };
  readonly enrichment: Readonly<Record<string, number>>;
  readonly labels: Readonly<Record<string, number>>;
}

export interface CuratedReport {
  readonly tables: Readonly<Record<string, number>>;
  readonly referenceRows: { readonly orders: number; readonly customers: number };
}

export interface DemoReport {
  readonly sources: readonly SourceReport[];
  readonly partitions: readonly string[];
  readonly objects: number;
  readonly dlqObjects: number;
  /** Per DLQ code: how many, and a few of the distinct reasons the services gave. */
  readonly dlqReasons: ReadonlyArray<{ readonly code: string; readonly count: number; readonly examples: readonly string[] }>;
  readonly latency: SourceReport['latency'];
  readonly curated?: CuratedReport;
  /** Everything that contradicts "every produced event is in the lake or the DLQ, once in curated". */
  readonly problems: readonly string[];
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const latencyOf = (secs: number[]) => {
  const sorted = [...secs].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? Number.NaN, samples: sorted.length };
};

const tally = <T>(items: readonly T[], key: (t: T) => string): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const i of items) out[key(i)] = (out[key(i)] ?? 0) + 1;
  return out;
};

const sameCounts = (a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>) =>
  [...new Set([...Object.keys(a), ...Object.keys(b)])].every((k) => (a[k] ?? 0) === (b[k] ?? 0));

/** Event order within the source, so repeated keys (an item deleted twice) match in send order. */
const byPosition = (a: LakeRow, b: LakeRow) => (a.shard === b.shard ? compareSeq(a.sequence, b.sequence) : a.shard < b.shard ? -1 : 1);

function sourceReport(p: Produced, lake: LakeContents, latencies: number[]): SourceReport {
  const rows = lake.rows.filter((r) => r.source === p.source);
  const distinct = new Map<string, LakeRow>();
  for (const r of rows) if (!distinct.has(r.eventId)) distinct.set(r.eventId, r);
  const sent = new Map([...p.sentAt].map(([k, v]) => [k, [...v]]));
  let unexpected = 0;
  const secs: number[] = [];
  for (const r of [...distinct.values()].sort(byPosition)) {
    const times = sent.get(lakeKey(r.sku, r.warehouseId, r.eventType === 'remove' ? 'remove' : r.eventTime));
    const at = times?.shift();
    if (at === undefined) unexpected++;
    else secs.push((r.storedAt - at) / 1000);
  }
  latencies.push(...secs);
  let missing = 0;
  for (const v of sent.values()) missing += v.length;
  const letters = lake.deadLetters.filter((l) => l.source === p.source);
  return {
    source: p.source,
    produced: p.good,
    malformed: p.malformed.length,
    inLake: distinct.size - unexpected,
    rawDuplicates: rows.length - distinct.size,
    missing,
    unexpected,
    deadLettered: letters.length,
    dlqByCode: tally(letters, (l) => l.code),
    expectedDlqByCode: tally(p.malformed, (m) => m.code),
    objects: lake.objects.get(p.source) ?? 0,
    latency: latencyOf(secs),
    enrichment: tally([...distinct.values()], (r) => r.enrichmentStatus),
    labels: Object.fromEntries(p.labels),
  };
}

/** Checks the lake against what was produced; `problems` is empty when nothing was lost or invented. */
export function buildReport(produced: readonly Produced[], lake: LakeContents, curated?: CuratedReport): DemoReport {
  const all: number[] = [];
  const sources = produced.map((p) => sourceReport(p, lake, all));
  const problems: string[] = [];
  for (const s of sources) {
    if (s.missing > 0) problems.push(`${s.source}: ${s.missing} of ${s.produced} produced events are not in the lake`);
    if (s.unexpected > 0) problems.push(`${s.source}: ${s.unexpected} lake rows match no produced event`);
    if (!sameCounts(s.dlqByCode, s.expectedDlqByCode)) {
      problems.push(`${s.source}: DLQ holds ${JSON.stringify(s.dlqByCode)}, expected ${JSON.stringify(s.expectedDlqByCode)} for the malformed records sent`);
    }
  }
  const good = sources.reduce((n, s) => n + s.inLake, 0);
  const curatedRows = curated?.tables.inventory_changes_curated;
  if (curated && curatedRows !== good) problems.push(`curated inventory_changes_curated has ${curatedRows ?? 0} rows, expected ${good} (one per distinct event)`);
  const reasons = new Map<string, { count: number; examples: string[] }>();
  for (const l of lake.deadLetters) {
    let r = reasons.get(l.code);
    if (!r) reasons.set(l.code, (r = { count: 0, examples: [] }));
    r.count++;
    if (r.examples.length < 3 && !r.examples.includes(l.reason)) r.examples.push(l.reason);
  }
  return {
    sources,
    partitions: lake.partitions,
    objects: [...lake.objects.values()].reduce((a, b) => a + b, 0),
    dlqObjects: lake.dlqObjects,
    dlqReasons: [...reasons].map(([code, r]) => ({ code, ...r })).sort((a, b) => b.count - a.count),
    latency: latencyOf(all),
    ...(curated ? { curated } : {}),
    problems,
  };
}
