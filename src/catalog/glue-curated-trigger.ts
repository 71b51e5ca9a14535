import { GetJobRunCommand, GetWorkflowRunCommand, StartJobRunCommand, StartWorkflowRunCommand } from '@aws-sdk/client-glue';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { METRIC, type Metrics } from '../core/metrics.js';
import type { CommittedPartition } from '../core/ports.js';
import type { GlueCuratedConfig } from './config.js';
import type { GlueCaller } from './glue-call.js';
import { hasName } from './glue-errors.js';
import { DuePartitions } from './due-partitions.js';

/** Final states of a curated run as counted in METRIC.curatedRuns{state}. */
export type RunOutcome = 'SUCCEEDED' | 'FAILED' | 'ERROR' | 'TIMEOUT' | 'EXPIRED' | 'STOPPED' | 'UNKNOWN';
const RETRY_OUTCOMES = new Set<RunOutcome>(['FAILED', 'ERROR', 'TIMEOUT', 'EXPIRED']);
const JOB_TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'ERROR', 'TIMEOUT', 'EXPIRED', 'STOPPED']);

interface RunRequest {
  readonly partitions: string[];
  readonly attempt: number;
  /** Set while StartJobRun is on the wire: partitions added now could be missed by that run. */
  sending: boolean;
}

export interface FinishedRun {
  readonly runId: string;
  readonly outcome: RunOutcome;
  readonly partitions: readonly string[];
  readonly attempt: number;
}

export interface CuratedTriggerDeps {
  readonly caller: GlueCaller;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Raw table name and location, handed to the job. */
  readonly table: string;
  readonly rawLocation: string;
  readonly now?: () => number;
}

/**
 * Starts the curated Glue job (or workflow) for raw partitions the watermark has released, one run
 * per up to `maxPartitionsPerRun` partitions. A run refused with ConcurrentRunsExceededException
 * stays queued (later partitions join it) and is retried with growing delays; started runs are
 * followed with GetJobRun until they end, their final state logged and counted. A failed run is
 * started again for the same partitions up to `maxRunAttempts`. Nothing here throws.
 */
export class GlueCuratedTrigger {
  private readonly due: DuePartitions;
  private readonly queue: RunRequest[] = [];
  private worker: Promise<void> | undefined;
  private readonly followers = new Set<Promise<void>>();
  private closing = false;
  private closeDeadline = Infinity;
  private readonly now: () => number;
  readonly finished: FinishedRun[] = [];

  constructor(
    private readonly cfg: GlueCuratedConfig,
    private readonly deps: CuratedTriggerDeps,
  ) {
    this.due = new DuePartitions(cfg.allowedLatenessMs);
    this.now = deps.now ?? Date.now;
  }

  /** Partitions committed; those the watermark has released are queued for a run. */
  onCommitted(parts: readonly CommittedPartition[], watermarkMs: number): void {
    if (this.closing) return;
    this.due.add(parts);
    const ready = this.due.takeDue(watermarkMs);
    if (ready.length > 0) this.enqueue(ready.map((p) => p.partition.path), 1);
  }

  get waiting(): number {
    return this.due.size;
  }

  /** Resolves once nothing is queued and every started run has been followed to its end. */
  async idle(): Promise<void> {
    while (this.worker || this.followers.size > 0) {
      await Promise.all([this.worker, ...this.followers]);
    }
  }

  /** Submits what is queued (and, with runOnClose, what is still waiting), within closeTimeoutMs. */
  async close(): Promise<void> {
    if (this.cfg.runOnClose) {
      const rest = this.due.takeAll();
      if (rest.length > 0) this.enqueue(rest.map((p) => p.partition.path), 1);
    }
    this.closing = true;
    this.closeDeadline = this.now() + this.cfg.closeTimeoutMs;
    await this.worker;
    if (this.followers.size > 0) this.deps.log.info({ runs: this.followers.size }, 'curated runs still in progress; they go on in Glue without us');
  }

  private enqueue(paths: readonly string[], attempt: number): void {
    const todo = [...new Set(paths)];
    for (const req of this.queue) {
      if (todo.length === 0) break;
      if (req.sending || req.attempt !== attempt) continue;
      const have = new Set(req.partitions);
      while (todo.length > 0 && req.partitions.length < this.cfg.maxPartitionsPerRun) {
        const p = todo.shift()!;
        if (!have.has(p)) req.partitions.push(p);
      }
    }
    for (let i = 0; i < todo.length; i += this.cfg.maxPartitionsPerRun) {
      this.queue.push({ partitions: todo.slice(i, i + this.cfg.maxPartitionsPerRun), attempt, sending: false });
    }
    this.worker ??= this.work();
  }

