import { IntegratorError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { METRIC, type Metrics } from '../core/metrics.js';
import { type RetryPolicy, withRetry } from '../core/retry.js';
import { type CircuitBreaker, isBreakerOpen } from './circuit-breaker.js';
import type { ResilienceConfig } from './config.js';
import { type Redact, toLookupError } from './db-errors.js';
import type { LookupSpec } from './identifiers.js';
import type { LookupClient, LookupRow } from './lookup-client.js';

/**
 * Every query the enricher sends goes through here: the circuit breaker first, then the query
 * with a timeout backstop, retried with full-jitter backoff on retriable errors only, each
 * attempt counted.
 */
export class GuardedLookups {
  private readonly retry: RetryPolicy;
  private readonly backstopMs: number;

  constructor(
    private readonly client: LookupClient,
    private readonly cfg: ResilienceConfig,
    private readonly deps: { log: Logger; metrics: Metrics; redact: Redact; breaker: CircuitBreaker; signal?: AbortSignal },
  ) {
    this.retry = {
      maxAttempts: cfg.maxAttempts,
      baseDelayMs: cfg.baseDelayMs,
      maxDelayMs: cfg.maxDelayMs,
      // An open breaker ends the attempts at once: it already knows the database is down.
      isRetriable: (err) => err instanceof IntegratorError && err.retriable && !isBreakerOpen(err),
    };
    // The drivers enforce the query and connect timeouts; this catches whatever slips past them.
    this.backstopMs = cfg.queryTimeoutMs + cfg.connectTimeoutMs + 1_000;
  }

  /** All rows for the keys, in as few queries as the client allows (one, unless very many keys). */
  async select(spec: LookupSpec, keys: readonly string[]): Promise<LookupRow[]> {
    const max = this.client.maxKeysPerQuery;
    if (keys.length <= max) return this.selectChunk(spec, keys);
    let out: LookupRow[] = [];
    // concat, not push(...rows): spreading ~100k rows as arguments overflows the stack.
    for (let i = 0; i < keys.length; i += max) out = out.concat(await this.selectChunk(spec, keys.slice(i, i + max)));
    return out;
  }

  private selectChunk(spec: LookupSpec, keys: readonly string[]): Promise<LookupRow[]> {
    const labels = { lookup: spec.name };
    const what = `${spec.name} lookup on ${this.client.label}`;
    return withRetry(
      async () => {
        const permit = await this.deps.breaker.acquire(what, this.deps.signal);
        this.deps.metrics.inc(METRIC.enrichQueries, labels);
        try {
          const rows = await this.withBackstop(this.client.select(spec, keys), what);
          this.deps.breaker.success(permit);
          return rows;
        } catch (raw) {
          const err = toLookupError(raw, what, this.deps.redact);
          this.deps.metrics.inc(METRIC.enrichFailures, { ...labels, code: err.code });
          if (err.retriable) this.deps.breaker.failure(permit);
          else this.deps.breaker.neutral(permit);
          throw err;
        }
      },
      this.retry,
      {
        ...(this.deps.signal ? { signal: this.deps.signal } : {}),
        onRetry: (err, attempt, delayMs) =>
          this.deps.log.debug({ lookup: spec.name, attempt, delayMs, err: { message: (err as Error).message } }, 'enrichment query failed; retrying'),
      },
    );
  }

  private withBackstop<T>(p: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new IntegratorError('TIMEOUT', `${what} did not answer within ${this.backstopMs} ms`, { retriable: true })),
        this.backstopMs,
      );
    });
    p.catch(() => undefined); // a late failure after the backstop fired is already reported
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }
}
