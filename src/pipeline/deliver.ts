import { IntegratorError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { METRIC, type Metrics } from '../core/metrics.js';
import { backoffDelay, sleep } from '../core/retry.js';

/**
 * Delivery is retried until it succeeds: the checkpoint cannot pass undelivered records, so
 * giving up would only stall the shard. Sources pause meanwhile (in-flight limit). Only an error
 * its adapter marks non-retriable (access denied, missing bucket) stops the pipeline, so the
 * process exits and the operator sees it; the records are re-read after the fix.
 */
export async function deliverWithRetry<T>(fn: () => Promise<T>, what: string, log: Logger, metrics: Metrics, maxDelayMs = 30_000): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof IntegratorError && !err.retriable) {
        metrics.inc(METRIC.sinkFailures, { retriable: 'false' });
        log.error({ err, attempt }, `${what} failed and cannot succeed by retrying: ${errorMessage(err)}`);
        throw err;
      }
      const delay = backoffDelay(attempt, { baseDelayMs: 200, maxDelayMs });
      metrics.inc(METRIC.sinkRetries);
      log.error({ err, attempt, retryInMs: delay }, `${what} failed; will retry: ${errorMessage(err)}`);
      await sleep(delay);
    }
  }
}
