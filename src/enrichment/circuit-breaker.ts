import { IntegratorError } from '../core/errors.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

/**
 * Stops sending lookups to a database that keeps failing: after `threshold` consecutive failures
 * the breaker opens and every call fails fast for `resetMs`; then one trial call is let through
 * (half-open) and its outcome closes or reopens the breaker. Only availability failures count;
 * a syntax error says nothing about whether the database is up.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private state_: BreakerState = 'closed';
  private trialInFlight = false;

  constructor(
    private readonly opts: { threshold: number; resetMs: number; now?: () => number; onChange?: (state: BreakerState) => void },
  ) {}

  private now(): number {
    return this.opts.now ? this.opts.now() : Date.now();
  }

  get state(): BreakerState {
    if (this.state_ === 'open' && this.now() - this.openedAt >= this.opts.resetMs) this.transition('half-open');
    return this.state_;
  }

  /** Milliseconds until the breaker will let a trial call through (0 when it does now). */
  msUntilTrial(): number {
    return this.state === 'open' ? Math.max(0, this.openedAt + this.opts.resetMs - this.now()) : 0;
  }

  /** Throws a retriable DEPENDENCY_UNAVAILABLE error when the call must not go out. */
  acquire(what: string): void {
    const s = this.state;
    if (s === 'closed') return;
    if (s === 'half-open' && !this.trialInFlight) {
      this.trialInFlight = true;
      return;
    }
    throw new IntegratorError('DEPENDENCY_UNAVAILABLE', `${what}: circuit breaker open after ${this.failures} consecutive failures`, {
      retriable: true,
      details: { breaker: s },
    });
  }

  success(): void {
    this.failures = 0;
    this.trialInFlight = false;
    if (this.state_ !== 'closed') this.transition('closed');
  }

  failure(): void {
    this.failures++;
    this.trialInFlight = false;
    if (this.state_ === 'half-open' || (this.state_ === 'closed' && this.failures >= this.opts.threshold)) {
      this.openedAt = this.now();
      this.transition('open');
    }
  }

  /** A call that ended with an error that is not the database's availability (releases a trial). */
  neutral(): void {
    this.trialInFlight = false;
  }

  private transition(to: BreakerState): void {
    this.state_ = to;
    this.opts.onChange?.(to);
  }
}

export const isBreakerOpen = (err: unknown): boolean =>
  err instanceof IntegratorError && err.code === 'DEPENDENCY_UNAVAILABLE' && err.details.breaker !== undefined;
