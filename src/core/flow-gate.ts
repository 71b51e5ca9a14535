/**
 * Backpressure between the pipeline and a source that pulls (GetRecords loops, Kafka pause,
 * file reads): the pipeline closes the gate while too much is in flight, the source awaits it
 * before fetching more.
 */
export interface FlowGate {
  readonly isOpen: boolean;
  whenOpen(): Promise<void>;
}

export class ManualGate implements FlowGate {
  private open = true;
  private waiters: Array<() => void> = [];

  get isOpen(): boolean {
    return this.open;
  }

  set(open: boolean): void {
    if (open === this.open) return;
    this.open = open;
    if (open) {
      const w = this.waiters;
      this.waiters = [];
      for (const resolve of w) resolve();
    }
  }

  whenOpen(): Promise<void> {
    return this.open ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}

export const ALWAYS_OPEN: FlowGate = { isOpen: true, whenOpen: () => Promise.resolve() };

/** Waits until `gate` opens; false (at once) when `signal` aborts first. */
export async function whenOpenUnlessAborted(gate: FlowGate, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  if (gate.isOpen) return true;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<false>((resolve) => {
    onAbort = () => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  const open = await Promise.race([gate.whenOpen().then(() => true as const), aborted]);
  if (onAbort) signal.removeEventListener('abort', onAbort);
  return open && !signal.aborted;
}
