import { IntegratorError } from '../core/errors.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

/** What `acquire` hands out and the outcome calls take back: whether this call is the trial. */
export interface Permit {
  readonly trial: boolean;
}

const NORMAL: Permit = Object.freeze({ trial: false });

/**
 * Stops sending lookups to a database that keeps failing: after `threshold` consecutive failures
 * the breaker opens and every call fails fast for `resetMs`; then one trial call is let through
 * (half-open) and its outcome closes or reopens the breaker. Only availability failures count;
 * a syntax error says nothing about whether the database is up.
 *
 * Calls that arrive while the trial is out wait for its outcome instead of failing at once:
 * with several polls enriched at once, failing them would mark their events failed although the
 * database may be back, and the trial is what finds that out.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private state_: BreakerState = 'closed';
  /** Set while the trial call is out; `ended` resolves when its outcome is known. */
  private trial: { readonly ended: Promise<void>; readonly end: () => void } | undefined;

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

  /**
   * Resolves when the call may go out (closed, or as the half-open trial), after waiting for
   * the trial in flight if there is one. Rejects with a retriable DEPENDENCY_UNAVAILABLE error
   * when the call must not go out: the breaker is open, or the trial reopened it.
   * Every permit must be returned through success, failure or neutral.
   */
  async acquire(what: string, signal?: AbortSignal): Promise<Permit> {
    for (;;) {
      const s = this.state;
      if (s === 'closed') return NORMAL;
      if (s === 'open') {
        throw new IntegratorError('DEPENDENCY_UNAVAILABLE', `${what}: circuit breaker open after ${this.failures} consecutive failures`, {
          retriable: true,
          details: { breaker: s },
        });
      }
      if (!this.trial) {
        let end!: () => void;
        const ended = new Promise<void>((resolve) => (end = resolve));
        this.trial = { ended, end };
        return { trial: true };
      }
      await waitFor(this.trial.ended, signal, what);
    }
  }

  success(permit: Permit = NORMAL): void {
    this.failures = 0;
    // Any answer shows the database is up, the trial's or one sent before the breaker opened.
    if (this.state_ !== 'closed') this.transition('closed');
    if (permit.trial) this.endTrial();
  }

  failure(permit: Permit = NORMAL): void {
    this.failures++;
    if (permit.trial) {
      this.open();
      this.endTrial();
    } else if (this.state_ === 'closed' && this.failures >= this.opts.threshold) {
      this.open();
    }
    // A late failure of a call sent before the breaker opened changes nothing: while half-open,
    // only the trial decides.
  }

  /** A call that ended with an error that is not the database's availability (releases a trial). */
  neutral(permit: Permit = NORMAL): void {
    if (permit.trial) this.endTrial();
  }

  private open(): void {
    this.openedAt = this.now();
    this.transition('open');
  }

  private endTrial(): void {
    const t = this.trial;
    this.trial = undefined;
    t?.end();
  }

  private transition(to: BreakerState): void {
    if (this.state_ === to) return;
    this.state_ = to;
    this.opts.onChange?.(to);
  }
}

function waitFor(p: Promise<void>, signal: AbortSignal | undefined, what: string): Promise<void> {
  if (!signal) return p;
  const stopped = () => new IntegratorError('SHUTDOWN', `${what}: stopped while waiting for the circuit breaker's trial`, { retriable: true });
  if (signal.aborted) return Promise.reject(stopped());
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(stopped());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

export const isBreakerOpen = (err: unknown): boolean =>
  err instanceof IntegratorError && err.code === 'DEPENDENCY_UNAVAILABLE' && err.details.breaker !== undefined;
