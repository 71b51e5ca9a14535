import type { LambdaEventSource } from '../../consumers/lambda-event/source.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { buildPipeline, type PipelineOptions, type PipelinePorts, type PipelineSummary } from '../pipeline/build-pipeline.js';
import { InvocationFence } from './lambda-fence.js';

export interface InvocationOutcome {
  /** `done` settled in time (successfully or not). */
  readonly finished: boolean;
  readonly summary?: PipelineSummary;
  /** Why the pipeline failed (a non-retriable sink error, say); undelivered records are reported. */
  readonly error?: unknown;
  readonly elapsedMs: number;
}

/** Leave this much of the remaining time for returning; 10% of it, within [500 ms, 10 s]. */
export function deadlineMarginMs(remainingMs: number): number {
  return Math.min(10_000, Math.max(500, Math.round(remainingMs * 0.1)));
}

/**
 * How long the pipeline may run: the function's remaining time minus a margin. Without a
 * context that says (a local call), 14 minutes, under Lambda's 15-minute maximum.
 */
export function invocationBudgetMs(context: { getRemainingTimeInMillis?: () => number }, marginMs?: number): number {
  const remaining = typeof context.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : 14 * 60_000;
  return Math.max(0, remaining - (marginMs ?? deadlineMarginMs(remaining)));
}

/**
 * Runs the one pipeline over one event's source until it is done or the budget is spent. Either
 * way the source's commits then say what was delivered; at the deadline the invocation's fence
 * closes, so the pipeline abandons its retries instead of outliving the invocation.
 */
export async function runInvocation(
  ports: Omit<PipelinePorts, 'source'>,
  options: PipelineOptions,
  source: LambdaEventSource,
  budgetMs: number,
  log: Logger,
): Promise<InvocationOutcome> {
  const started = Date.now();
  const fence = new InvocationFence();
  const running = fence.run(() => buildPipeline({ ...ports, source, sink: fence.sink(ports.sink), dlq: fence.dlq(ports.dlq) }, options).start());
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<{ kind: 'deadline' }>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'deadline' }), budgetMs);
  });
  const settled = running.done.then(
    (summary) => ({ kind: 'done' as const, summary }),
    (error: unknown) => ({ kind: 'failed' as const, error }),
  );
  const first = await Promise.race([settled, deadline]);
  clearTimeout(timer);
  const elapsedMs = Date.now() - started;
  if (first.kind === 'deadline') {
    fence.close(`deadline of ${budgetMs} ms reached`);
    const stats = running.stats();
    log.error(
      { budgetMs, received: stats.received, written: stats.written, deadLettered: stats.deadLettered, inFlight: stats.inFlight, ...source.progress() },
      'invocation deadline reached with records undelivered (a sink or the enrichment database keeps failing); reporting them for Lambda to retry',
    );
    // The abandoned pipeline ends on the fence's error; nothing waits for it.
    void settled;
    return { finished: false, elapsedMs };
  }
  fence.close('finished');
  if (first.kind === 'failed') {
    log.error({ err: first.error, ...source.progress() }, `pipeline failed: ${errorMessage(first.error)}; reporting undelivered records for Lambda to retry`);
    return { finished: true, error: first.error, elapsedMs };
  }
  return { finished: true, summary: first.summary, elapsedMs };
}