  private async work(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const req = this.queue[0]!;
        const runId = await this.start(req);
        this.queue.shift();
        if (runId !== undefined) {
          const f: Promise<void> = this.follow(runId, req).finally(() => this.followers.delete(f));
          this.followers.add(f);
        }
      }
    } finally {
      // Cleared in the same tick the loop ends, so an enqueue right after starts a new worker.
      this.worker = undefined;
    }
  }

  private get kind(): 'job' | 'workflow' {
    return this.cfg.workflowName !== undefined ? 'workflow' : 'job';
  }

  private get name(): string {
    return (this.cfg.workflowName ?? this.cfg.jobName)!;
  }

  /** StartJobRun / StartWorkflowRun until accepted; undefined when given up (logged, counted). */
  private async start(req: RunRequest): Promise<string | undefined> {
    const { caller, log } = this.deps;
    for (let busy = 0; ; busy++) {
      if (this.closing && this.now() >= this.closeDeadline) {
        caller.failed('StartJobRun', new Error('shutting down before the run could start'), { partitions: req.partitions });
        return undefined;
      }
      req.sending = true;
      try {
        const args = { '--partitions': JSON.stringify(req.partitions), '--raw_table': this.deps.table, '--raw_path': this.deps.rawLocation, ...this.cfg.arguments };
        const runId =
          this.kind === 'job'
            ? (await caller.call('StartJobRun', (g) => g.send(new StartJobRunCommand({ JobName: this.name, Arguments: args })))).JobRunId
            : (
                await caller.call('StartWorkflowRun', (g) =>
                  g.send(new StartWorkflowRunCommand({ Name: this.name, RunProperties: Object.fromEntries(Object.entries(args).map(([k, v]) => [k.replace(/^--/, ''), v])) })),
                )
              ).RunId;
        log.info({ [this.kind]: this.name, runId, partitions: req.partitions.length, attempt: req.attempt }, 'started curated run');
        return runId ?? 'unknown';
      } catch (err) {
        req.sending = false;
        if (hasName(err, 'ConcurrentRunsExceededException')) {
          const delay = this.cfg.busyRetryMs * Math.min(8, 2 ** Math.min(busy, 3));
          log.info({ [this.kind]: this.name, partitions: req.partitions.length, retryInMs: delay }, 'curated run queued: too many concurrent runs');
          await caller.wait(delay);
          continue;
        }
        caller.failed(this.kind === 'job' ? 'StartJobRun' : 'StartWorkflowRun', err, { partitions: req.partitions, attempt: req.attempt });
        if (req.attempt < this.cfg.maxRunAttempts && !this.closing) this.enqueueLater(req.partitions, req.attempt + 1);
        else log.error({ partitions: req.partitions }, 'curated layer not rebuilt for these partitions; run the job for them by hand');
        return undefined;
      }
    }
  }

  private enqueueLater(paths: readonly string[], attempt: number): void {
    this.queue.push({ partitions: [...paths], attempt, sending: false });
  }

  /** Polls until the run ends; logs and counts its final state, re-queues a failed run. */
  private async follow(runId: string, req: RunRequest): Promise<void> {
    const { caller, log, metrics } = this.deps;
    let pollFailures = 0;
    for (;;) {
      await caller.wait(this.cfg.pollIntervalMs);
      if (this.closing) return;
      let outcome: RunOutcome | undefined;
      let message: string | undefined;
      try {
        ({ outcome, message } = await this.poll(runId));
        pollFailures = 0;
      } catch (err) {
        if (++pollFailures < 3) continue;
        caller.failed(this.kind === 'job' ? 'GetJobRun' : 'GetWorkflowRun', err, { runId });
        outcome = 'UNKNOWN';
        message = errorMessage(err);
      }
      if (outcome === undefined) continue;
      metrics.inc(METRIC.curatedRuns, { catalog: 'glue', state: outcome });
      this.finished.push({ runId, outcome, partitions: req.partitions, attempt: req.attempt });
      const info = { [this.kind]: this.name, runId, state: outcome, partitions: req.partitions.length, attempt: req.attempt, message };
      if (outcome === 'SUCCEEDED') log.info(info, 'curated run succeeded');
      else if (outcome === 'STOPPED' || outcome === 'UNKNOWN') log.warn(info, 'curated run ended without success');
      else log.error(info, 'curated run failed');
      if (RETRY_OUTCOMES.has(outcome)) {
        if (req.attempt < this.cfg.maxRunAttempts && !this.closing) this.enqueue(req.partitions, req.attempt + 1);
        else log.error({ partitions: req.partitions }, 'curated layer not rebuilt for these partitions; run the job for them by hand');
      }
      return;
    }
  }

  /** One status read; outcome undefined while the run is still going. */
  private async poll(runId: string): Promise<{ outcome?: RunOutcome; message?: string }> {
    const { caller } = this.deps;
    if (this.kind === 'job') {
      const run = (await caller.call('GetJobRun', (g) => g.send(new GetJobRunCommand({ JobName: this.name, RunId: runId })))).JobRun;
      const state = run?.JobRunState;
      return state && JOB_TERMINAL.has(state) ? { outcome: state as RunOutcome, message: run?.ErrorMessage } : {};
    }
    const run = (await caller.call('GetWorkflowRun', (g) => g.send(new GetWorkflowRunCommand({ Name: this.name, RunId: runId, IncludeGraph: false })))).Run;
    switch (run?.Status) {
      case 'COMPLETED': {
        // A workflow "completes" even when its jobs fail; its statistics tell.
        const s = run.Statistics ?? {};
        const bad = (s.FailedActions ?? 0) + (s.TimeoutActions ?? 0) + (s.ErroredActions ?? 0);
        return { outcome: bad > 0 ? 'FAILED' : 'SUCCEEDED', message: bad > 0 ? `${bad} workflow actions failed` : undefined };
      }
      case 'STOPPED':
        return { outcome: 'STOPPED', message: run.ErrorMessage };
      case 'ERROR':
        return { outcome: 'ERROR', message: run.ErrorMessage };
      default:
        return {};
    }
  }
}
