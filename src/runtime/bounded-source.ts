import { Observable } from 'rxjs';
import type { Envelope } from '../core/envelope.js';
import type { Source, SourceContext } from '../core/ports.js';
import { compareSeq, shardKey } from '../core/position.js';

export type ReplayEnd =
  | { readonly kind: 'now' }
  | { readonly kind: 'timestamp'; readonly ms: number }
  | { readonly kind: 'sequence'; readonly seq: string };

export type ReplayStartFilter = { readonly kind: 'timestamp'; readonly ms: number } | undefined;

export interface BoundedSourceOptions {
  readonly end: ReplayEnd;
  /** Replays one shard only (--from-sequence with --shard); the others are read past and dropped. */
  readonly onlyShard?: string;
  /** Records before this are skipped (for sources that cannot start at a time themselves). */
  readonly startFilter?: ReplayStartFilter;
  /** With no record for this long, the replay has caught up and ends. */
  readonly idleMs: number;
  /** Wall-clock time the replay started: "now" means records that arrived before it. */
  readonly startedAt: number;
  readonly onProgress?: (p: { records: number; latestTime?: number }) => void;
}

/** The time a record is judged by: when its stream received it, else when we read it. */
const timeOf = (e: Envelope): number => e.arrivedAt ?? e.receivedAt;

/**
 * Wraps a stream source for a replay: passes records inside the range, drops those past the end,
 * and stops the source when it has caught up (every record is past the end, or none has come for
 * `idleMs`). Positions and keys stay those of the stream, so replayed objects are named as the
 * originals were.
 */
export class BoundedSource implements Source {
  readonly kind: Source['kind'];
  private records = 0;
  private latest: number | undefined;

  constructor(private readonly inner: Source, private readonly opts: BoundedSourceOptions) {
    this.kind = inner.kind;
  }

  private beyondEnd(e: Envelope): boolean {
    const end = this.opts.end;
    if (end.kind === 'now') return timeOf(e) > this.opts.startedAt;
    if (end.kind === 'timestamp') return timeOf(e) > end.ms;
    return compareSeq(e.position.seq, end.seq) > 0;
  }

  open(ctx: SourceContext): Observable<readonly Envelope[]> {
    return new Observable<readonly Envelope[]>((sub) => {
      const finished = new Set<string>();
      let idle: NodeJS.Timeout | undefined;
      let stopping = false;
      const stop = (why: string) => {
        if (stopping) return;
        stopping = true;
        ctx.log.info({ why, records: this.records }, 'replay reached its end');
        void this.inner.stop();
      };
      const armIdle = () => {
        if (idle) clearTimeout(idle);
        idle = setTimeout(() => stop(`no records for ${this.opts.idleMs} ms`), this.opts.idleMs);
      };
      armIdle();
      const s = this.inner.open(ctx).subscribe({
        next: (poll) => {
          armIdle();
          const keep: Envelope[] = [];
          for (const e of poll) {
            const key = shardKey(e.position);
            if (finished.has(key)) continue;
            if (this.opts.onlyShard !== undefined && e.position.shard !== this.opts.onlyShard) continue;
            if (this.beyondEnd(e)) {
              finished.add(key);
              continue;
            }
            if (this.opts.startFilter && timeOf(e) < this.opts.startFilter.ms) continue;
            keep.push(e);
            const t = timeOf(e);
            if (this.latest === undefined || t > this.latest) this.latest = t;
          }
          this.records += keep.length;
          if (keep.length > 0) sub.next(keep);
          this.opts.onProgress?.({ records: this.records, latestTime: this.latest });
          const health = this.inner.health?.();
          if (health?.shards !== undefined && health.shards > 0 && finished.size >= health.shards) stop('every shard is past the end');
        },
        error: (err) => sub.error(err),
        complete: () => sub.complete(),
      });
      return () => {
        if (idle) clearTimeout(idle);
        s.unsubscribe();
      };
    });
  }

  /** Reaches the replay's own in-memory checkpoints (never the service's); closed shards hand over to their children through it. */
  commit(position: Parameters<Source['commit']>[0]): Promise<void> {
    return this.inner.commit(position);
  }

  stop(): Promise<void> {
    return this.inner.stop();
  }

  health() {
    return this.inner.health?.() ?? { connected: true };
  }
}
