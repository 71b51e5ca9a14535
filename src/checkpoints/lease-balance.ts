import type { ShardInfo } from '../core/ports.js';
import type { LeaseItem } from './lease-table.js';

export interface LeasePlan {
  /** Leases each worker should hold: ceil(available / live workers). */
  readonly target: number;
  /** Leases this worker holds already. */
  readonly mine: number;
  /** Leases recorded under our worker id that we do not hold (we restarted): take back first. */
  readonly adopt: readonly LeaseItem[];
  /** Unowned or expired leases, to take until the target is reached. */
  readonly free: readonly LeaseItem[];
  /** Leases of the most loaded worker, one of which may be stolen when nothing is free. */
  readonly stealable: readonly LeaseItem[];
  /** Live workers counted (owners of unexpired leases, us included). */
  readonly workers: number;
}

/**
 * The KCL balancing rule as a pure function. Only live workers count (an expired owner is
 * dead); stealing happens only when nothing is free, and only from a worker above target — or
 * at target while we are short by more than one, so that no worker is left idle — which keeps
 * two workers from trading a lease back and forth.
 */
export function planLeases(available: readonly LeaseItem[], me: string, holds: (l: LeaseItem) => boolean, expired: (l: LeaseItem) => boolean): LeasePlan {
  const load = new Map<string, LeaseItem[]>();
  const adopt: LeaseItem[] = [];
  const free: LeaseItem[] = [];
  let mine = 0;
  for (const l of available) {
    if (holds(l)) mine++;
    else if (l.owner === me) adopt.push(l);
    else if (l.owner === undefined || expired(l)) free.push(l);
    else load.set(l.owner, [...(load.get(l.owner) ?? []), l]);
  }
  const workers = load.size + 1;
  const target = Math.ceil(available.length / workers);
  const need = target - mine - adopt.length;
  let stealable: LeaseItem[] = [];
  if (need > 0 && free.length === 0) {
    const [, theirs] = [...load.entries()].sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]))[0] ?? [];
    if (theirs && (theirs.length > target || (theirs.length === target && need > 1))) stealable = theirs;
  }
  return { target, mine, adopt, free, stealable, workers };
}

/** Parents before children, so no worker ever sees a child lease whose parent lease is missing. */
export function parentsFirst(shards: readonly ShardInfo[]): ShardInfo[] {
  const ids = new Set(shards.map((s) => s.shard));
  const done = new Set<string>();
  const out: ShardInfo[] = [];
  let rest = [...shards];
  while (rest.length > 0) {
    const ready = rest.filter((s) => s.parents.every((p) => !ids.has(p) || done.has(p)));
    const next = ready.length > 0 ? ready : rest; // a cycle cannot happen; never loop forever if it does
    for (const s of next) {
      out.push(s);
      done.add(s.shard);
    }
    rest = rest.filter((s) => !done.has(s.shard));
  }
  return out;
}

export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
