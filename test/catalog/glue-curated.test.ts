import {
  BatchCreatePartitionCommand,
  ConcurrentRunsExceededException,
  GetJobRunCommand,
  GetTableCommand,
  GetWorkflowRunCommand,
  StartJobRunCommand,
  StartWorkflowRunCommand,
  ThrottlingException,
  EntityNotFoundException,
  CreateTableCommand,
} from '@aws-sdk/client-glue';
import { afterEach, describe, expect, it } from 'vitest';
import { GlueCatalogConfig } from '../../src/catalog/config.js';
import { METRIC } from '../../src/core/metrics.js';
import { HOUR, T0, glueCatalog, glueError, hourPartition } from './glue-fixtures.js';

const LATENESS = 10 * 60_000;
const job = (extra: Record<string, unknown> = {}) => ({
  curated: { jobName: 'curate-inventory', allowedLatenessMs: LATENESS, pollIntervalMs: 10, busyRetryMs: 10, arguments: { '--curated_path': 's3://lake-bucket/curated/' }, ...extra },
});
/** The watermark at which hour `i` (after T0) is released: its end plus the allowed lateness. */
const released = (i: number) => T0 + (i + 1) * HOUR + LATENESS;
const partitionsArg = (call: { args: [{ input: { Arguments?: Record<string, string> } }] }) => JSON.parse(call.args[0].input.Arguments!['--partitions']!) as string[];

function withCatalogMocks(env: ReturnType<typeof glueCatalog>): void {
  env.glue.on(GetTableCommand).rejects(glueError(EntityNotFoundException));
  env.glue.on(CreateTableCommand).resolves({});
  env.glue.on(BatchCreatePartitionCommand).resolves({});
}

