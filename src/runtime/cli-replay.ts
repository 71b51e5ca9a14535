import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { IntegratorError } from '../core/errors.js';
import { MemoryMetrics } from '../core/metrics.js';
import { createLogger } from '../observability/logger.js';
import type { ReplayEnd } from './bounded-source.js';
import { createProgress } from './progress.js';
import { type ReplayStart, runReplay } from './replay.js';

function parseTime(flag: string, v: string): number {
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(ms)) throw new IntegratorError('CONFIG_INVALID', `${flag} "${v}" is neither an ISO-8601 time nor epoch milliseconds`);
  return ms;
}

interface ReplayFlags {
  config: string;
  fromCheckpoint?: string | boolean;
  fromTimestamp?: string;
  fromSequence?: string;
  shard?: string;
  to?: string;
  toTimestamp?: string;
  toSequence?: string;
  dryRun?: boolean;
  idleSeconds: string;
}

export function parseReplayFlags(o: ReplayFlags): { start: ReplayStart; end: ReplayEnd } {
  const starts = [o.fromCheckpoint !== undefined, o.fromTimestamp !== undefined, o.fromSequence !== undefined].filter(Boolean).length;
  if (starts !== 1) throw new IntegratorError('CONFIG_INVALID', 'give exactly one of --from-checkpoint [file], --from-timestamp TIME, --from-sequence SEQ');
  const start: ReplayStart =
    o.fromTimestamp !== undefined
      ? { kind: 'timestamp', ms: parseTime('--from-timestamp', o.fromTimestamp) }
      : o.fromSequence !== undefined
        ? { kind: 'sequence', seq: o.fromSequence, ...(o.shard ? { shard: o.shard } : {}) }
        : { kind: 'checkpoint', ...(typeof o.fromCheckpoint === 'string' ? { file: o.fromCheckpoint } : {}) };
  const ends = [o.to !== undefined, o.toTimestamp !== undefined, o.toSequence !== undefined].filter(Boolean).length;
  if (ends > 1) throw new IntegratorError('CONFIG_INVALID', 'give at most one of --to now, --to-timestamp TIME, --to-sequence SEQ');
  if (o.to !== undefined && o.to !== 'now') throw new IntegratorError('CONFIG_INVALID', `--to "${o.to}": only "now" (use --to-timestamp or --to-sequence for the others)`);
  const end: ReplayEnd =
    o.toTimestamp !== undefined ? { kind: 'timestamp', ms: parseTime('--to-timestamp', o.toTimestamp) } : o.toSequence !== undefined ? { kind: 'sequence', seq: o.toSequence } : { kind: 'now' };
  return { start, end };
}

export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .description('re-read a range of the source into the same object keys (a replayed range overwrites, never duplicates)')
    .requiredOption('-c, --config <file>', 'YAML configuration file (the service’s own)')
    .option('--from-checkpoint [file]', 'start at the current checkpoints, or at those saved by "checkpoints list --json > file"')
    .option('--from-timestamp <time>', 'start at records the stream received at or after this time (ISO-8601 or epoch ms)')
    .option('--from-sequence <seq>', 'start after this sequence number (checkpoint semantics; a file line number for files)')
    .option('--shard <id>', 'with --from-sequence: the shard it belongs to (only that shard is replayed)')
    .option('--to <now>', 'end at the records received before the replay started (default)')
    .option('--to-timestamp <time>', 'end at records received up to this time')
    .option('--to-sequence <seq>', 'end after this sequence number')
    .option('--dry-run', 'list the partitions and objects it would write, and write nothing')
    .option('--idle-seconds <s>', 'with nothing read for this long, the replay has caught up', '10')
    .action(async (o: ReplayFlags) => {
      const config = loadConfig(o.config);
      const { start, end } = parseReplayFlags(o);
      const idleMs = Number(o.idleSeconds) * 1000;
      if (!Number.isFinite(idleMs) || idleMs <= 0) throw new IntegratorError('CONFIG_INVALID', `--idle-seconds "${o.idleSeconds}" is not a positive number`);
      const log = createLogger({ level: config.logging.level });
      const progress = createProgress({ log, label: 'replay' });
      const summary = await runReplay(config, { start, end, dryRun: Boolean(o.dryRun), idleMs, log, metrics: new MemoryMetrics(), progress });
      if (summary.plannedObjects) {
        const partitions = [...new Set(summary.plannedObjects.map((x) => x.partition.path))].sort();
        process.stdout.write(`dry run: would write ${summary.plannedObjects.length} objects in ${partitions.length} partitions (${summary.written} records; ${summary.deadLettered} to the DLQ)\n`);
        for (const p of partitions) process.stdout.write(`  partition ${p}\n`);
        for (const x of summary.plannedObjects) process.stdout.write(`  object ${x.key} (${x.records} records)\n`);
      } else {
        process.stdout.write(`replayed ${summary.received} records: ${summary.written} written in ${summary.objects} objects, ${summary.deadLettered} to the DLQ\n`);
      }
    });
}
