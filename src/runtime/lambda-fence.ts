import { IntegratorError } from '../core/errors.js';
import type { DeadLetter, DeadLetterSink, OutputBatch, Sink, WrittenObject } from '../core/ports.js';

/**
 * Ends an invocation's pipeline at its deadline. The pipeline retries sink writes until they
 * succeed (its contract in the container), so a partition whose writes keep failing would
 * outlive the invocation: Lambda freezes the process after the handler returns and thaws it
 * for the next event, and the old pipeline would wake up and keep retrying beside the new one.
 *
 * The fence wraps the shared sinks for one invocation: once closed, the write under way is
 * abandoned (its promise rejects at once; the request itself finishes or dies in the
 * background) and every later attempt fails with a non-retriable error, which makes that
 * pipeline give up. The shared sinks are never closed: the next invocation reuses them.
 */
export class InvocationFence {
  private closedWith: IntegratorError | undefined;
  private trip!: (err: IntegratorError) => void;
  private readonly tripped: Promise<never>;

  constructor() {
    this.tripped = new Promise<never>((_, reject) => {
      this.trip = reject;
    });
    // Rejections are observed through race(); this keeps an unraced one from being "unhandled".
    this.tripped.catch(() => undefined);
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  close(reason: string): void {
    if (this.closedWith) return;
    this.closedWith = new IntegratorError('SHUTDOWN', `invocation ended: ${reason}; undelivered records are reported in batchItemFailures for Lambda to retry`, { retriable: false });
    this.trip(this.closedWith);
  }

  sink(inner: Sink): Sink {
    return {
      write: (batch: OutputBatch): Promise<WrittenObject> => this.guard(() => inner.write(batch)),
      close: async () => undefined,
    };
  }

  dlq(inner: DeadLetterSink): DeadLetterSink {
    return {
      write: (letters: readonly DeadLetter[]): Promise<void> => this.guard(() => inner.write(letters)),
      close: async () => undefined,
    };
  }

  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closedWith) throw this.closedWith;
    const work = fn();
    // The abandoned write may still fail later; nobody waits for it any more.
    work.catch(() => undefined);
    return Promise.race([work, this.tripped]);
  }
}
