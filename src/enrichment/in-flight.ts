import type { IntegratorError } from '../core/errors.js';
import type { Found } from './lookup-cache.js';

/**
 * One batch's query under way: the map it fills with each key's entry as it answers (a key it
 * failed to look up is left out), and its outcome.
 */
export interface Flight {
  readonly pending: ReadonlyMap<string, Found>;
  readonly done: Promise<IntegratorError | undefined>;
}

/**
 * The keys of one lookup that some batch is querying right now. With several polls in progress,
 * a key missing from the cache is often missing for the next poll too, whose lookups start
 * before the first poll's answer has reached the cache; that poll waits for the answer instead
 * of asking the database for the same key again.
 */
export class InFlight {
  private readonly byKey = new Map<string, Flight>();

  /** The query fetching `key`, if one is under way. */
  get(key: string): Flight | undefined {
    return this.byKey.get(key);
  }

  /** Registers `keys` as fetched by `flight` until it is done. */
  track(keys: readonly string[], flight: Flight): void {
    for (const k of keys) this.byKey.set(k, flight);
    const forget = () => {
      for (const k of keys) if (this.byKey.get(k) === flight) this.byKey.delete(k);
    };
    flight.done.then(forget, forget);
  }

  get size(): number {
    return this.byKey.size;
  }
}
