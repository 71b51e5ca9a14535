import type { GlueClient } from '@aws-sdk/client-glue';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { METRIC, type Metrics } from '../core/metrics.js';
import { type RetryPolicy, withRetry } from '../core/retry.js';
import type { CatalogRetryConfig } from './config.js';
import { awsErrorName, isRetriableGlueError } from './glue-errors.js';

export type GlueSend = Pick<GlueClient, 'send'>;
export type Sleep = (ms: number) => Promise<void>;

/**
 * Every Glue call goes through here: counted in METRIC.catalogCalls (each attempt, so a dashboard
 * shows the throttling), retried with full-jitter backoff while the error is throttling or
 * transient. A call that still fails is rethrown for the caller to decide; the caller counts
 * METRIC.catalogFailures once per operation that failed for good.
 */
export class GlueCaller {
  private readonly policy: RetryPolicy;

  constructor(
    private readonly glue: GlueSend,
    retry: CatalogRetryConfig,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly sleep?: Sleep,
  ) {
    this.policy = { ...retry, isRetriable: isRetriableGlueError };
  }

  /** Sends with retries; `op` names the call in metrics and logs. */
  async call<T>(op: string, send: (glue: GlueSend) => Promise<T>): Promise<T> {
    return withRetry(
      () => {
        this.metrics.inc(METRIC.catalogCalls, { catalog: 'glue', op });
        return send(this.glue);
      },
      this.policy,
      {
        ...(this.sleep ? { sleep: this.sleep } : {}),
        onRetry: (err, attempt, delayMs) =>
          this.log.warn({ op, attempt, delayMs, error: awsErrorName(err) ?? errorMessage(err) }, 'glue call failed; retrying'),
      },
    );
  }

  /** Counts and logs an operation that failed for good. */
  failed(op: string, err: unknown, details: Record<string, unknown> = {}): void {
    this.metrics.inc(METRIC.catalogFailures, { catalog: 'glue', op });
    this.log.error({ op, error: awsErrorName(err) ?? 'Error', message: errorMessage(err), ...details }, 'glue catalog operation failed');
  }

  /** Backoff helper for loops that wait on Glue state rather than retry one call. */
  wait(ms: number): Promise<void> {
    return this.sleep ? this.sleep(ms) : new Promise((r) => setTimeout(r, ms));
  }
}
