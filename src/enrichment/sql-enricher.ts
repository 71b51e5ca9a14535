import { IntegratorError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { METRIC, type Metrics } from '../core/metrics.js';
import { type Enrichment, type EnrichmentStatus, type InventoryChange, NOT_ENRICHED } from '../core/model.js';
import { type Enricher, type EnrichmentRejection, type EnrichOutcome, type EnrichResult, isRejection } from '../core/ports.js';
import { backoffDelay, sleep } from '../core/retry.js';
import { SharedEnrichment } from '../core/shared-enrichment.js';
import { CircuitBreaker } from './circuit-breaker.js';
import type { CacheConfig, LookupsConfig, ResilienceConfig } from './config.js';
import { isTlsError, type Redact, toLookupError } from './db-errors.js';
import { GuardedLookups } from './guarded-lookups.js';
import { type Flight, InFlight } from './in-flight.js';
import type { LookupSpec } from './identifiers.js';
import type { LookupClient } from './lookup-client.js';
import { type Attrs, type Found, found, LookupCache } from './lookup-cache.js';

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
/** Per batch, per key the cache did not have: PENDING while it is looked up, then its entry; a failed key is absent. */
type Pending = Map<string, Found>;

/** The two lookups' queries as the configuration names their tables and columns. */
export function lookupSpecs(lookups: LookupsConfig): Record<Name, LookupSpec> {
  const { customers, orders } = lookups;
  return {
    order: { name: 'order', table: orders.table, key: orders.key, customerKey: orders.customerKey, columns: orders.columns },
    customer: { name: 'customer', table: customers.table, key: customers.key, columns: customers.columns },
  };
}

/**
 * Joins each change with its order and customer: per micro-batch at most one query for the
 * orders and then one for the customers (the union of the changes' customer ids and those of
 * their orders), each after the cache has answered what it can.
 */
export class SqlEnricher implements Enricher {
  private readonly specs: Record<Name, LookupSpec>;
  private readonly caches: Record<Name, LookupCache>;
  private readonly inFlight: Record<Name, InFlight> = { order: new InFlight(), customer: new InFlight() };
  private readonly breaker: CircuitBreaker;
  private readonly lookups: GuardedLookups;
  private readonly stop = new AbortController();
  private readonly onMissing: 'emit' | 'dlq';
  private failing = false;
  /** Numbers each resolve pass, so a cache entry counts as one hit per batch however many changes name it. */
  private pass = 0;

  constructor(
    private readonly client: LookupClient,
    private readonly opts: SqlEnricherOptions,
    private readonly deps: SqlEnricherDeps,
  ) {
    this.specs = lookupSpecs(opts.lookups);
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
          const hint = isTlsError(raw)
            ? 'check enrichment.tls: whether the server requires or offers TLS, caFile (the CA that signed its certificate) and serverName (the name on the certificate, when host is an IP or a tunnel)'
            : 'check the connection settings (with enrichment.tls, if the server requires TLS), grants, and lookups table and column names';
          throw new IntegratorError('CONFIG_INVALID', `enrichment: ${err.message} (${hint})`, { cause: err });
        }
        this.deps.log.warn({ db: this.client.label, err: { message: err.message } }, 'enrichment database not reachable at start-up; lookups will retry');
        return;
      }
    }
  }

  async enrich(changes: readonly InventoryChange[]): Promise<EnrichResult> {
    const outcomes = await this.enrichEach(changes);
    const enriched: InventoryChange[] = [];
    const rejected: EnrichmentRejection[] = [];
    outcomes.forEach((o, i) => {
      if (isRejection(o)) rejected.push(o);
      else {
        const c = changes[i]!;
        enriched.push(c.enrichment === o ? c : withEnrichment(c, o));
      }
    });
    return { enriched, rejected };
  }

  async enrichEach(changes: readonly InventoryChange[]): Promise<EnrichOutcome[]> {
    if (changes.length === 0) return [];
    for (let round = 1; ; round++) {
      const { out, errors } = await this.resolve(changes);
      // Our own shutdown is not the database failing: nothing may be marked failed for it.
      if (this.stop.signal.aborted) throw new IntegratorError('SHUTDOWN', 'enricher closed during a lookup', { retriable: true });
      this.noteHealth(errors);
      if (errors.size === 0 || this.opts.policy !== 'wait') return out;
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

  /**
   * Each change's outcome, from the cache and at most one query per table; with the lookups that
   * failed. One pass over the changes settles every change whose keys the cache has (most of
   * them, on a skewed workload), while the changes are still in the CPU cache from decoding;
   * only the changes that wait for a query are visited again, once it has answered.
   */
  private async resolve(changes: readonly InventoryChange[]): Promise<{ out: EnrichOutcome[]; errors: Map<Name, IntegratorError> }> {
    const out: EnrichOutcome[] = new Array(changes.length);
    const errors = new Map<Name, IntegratorError>();
    const orderCache = this.caches.order;
    const now = orderCache.now();
    // The entry remembers that this pass counted it: cache hits are unique keys per batch.
    const pass = ++this.pass;
    let orderHits = 0;
    let customerHits = 0;
    const pendingOrders: Pending = new Map();
    const pendingCustomers: Pending = new Map();
    /** Changes waiting for the order query. */
    const orderWait: number[] = [];
    /** Changes waiting for the customer query, and their order entries. */
    const customerWait: number[] = [];
    const customerWaitOrder: Array<Found | undefined> = [];
    /** Settles a change whose order entry is known, or queues it for the customer query. */
    const settle = (i: number, c: InventoryChange, order: Found | undefined): void => {
      const customer = this.customerSlot(c, order, now, pendingCustomers);
      if (customer === PENDING) {
        customerWait.push(i);
        customerWaitOrder.push(order);
        return;
      }
      if (customer !== NONE && customer.pass !== pass) {
        customer.pass = pass;
        customerHits++;
      }
      out[i] = this.outcome(c, order, customer, errors);
    };
    // Every change's cache entry first, used after: the lookups do not wait for one another's
    // cache misses (each is a few, in a table of 200,000 entries), the CPU overlaps them.
    const peeked: Array<Found | undefined> = new Array(changes.length);
    for (let i = 0; i < changes.length; i++) {
      const id = changes[i]!.orderId;
      peeked[i] = id === null ? NONE : orderCache.peek(id);
    }
    // Then every entry's freshness, which reads the entries themselves: again independent.
    for (let i = 0; i < changes.length; i++) {
      const p = peeked[i];
      if (p !== undefined && p !== NONE) peeked[i] = orderCache.check(changes[i]!.orderId!, p, now);
    }
    for (let i = 0; i < changes.length; i++) {
      const c = changes[i]!;
      const order = peeked[i];
      if (order === NONE) {
        settle(i, c, NONE);
        continue;
      }
      const id = c.orderId!;
      if (order === undefined) {
        if (!pendingOrders.has(id)) pendingOrders.set(id, PENDING);
        orderWait.push(i);
        continue;
      }
      if (order.pass !== pass) {
        order.pass = pass;
        orderHits++;
      }
      settle(i, c, order);
    }
    if (orderHits > 0) this.deps.metrics.inc(METRIC.enrichCacheHits, LABELS.order, orderHits);
    if (pendingOrders.size > 0) {
      const err = await this.query('order', pendingOrders, now);
      // Failed keys have left `pending`: their changes settle with the order undefined (failed).
      if (err) errors.set('order', err);
      for (const i of orderWait) settle(i, changes[i]!, pendingOrders.get(changes[i]!.orderId!));
    }
    if (customerHits > 0) this.deps.metrics.inc(METRIC.enrichCacheHits, LABELS.customer, customerHits);
    if (pendingCustomers.size > 0) {
      const err = await this.query('customer', pendingCustomers, now);
      if (err) errors.set('customer', err);
      for (let k = 0; k < customerWait.length; k++) {
        const c = changes[customerWait[k]!]!;
        const order = customerWaitOrder[k];
        out[customerWait[k]!] = this.outcome(c, order, pendingCustomers.get(customerKeyOf(c, order)!), errors);
      }
    }
    return { out, errors };
  }

  /**
   * A change's customer entry: NONE when it names none, PENDING (added to `pending`) when the
   * cache does not have it, else the cached entry. A change whose customer is its order's own (it
   * names none, or the same one) takes it from the order's entry, which remembers its customer's
   * entry while that is fresh: that spares most customer keys their cache lookup.
   */
  private customerSlot(c: InventoryChange, orderEntry: Found | undefined, now: number, pending: Pending): Found {
    const order = c.customerId === null || c.customerId === orderEntry?.customerId ? orderEntry : undefined;
    let f = order?.customer;
    if (f === undefined || f.expiresAt <= now) {
      const k = customerKeyOf(c, orderEntry);
      if (k === null) return NONE;
      f = this.caches.customer.get(k, now);
      if (f === undefined) {
        if (!pending.has(k)) pending.set(k, PENDING);
        return PENDING;
      }
      if (order !== undefined && order.row !== null) order.customer = f;
    }
    return f;
  }

  /**
   * Looks the PENDING keys up: each becomes its row, or missing; on failure they leave `pending`
   * (failed). A key that another batch is querying already (two polls in progress) is not asked
   * again: this batch waits for that query's answer, and asks itself only if that query failed.
   */
  private async query(name: Name, pending: Pending, now: number): Promise<IntegratorError | undefined> {
    this.deps.metrics.inc(METRIC.enrichCacheMisses, LABELS[name], pending.size);
    const flights = this.inFlight[name];
    let borrowed: Array<[string, Flight]> | undefined;
    if (flights.size > 0) {
      for (const k of pending.keys()) {
        const f = flights.get(k);
        if (f !== undefined) (borrowed ??= []).push([k, f]);
      }
    }
    // Out of `pending` while this batch's own query runs, so that it holds only the keys asked.
    if (borrowed !== undefined) for (const [k] of borrowed) pending.delete(k);
    let err = pending.size > 0 ? await this.fetch(name, [...pending.keys()], pending, now) : undefined;
    if (borrowed !== undefined) {
      let retry: string[] | undefined;
      for (const [k, f] of borrowed) {
        await f.done;
        const entry = f.pending.get(k);
        if (entry !== undefined) pending.set(k, entry);
        else (retry ??= []).push(k);
      }
      if (retry !== undefined) {
        // That query failed: this batch asks for its keys itself, as it would have without it.
        for (const k of retry) pending.set(k, PENDING);
        const failed = await this.fetch(name, retry, pending, now);
        err ??= failed;
      }
    }
    return err;
  }

  /**
   * Queries `keys` (each PENDING in `pending`), each becoming its row or missing, and caches
   * what it learns; while it runs, other batches wait for it instead of asking for them too.
   */
  private fetch(name: Name, keys: readonly string[], pending: Pending, now: number): Promise<IntegratorError | undefined> {
    const done = this.select(name, keys, pending, now);
    this.inFlight[name].track(keys, { pending, done });
    return done;
  }

  private async select(name: Name, keys: readonly string[], pending: Pending, now: number): Promise<IntegratorError | undefined> {
    const cache = this.caches[name];
    let rows;
    try {
      rows = await this.lookups.select(this.specs[name], keys);
    } catch (err) {
      for (const k of keys) pending.delete(k);
      return toLookupError(err, `${name} lookup`, this.deps.redact);
    }
    for (const r of rows) {
      // The first row of a key wins; a row for a key not asked for (a collation that ignores
      // case) is not this key's row.
      if (pending.get(r.key) !== PENDING) continue;
      const entry = found(r.attrs, r.customerId);
      pending.set(r.key, entry);
      cache.set(r.key, entry, now);
    }
    for (const k of keys) {
      if (pending.get(k) !== PENDING) continue;
      const entry = found(null);
      pending.set(k, entry);
      cache.set(k, entry, now);
    }
    return undefined;
  }

  private outcome(c: InventoryChange, order: Found | undefined, customer: Found | undefined, errors: Map<Name, IntegratorError>): EnrichOutcome {
    const o = stateOf(order);
    const cs = stateOf(customer);
    const state = o > cs ? o : cs;
    if (state === NO_LOOKUP) return NOT_ENRICHED;
    if ((state === FAILED && this.opts.policy === 'dlq') || (state === MISSING && this.onMissing === 'dlq')) {
      const customerId = customerKeyOf(c, order);
      return { eventId: c.eventId, code: 'ENRICHMENT_FAILED', reason: this.reason(c.orderId, o, customerId, cs, errors) };
    }
    return this.enrichmentOf(order, o, customer, cs);
  }

  /**
   * The enrichment for an order entry and a customer entry, shared by every change with the same
   * two: remembered on the order's cache entry (with the customer entry it was built from), or on
   * the customer's when there is no order. A refreshed row is a new entry, so a memo never outlives
   * the rows it holds. Rows and enrichments are frozen: no copy per change, and the Parquet encoder
   * recognises a repeated map by reference instead of serialising it again.
   */
  private enrichmentOf(order: Found | undefined, o: State, customer: Found | undefined, cs: State): Enrichment {
    if (o === OK) {
      const m = order!.memo;
      if (m !== undefined && order!.memoCustomer === customer) return m;
      const enrichment = build(o, order!.row, cs, customer?.row ?? null);
      order!.memo = enrichment;
      order!.memoCustomer = customer;
      return enrichment;
    }
    if (o === NO_LOOKUP && customer !== undefined) return (customer.alone ??= build(o, null, cs, customer.row));
    return build(o, order?.row ?? null, cs, customer?.row ?? null);
  }

  private reason(orderId: string | null, orderState: State, customerId: string | null, customerState: State, errors: Map<Name, IntegratorError>): string {
    const show = (key: string) => JSON.stringify(key.length > 100 ? `${key.slice(0, 100)}…` : key);
    const parts: string[] = [];
    const one = (name: Name, key: string | null, state: State) => {
      if (state === FAILED) parts.push(errors.get(name)?.message ?? `${name} lookup failed`);
      else if (state === MISSING && key !== null) parts.push(`${name} ${show(key)} not found`);
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

/** Lookup outcomes, ordered so that the worse of two is the larger: none < ok < missing < failed. */
const NO_LOOKUP = 0;
const OK = 1;
const MISSING = 2;
const FAILED = 3;
type State = typeof NO_LOOKUP | typeof OK | typeof MISSING | typeof FAILED;
const STATUS: readonly EnrichmentStatus[] = ['skipped', 'ok', 'missing', 'failed'];

/** A change naming no key for a lookup; never cached. */
const NONE: Found = Object.freeze(found(null));
/** A key being looked up in this batch; replaced by its row, missing, or removed (failed). */
const PENDING: Found = Object.freeze(found(null));

const stateOf = (found: Found | undefined): State => (found === NONE ? NO_LOOKUP : found === undefined ? FAILED : found.row === null ? MISSING : OK);

/** The customer a change names, else its order's (when the order was found). */
const customerKeyOf = (c: InventoryChange, order: Found | undefined): string | null => c.customerId ?? (order !== undefined && order.row !== null ? order.customerId : null);

const LABELS: Record<Name, { lookup: Name }> = { order: { lookup: 'order' }, customer: { lookup: 'customer' } };

/** `enrichment.failed` lists, shared and frozen, by bits: 1 = order, 2 = customer. */
const FAILED_LISTS: readonly (readonly string[])[] = [
  Object.freeze([]),
  Object.freeze(['order']),
  Object.freeze(['customer']),
  Object.freeze(['order', 'customer']),
];

function build(o: State, order: Attrs | null, cs: State, customer: Attrs | null): Enrichment {
  return new SharedEnrichment(STATUS[o > cs ? o : cs]!, FAILED_LISTS[(o >= MISSING ? 1 : 0) | (cs >= MISSING ? 2 : 0)]!, customer, order);
}

/** A copy of the change with its enrichment (enrich()), written out: one fixed object shape, no spread. */
function withEnrichment(c: InventoryChange, enrichment: Enrichment): InventoryChange {
  return {
    eventId: c.eventId,
    source: c.source,
    stream: c.stream,
    shard: c.shard,
    sequence: c.sequence,
    eventType: c.eventType,
    sku: c.sku,
    warehouseId: c.warehouseId,
    quantityBefore: c.quantityBefore,
    quantityAfter: c.quantityAfter,
    delta: c.delta,
    orderId: c.orderId,
    customerId: c.customerId,
    eventTime: c.eventTime,
    ingestTime: c.ingestTime,
    enrichment,
  };
}
