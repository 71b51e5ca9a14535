import { IntegratorError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { METRIC, type Metrics } from '../core/metrics.js';
import type { Enrichment, EnrichmentStatus, InventoryChange } from '../core/model.js';
import type { Enricher, EnrichmentRejection, EnrichResult } from '../core/ports.js';
import { backoffDelay, sleep } from '../core/retry.js';
import { CircuitBreaker } from './circuit-breaker.js';
import type { CacheConfig, LookupsConfig, ResilienceConfig } from './config.js';
import { type Redact, toLookupError } from './db-errors.js';
import { GuardedLookups } from './guarded-lookups.js';
import type { LookupSpec } from './identifiers.js';
import type { LookupClient } from './lookup-client.js';
import { type Found, LookupCache } from './lookup-cache.js';

export interface SqlEnricherOptions {
  readonly lookups: LookupsConfig;
  readonly cache: CacheConfig;
  readonly resilience: ResilienceConfig;
  readonly policy: 'emit' | 'dlq' | 'wait';
  readonly onMissing?: 'emit' | 'dlq' | undefined;
}

export interface SqlEnricherDeps {
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly redact: Redact;
  /** Clock for cache TTLs and the breaker; tests move it by hand. */
  readonly clock?: { now(): number };
  /** Runs after the client is closed (the embedded server stops here). */
  readonly onClose?: () => Promise<void>;
}

type Name = 'order' | 'customer';
type Known = Map<string, Found>;

/**
 * Joins each change with its order and customer: per micro-batch at most one query for the
 * orders and then one for the customers (the union of the changes' customer ids and those of
 * their orders), each after the cache has answered what it can.
 */
export class SqlEnricher implements Enricher {
  private readonly specs: Record<Name, LookupSpec>;
  private readonly caches: Record<Name, LookupCache>;
  private readonly breaker: CircuitBreaker;
  private readonly lookups: GuardedLookups;
  private readonly stop = new AbortController();
  private readonly onMissing: 'emit' | 'dlq';
  private failing = false;

  constructor(
    private readonly client: LookupClient,
    private readonly opts: SqlEnricherOptions,
    private readonly deps: SqlEnricherDeps,
  ) {
    const { customers, orders } = opts.lookups;
    this.specs = {
      order: { name: 'order', table: orders.table, key: orders.key, customerKey: orders.customerKey, columns: orders.columns },
      customer: { name: 'customer', table: customers.table, key: customers.key, columns: customers.columns },
    };
    this.caches = { order: new LookupCache(opts.cache, deps.clock), customer: new LookupCache(opts.cache, deps.clock) };
    this.onMissing = opts.onMissing ?? (opts.policy === 'dlq' ? 'dlq' : 'emit');
    this.breaker = new CircuitBreaker({
      threshold: opts.resilience.breakerThreshold,
      resetMs: opts.resilience.breakerResetMs,
      ...(deps.clock ? { now: () => deps.clock!.now() } : {}),
      onChange: (state) =>
        state === 'open'
          ? deps.log.warn({ db: client.label, resetMs: opts.resilience.breakerResetMs }, 'enrichment circuit breaker open: lookups fail fast')
          : deps.log.info({ db: client.label, state }, 'enrichment circuit breaker ' + state),
    });
    this.lookups = new GuardedLookups(client, opts.resilience, { log: deps.log, metrics: deps.metrics, redact: deps.redact, breaker: this.breaker, signal: this.stop.signal });
  }

  get breakerState(): string {
    return this.breaker.state;
  }

  /**
   * Runs one query per table with a key that matches nothing, so a misnamed table or column
   * fails at start-up instead of marking every change failed. A database that is down only logs.
   */
  async verify(): Promise<void> {
    for (const spec of Object.values(this.specs)) {
      try {
        await this.client.select(spec, ['\u0001inventory-integrator-probe']);
      } catch (raw) {
        const err = toLookupError(raw, `${spec.name} lookup on ${this.client.label}`, this.deps.redact);
        if (!err.retriable) {
          throw new IntegratorError('CONFIG_INVALID', `enrichment: ${err.message} (check the connection settings, grants, and lookups table and column names)`, { cause: err });
        }
        this.deps.log.warn({ db: this.client.label, err: { message: err.message } }, 'enrichment database not reachable at start-up; lookups will retry');
        return;
      }
    }
  }

  async enrich(changes: readonly InventoryChange[]): Promise<EnrichResult> {
    if (changes.length === 0) return { enriched: [], rejected: [] };
    const known: Record<Name, Known> = { order: new Map(), customer: new Map() };
    for (let round = 1; ; round++) {
      const errors = await this.resolve(changes, known);
      // Our own shutdown is not the database failing: nothing may be marked failed for it.
      if (this.stop.signal.aborted) throw new IntegratorError('SHUTDOWN', 'enricher closed during a lookup', { retriable: true });
      this.noteHealth(errors);
      if (errors.size === 0 || this.opts.policy !== 'wait') return this.finish(changes, known, errors);
      const fatal = [...errors.values()].find((e) => !e.retriable);
      if (fatal) {
        // Waiting cannot fix a wrong column or a missing grant: hand the error to the pipeline.
        throw new IntegratorError('ENRICHMENT_FAILED', `enrichment cannot proceed (policy wait): ${fatal.message}`, { cause: fatal });
      }
      // Policy wait: the caller stays blocked here, which is the backpressure on the sources.
      const r = this.opts.resilience;
      const delay = Math.max(this.breaker.msUntilTrial(), backoffDelay(round, { baseDelayMs: Math.max(r.baseDelayMs, 10), maxDelayMs: r.waitMaxDelayMs }));
      if (round === 1 || round % 10 === 0) {
        this.deps.log.warn({ db: this.client.label, round, delayMs: delay, records: changes.length }, 'enrichment waiting for the database (policy wait)');
      }
      try {
        await sleep(delay, this.stop.signal);
      } catch {
        throw new IntegratorError('SHUTDOWN', 'enricher closed while waiting for the database', { retriable: true });
      }
    }
  }

  async close(): Promise<void> {
    this.stop.abort();
    try {
      await this.client.close();
    } catch (err) {
      // A pool ending while its reconnects fail reports their error; closing still succeeded.
      this.deps.log.debug({ db: this.client.label, err: { message: this.deps.redact((err as Error).message) } }, 'enrichment pool closed with an error');
    } finally {
      await this.deps.onClose?.();
    }
  }

  /** Fills `known` from the cache and the database; returns the lookups that failed. */
  private async resolve(changes: readonly InventoryChange[], known: Record<Name, Known>): Promise<Map<Name, IntegratorError>> {
    const errors = new Map<Name, IntegratorError>();
    const orderIds = new Set<string>();
    for (const c of changes) if (c.orderId !== null) orderIds.add(c.orderId);
    const orderErr = await this.fetch('order', orderIds, known.order);
    if (orderErr) errors.set('order', orderErr);

    const customerIds = new Set<string>();
    for (const c of changes) {
      const id = c.customerId ?? (c.orderId !== null ? customerOf(known.order.get(c.orderId)) : null);
      if (id !== null) customerIds.add(id);
    }
    const customerErr = await this.fetch('customer', customerIds, known.customer);
    if (customerErr) errors.set('customer', customerErr);
    return errors;
  }

  private async fetch(name: Name, keys: ReadonlySet<string>, known: Known): Promise<IntegratorError | undefined> {
    const cache = this.caches[name];
    const misses: string[] = [];
    let hits = 0;
    for (const k of keys) {
      if (known.has(k)) continue;
      const cached = cache.get(k);
      if (cached) {
        known.set(k, cached);
        hits++;
      } else {
        misses.push(k);
      }
    }
    const labels = { lookup: name };
    if (hits > 0) this.deps.metrics.inc(METRIC.enrichCacheHits, labels, hits);
    if (misses.length === 0) return undefined;
    this.deps.metrics.inc(METRIC.enrichCacheMisses, labels, misses.length);
    let rows;
    try {
      rows = await this.lookups.select(this.specs[name], misses);
    } catch (err) {
      return toLookupError(err, `${name} lookup`, this.deps.redact);
    }
    const byKey = new Map<string, Found>();
    for (const r of rows) if (!byKey.has(r.key)) byKey.set(r.key, { row: r.attrs, customerId: r.customerId });
    for (const k of misses) {
      const found = byKey.get(k) ?? { row: null };
      known.set(k, found);
      cache.set(k, found);
    }
    return undefined;
  }

  private finish(changes: readonly InventoryChange[], known: Record<Name, Known>, errors: Map<Name, IntegratorError>): EnrichResult {
    const enriched: InventoryChange[] = [];
    const rejected: EnrichmentRejection[] = [];
    for (const c of changes) {
      let order: Found['row'] = null;
      let customer: Found['row'] = null;
      let orderState: State = 'none';
      let customerState: State = 'none';
      let customerId = c.customerId;
      if (c.orderId !== null) {
        const found = known.order.get(c.orderId);
        orderState = stateOf(found);
        order = found?.row ?? null;
        if (customerId === null) customerId = customerOf(found);
      }
      if (customerId !== null) {
        const found = known.customer.get(customerId);
        customerState = stateOf(found);
        customer = found?.row ?? null;
      }
      const status: EnrichmentStatus =
        c.orderId === null && customerId === null
          ? 'skipped'
          : orderState === 'failed' || customerState === 'failed'
            ? 'failed'
            : orderState === 'missing' || customerState === 'missing'
              ? 'missing'
              : 'ok';
      const reject = (status === 'failed' && this.opts.policy === 'dlq') || (status === 'missing' && this.onMissing === 'dlq');
      if (reject) {
        rejected.push({ eventId: c.eventId, code: 'ENRICHMENT_FAILED', reason: this.reason(c.orderId, orderState, customerId, customerState, errors) });
        continue;
      }
      // Rows are shared, frozen objects straight from the cache: no copy per change, and the
      // Parquet encoder recognises a repeated map by reference instead of serialising it again.
      const enrichment = {
        status,
        failed: FAILED[`${orderState === 'ok' || orderState === 'none' ? '' : 'o'}${customerState === 'ok' || customerState === 'none' ? '' : 'c'}`]!,
        customer,
        order,
      } as Enrichment;
      enriched.push({ ...c, enrichment });
    }
    return { enriched, rejected };
  }

  private reason(orderId: string | null, orderState: State, customerId: string | null, customerState: State, errors: Map<Name, IntegratorError>): string {
    const show = (key: string) => JSON.stringify(key.length > 100 ? `${key.slice(0, 100)}…` : key);
    const parts: string[] = [];
    const one = (name: Name, key: string | null, state: State) => {
      if (state === 'failed') parts.push(errors.get(name)?.message ?? `${name} lookup failed`);
      else if (state === 'missing' && key !== null) parts.push(`${name} ${show(key)} not found`);
    };
    one('order', orderId, orderState);
    one('customer', customerId, customerState);
    return parts.join('; ');
  }

  private noteHealth(errors: Map<Name, IntegratorError>): void {
    if (errors.size > 0 && !this.failing) {
      this.failing = true;
      const [name, err] = [...errors.entries()][0]!;
      this.deps.log.warn({ db: this.client.label, lookup: name, code: err.code, err: { message: err.message } }, 'enrichment lookups failing');
    } else if (errors.size === 0 && this.failing) {
      this.failing = false;
      this.deps.log.info({ db: this.client.label }, 'enrichment lookups recovered');
    }
  }
}

type State = 'none' | 'ok' | 'missing' | 'failed';
const stateOf = (found: Found | undefined): State => (found === undefined ? 'failed' : found.row === null ? 'missing' : 'ok');

/** `enrichment.failed` lists, shared and frozen: o = order, c = customer. */
const FAILED: Record<string, readonly string[]> = {
  '': Object.freeze([]),
  o: Object.freeze(['order']),
  c: Object.freeze(['customer']),
  oc: Object.freeze(['order', 'customer']),
};

const customerOf = (found: Found | undefined): string | null => (found && found.row !== null ? (found.customerId ?? null) : null);
