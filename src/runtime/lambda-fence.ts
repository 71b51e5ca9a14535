import { AsyncLocalStorage } from 'node:async_hooks';
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
 *
 * Sinks retry inside too (the S3 store retries a PUT before the pipeline sees the error), so
 * the shared AWS clients are fenced as well: `run()` makes this fence the current one for
 * everything the pipeline starts (AsyncLocalStorage follows its promises and timers), and a
 * client wrapped by `fenceClient` refuses calls made on behalf of a closed invocation.
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

  /** Runs `fn` (and all it starts) as this invocation's work. */
  run<T>(fn: () => T): T {
    return active.run(this, fn);
  }

  /** Fails at once when closed; abandons `fn` when the fence closes while it runs. */
  async guard<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closedWith) throw this.closedWith;
    const work = fn();
    // The abandoned write may still fail later; nobody waits for it any more.
    work.catch(() => undefined);
    return Promise.race([work, this.tripped]);
  }
}

const active = new AsyncLocalStorage<InvocationFence>();

/**
 * The client itself (config, middleware and all, as lib-storage's Upload needs it), with `send`
 * guarded by the fence of the invocation that makes the call. Calls outside any invocation pass.
 */
export function fenceClient<C extends { send(...args: never[]): Promise<unknown> }>(client: C): C {
  const send = client.send.bind(client) as (...args: unknown[]) => Promise<unknown>;
  const fenced = (...args: unknown[]): Promise<unknown> => {
    const fence = active.getStore();
    return fence ? fence.guard(() => send(...args)) : send(...args);
  };
  return new Proxy(client, {
    get: (target, prop) => (prop === 'send' ? fenced : Reflect.get(target, prop, target)),
  });
}
