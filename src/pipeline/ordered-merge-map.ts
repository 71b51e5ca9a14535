import { Observable, type OperatorFunction } from 'rxjs';

/**
 * Like mergeMap, but emits results in input order: up to `concurrency` calls overlap (a poll's
 * database lookup while the previous poll is batched), while each shard's records still reach
 * the batcher in stream order, which keeps object boundaries deterministic.
 */
export function orderedMergeMap<T, R>(fn: (value: T) => Promise<R>, concurrency: number): OperatorFunction<T, R> {
  return (source) =>
    new Observable<R>((subscriber) => {
      let nextIndex = 0;
      let emitIndex = 0;
      let active = 0;
      let sourceDone = false;
      let failed = false;
      const results = new Map<number, R>();
      const waiting: Array<[number, T]> = [];

      const drain = () => {
        while (results.has(emitIndex)) {
          const r = results.get(emitIndex) as R;
          results.delete(emitIndex);
          emitIndex++;
          subscriber.next(r);
        }
        if (sourceDone && active === 0 && waiting.length === 0 && results.size === 0) subscriber.complete();
      };
      const pump = () => {
        while (!failed && active < concurrency && waiting.length > 0) {
          const [i, v] = waiting.shift()!;
          active++;
          fn(v).then(
            (r) => {
              active--;
              results.set(i, r);
              pump();
              drain();
            },
            (err: unknown) => {
              failed = true;
              subscriber.error(err);
            },
          );
        }
      };
      const sub = source.subscribe({
        next: (v) => {
          waiting.push([nextIndex++, v]);
          pump();
        },
        error: (err) => subscriber.error(err),
        complete: () => {
          sourceDone = true;
          drain();
        },
      });
      return () => sub.unsubscribe();
    });
}