describe('curated job trigger', () => {
  let env: ReturnType<typeof glueCatalog>;
  afterEach(() => env.glue.restore());

  it('starts the job only once the watermark has passed the partition end plus the allowed lateness, and follows it to SUCCEEDED', async () => {
    env = glueCatalog(job());
    withCatalogMocks(env);
    env.glue.on(StartJobRunCommand).resolves({ JobRunId: 'jr_1' });
    env.glue.on(GetJobRunCommand).resolvesOnce({ JobRun: { JobRunState: 'RUNNING' } }).resolves({ JobRun: { JobRunState: 'SUCCEEDED', ExecutionTime: 42 } });

    await env.catalog.partitionsCommitted([hourPartition(0)], released(0) - 1);
    await env.catalog.idle();
    expect(env.glue.commandCalls(StartJobRunCommand)).toHaveLength(0);

    await env.catalog.partitionsCommitted([hourPartition(1)], released(0));
    await env.catalog.idle();

    const starts = env.glue.commandCalls(StartJobRunCommand);
    expect(starts).toHaveLength(1);
    expect(starts[0]!.args[0].input.JobName).toBe('curate-inventory');
    expect(starts[0]!.args[0].input.Arguments).toMatchObject({
      '--raw_path': 's3://lake-bucket/raw/inventory_changes/',
      '--raw_table': 'inventory_changes',
      '--curated_path': 's3://lake-bucket/curated/',
    });
    expect(partitionsArg(starts[0]!)).toEqual(['dt=2026-11-21/hour=00']);
    expect(env.glue.commandCalls(GetJobRunCommand)[0]!.args[0].input).toMatchObject({ JobName: 'curate-inventory', RunId: 'jr_1' });
    expect(env.metrics.counters.get(`${METRIC.curatedRuns}{catalog=glue,state=SUCCEEDED}`)).toBe(1);
    expect(env.catalog.curated!.finished).toEqual([{ runId: 'jr_1', outcome: 'SUCCEEDED', partitions: ['dt=2026-11-21/hour=00'], attempt: 1 }]);
    expect(env.catalog.curated!.waiting).toBe(1); // hour 1 still waits for the watermark
  });

  it('runs a partition again when late events commit to it after its run', async () => {
    env = glueCatalog(job());
    withCatalogMocks(env);
    env.glue.on(StartJobRunCommand).resolvesOnce({ JobRunId: 'jr_1' }).resolves({ JobRunId: 'jr_2' });
    env.glue.on(GetJobRunCommand).resolves({ JobRun: { JobRunState: 'SUCCEEDED' } });

    await env.catalog.partitionsCommitted([hourPartition(0)], released(0));
    await env.catalog.idle();
    await env.catalog.partitionsCommitted([hourPartition(0)], released(5)); // late data for hour 0
    await env.catalog.idle();

    expect(env.glue.commandCalls(StartJobRunCommand).map(partitionsArg)).toEqual([['dt=2026-11-21/hour=00'], ['dt=2026-11-21/hour=00']]);
  });

  it('queues a run refused with ConcurrentRunsExceededException, lets newly due partitions join it, and retries', async () => {
    // While the refused run waits, the next hour is released: it must ride along with the retry.
    let injected = false;
    env = glueCatalog(job(), {
      sleep: async () => {
        if (!injected && env.glue.commandCalls(StartJobRunCommand).length === 1) {
          injected = true;
          await env.catalog.partitionsCommitted([hourPartition(1)], released(1));
        }
      },
    });
    withCatalogMocks(env);
    env.glue.on(StartJobRunCommand).rejectsOnce(glueError(ConcurrentRunsExceededException, 'Concurrent runs exceeded for curate-inventory')).resolves({ JobRunId: 'jr_2' });
    env.glue.on(GetJobRunCommand).resolves({ JobRun: { JobRunState: 'SUCCEEDED' } });

    await env.catalog.partitionsCommitted([hourPartition(0)], released(0));
    await env.catalog.idle();

    const starts = env.glue.commandCalls(StartJobRunCommand);
    expect(starts).toHaveLength(2);
    expect(partitionsArg(starts[0]!)).toEqual(['dt=2026-11-21/hour=00']);
    expect(partitionsArg(starts[1]!)).toEqual(['dt=2026-11-21/hour=00', 'dt=2026-11-21/hour=01']);
    expect(env.log.messages('info')).toContain('curated run queued: too many concurrent runs');
    expect(env.metrics.total(METRIC.catalogFailures)).toBe(0);
    expect(env.metrics.counters.get(`${METRIC.curatedRuns}{catalog=glue,state=SUCCEEDED}`)).toBe(1);
  });

  it('logs and counts a failed job run, then runs the same partitions again', async () => {
    env = glueCatalog(job({ maxRunAttempts: 2 }));
    withCatalogMocks(env);
    env.glue.on(StartJobRunCommand).resolvesOnce({ JobRunId: 'jr_1' }).resolves({ JobRunId: 'jr_2' });
    env.glue.on(GetJobRunCommand, { RunId: 'jr_1' }).resolves({ JobRun: { JobRunState: 'FAILED', ErrorMessage: 'AnalysisException: Path does not exist' } });
    env.glue.on(GetJobRunCommand, { RunId: 'jr_2' }).resolves({ JobRun: { JobRunState: 'SUCCEEDED' } });

    await env.catalog.partitionsCommitted([hourPartition(0), hourPartition(1)], released(1));
    await env.catalog.idle();

    const starts = env.glue.commandCalls(StartJobRunCommand);
    expect(starts.map(partitionsArg)).toEqual([
      ['dt=2026-11-21/hour=00', 'dt=2026-11-21/hour=01'],
      ['dt=2026-11-21/hour=00', 'dt=2026-11-21/hour=01'],
    ]);
    expect(env.metrics.counters.get(`${METRIC.curatedRuns}{catalog=glue,state=FAILED}`)).toBe(1);
    expect(env.metrics.counters.get(`${METRIC.curatedRuns}{catalog=glue,state=SUCCEEDED}`)).toBe(1);
    const failed = env.log.entries.find((e) => e.msg === 'curated run failed');
    expect(failed?.level).toBe('error');
    expect(failed?.obj).toMatchObject({ runId: 'jr_1', state: 'FAILED', message: 'AnalysisException: Path does not exist', attempt: 1 });
  });

  it('gives up after maxRunAttempts failed runs and says which partitions lack a curated build', async () => {
    env = glueCatalog(job({ maxRunAttempts: 1 }));
    withCatalogMocks(env);
    env.glue.on(StartJobRunCommand).resolves({ JobRunId: 'jr_1' });
    env.glue.on(GetJobRunCommand).resolves({ JobRun: { JobRunState: 'TIMEOUT' } });

    await env.catalog.partitionsCommitted([hourPartition(0)], released(0));
    await env.catalog.idle();

    expect(env.glue.commandCalls(StartJobRunCommand)).toHaveLength(1);
    expect(env.metrics.counters.get(`${METRIC.curatedRuns}{catalog=glue,state=TIMEOUT}`)).toBe(1);
    expect(env.log.entries.find((e) => e.msg.startsWith('curated layer not rebuilt'))?.obj.partitions).toEqual(['dt=2026-11-21/hour=00']);
  });

  it('retries a throttled StartJobRun and keeps polling through a throttled GetJobRun', async () => {
    env = glueCatalog(job());
    withCatalogMocks(env);
    env.glue.on(StartJobRunCommand).rejectsOnce(glueError(ThrottlingException)).resolves({ JobRunId: 'jr_1' });
    env.glue.on(GetJobRunCommand).rejectsOnce(glueError(ThrottlingException)).resolves({ JobRun: { JobRunState: 'SUCCEEDED' } });

    await env.catalog.partitionsCommitted([hourPartition(0)], released(0));
    await env.catalog.idle();

    expect(env.glue.commandCalls(StartJobRunCommand)).toHaveLength(2);
    expect(env.metrics.counters.get(`${METRIC.curatedRuns}{catalog=glue,state=SUCCEEDED}`)).toBe(1);
    expect(env.metrics.total(METRIC.catalogFailures)).toBe(0);
  });

  it('splits many due partitions into runs of at most maxPartitionsPerRun', async () => {
    env = glueCatalog(job({ maxPartitionsPerRun: 2 }));
    withCatalogMocks(env);
    env.glue.on(StartJobRunCommand).resolves({ JobRunId: 'jr' });
    env.glue.on(GetJobRunCommand).resolves({ JobRun: { JobRunState: 'SUCCEEDED' } });

    await env.catalog.partitionsCommitted([0, 1, 2, 3, 4].map((i) => hourPartition(i)), released(4));
    await env.catalog.idle();

    expect(env.glue.commandCalls(StartJobRunCommand).map((c) => partitionsArg(c).length)).toEqual([2, 2, 1]);
  });

  it('starts a Glue workflow instead when configured, and counts a COMPLETED run with failed actions as FAILED', async () => {
    env = glueCatalog({ curated: { workflowName: 'curate-flow', allowedLatenessMs: 0, pollIntervalMs: 10, maxRunAttempts: 1 } });
    withCatalogMocks(env);
    env.glue.on(StartWorkflowRunCommand).resolves({ RunId: 'wr_1' });
    env.glue.on(GetWorkflowRunCommand).resolvesOnce({ Run: { Status: 'RUNNING' } }).resolves({ Run: { Status: 'COMPLETED', Statistics: { FailedActions: 1, SucceededActions: 2 } } });

    await env.catalog.partitionsCommitted([hourPartition(0)], T0 + HOUR);
    await env.catalog.idle();

    const input = env.glue.commandCalls(StartWorkflowRunCommand)[0]!.args[0].input;
    expect(input.Name).toBe('curate-flow');
    expect(JSON.parse(input.RunProperties!.partitions!)).toEqual(['dt=2026-11-21/hour=00']);
    expect(input.RunProperties!.raw_path).toBe('s3://lake-bucket/raw/inventory_changes/');
    expect(env.glue.commandCalls(StartJobRunCommand)).toHaveLength(0);
    expect(env.metrics.counters.get(`${METRIC.curatedRuns}{catalog=glue,state=FAILED}`)).toBe(1);
  });

  it('on close, submits partitions the watermark has not released yet', async () => {
    env = glueCatalog(job());
    withCatalogMocks(env);
    env.glue.on(StartJobRunCommand).resolves({ JobRunId: 'jr_1' });
    env.glue.on(GetJobRunCommand).resolves({ JobRun: { JobRunState: 'RUNNING' } });

    await env.catalog.partitionsCommitted([hourPartition(7)], T0);
    expect(env.glue.commandCalls(StartJobRunCommand)).toHaveLength(0);
    await env.catalog.close();

    expect(env.glue.commandCalls(StartJobRunCommand).map(partitionsArg)).toEqual([['dt=2026-11-21/hour=07']]);
  });

  it('refuses a curated block with both or neither of jobName and workflowName', () => {
    expect(GlueCatalogConfig.safeParse({ type: 'glue', database: 'lake', curated: {} }).success).toBe(false);
    expect(GlueCatalogConfig.safeParse({ type: 'glue', database: 'lake', curated: { jobName: 'a', workflowName: 'b' } }).success).toBe(false);
    expect(GlueCatalogConfig.safeParse({ type: 'glue', database: 'lake', mode: 'crawler' }).success).toBe(false);
  });
});
