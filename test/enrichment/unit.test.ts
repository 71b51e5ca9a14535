import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IntegratorError } from '../../src/core/errors.js';
import { SILENT_LOGGER } from '../../src/core/logger.js';
import { MemoryMetrics } from '../../src/core/metrics.js';
import { NOT_ENRICHED } from '../../src/core/model.js';
import { CircuitBreaker } from '../../src/enrichment/circuit-breaker.js';
import { EnrichmentConfig } from '../../src/enrichment/config.js';
import { resolveTarget } from '../../src/enrichment/connection.js';
import { createEnricher } from '../../src/enrichment/create.js';
import { isRetriableDbError, redactor } from '../../src/enrichment/db-errors.js';
import { quoteName } from '../../src/enrichment/identifiers.js';
import { found, LookupCache } from '../../src/enrichment/lookup-cache.js';
import { change, cust, ord } from './harness.js';

const scratch: string[] = [];
const scratchDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'enrich-unit-'));
  scratch.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

const issues = (doc: unknown) => EnrichmentConfig.safeParse(doc).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];

describe('enrichment config', () => {
  it('fills every default from a bare type, with policy emit', () => {
    const c = EnrichmentConfig.parse({ type: 'postgres', host: 'db.example' });
    expect(c).toMatchObject({
      type: 'postgres',
      poolSize: 4,
      policy: 'emit',
      lookups: { customers: { table: 'customers', key: 'customer_id' }, orders: { table: 'orders', key: 'order_id', customerKey: 'customer_id' } },
      cache: { maxEntries: 200_000 },
      resilience: { maxAttempts: 3 },
    });
  });

  it('refuses table and column names that are not plain identifiers, naming the key', () => {
    expect(issues({ type: 'mysql', host: 'h', lookups: { customers: { table: 'customers; DROP TABLE x' } } })).toEqual([
      'lookups.customers.table: must be "table" or "schema.table", each part a plain SQL identifier',
    ]);
    expect(issues({ type: 'postgres', host: 'h', lookups: { orders: { columns: ['status', 'x" FROM pg_shadow --'] } } })[0]).toMatch(/^lookups\.orders\.columns\.1: must be a plain SQL identifier/);
    expect(issues({ type: 'postgres', host: 'h', lookups: { orders: { key: '1abc' } } })[0]).toMatch(/^lookups\.orders\.key:/);
    expect(issues({ type: 'postgres', host: 'h', lookups: { customers: { table: 'a.b.c' } } })).toHaveLength(1);
    expect(() => quoteName('x"y', 'postgres')).toThrow(IntegratorError);
    expect(quoteName('sales.customers', 'postgres')).toBe('"sales"."customers"');
    expect(quoteName('customers', 'mysql')).toBe('`customers`');
  });

  it('keeps passwords out of the config: no password in the URL, one password source', () => {
    expect(issues({ type: 'postgres', url: 'postgres://app:hunter2@db:5432/shop' })).toEqual(['url: must not carry a password: set passwordEnv or passwordFile']);
    expect(issues({ type: 'postgres', url: 'postgres://app@db:5432/shop?sslmode=require' })).toEqual(['url: must not carry parameters such as ?sslmode=: set enrichment.tls (and the other settings) instead']);
    expect(issues({ type: 'mysql', host: 'h', passwordEnv: 'A', passwordFile: '/b' })).toEqual(['passwordFile: set passwordEnv or passwordFile, not both']);
    expect(issues({ type: 'mysql' })).toEqual(['host: set url or host']);
    expect(issues({ type: 'postgres', host: 'h', sslmode: 'require' })[0]).toMatch(/Unrecognized key/i);
  });
});

describe('connection settings', () => {
  it('takes the URL apart and lets discrete settings override it', () => {
    const t = resolveTarget(EnrichmentConfig.parse({ type: 'postgres', url: 'postgres://app@db.internal:6543/shop', database: 'other', poolSize: 7 }) as never, {});
    expect(t).toMatchObject({ host: 'db.internal', port: 6543, user: 'app', database: 'other', password: undefined, poolSize: 7, tls: undefined });
    expect(t.label).toBe('postgres db.internal:6543/other');
    expect(resolveTarget(EnrichmentConfig.parse({ type: 'mysql', host: 'm' }) as never, {}).port).toBe(3306);
  });

  it('reads the password from the named variable or file, and says which one is missing', () => {
    const dir = scratchDir();
    writeFileSync(join(dir, 'pw'), 's3cret\n');
    const fromFile = EnrichmentConfig.parse({ type: 'mysql', host: 'h', passwordFile: join(dir, 'pw') });
    expect(resolveTarget(fromFile as never, {}).password).toBe('s3cret');
    const fromEnv = EnrichmentConfig.parse({ type: 'mysql', host: 'h', passwordEnv: 'DB_PASSWORD' });
    expect(resolveTarget(fromEnv as never, { DB_PASSWORD: 'x' }).password).toBe('x');
    expect(() => resolveTarget(fromEnv as never, {})).toThrow(/DB_PASSWORD is not set/);
    const missingFile = EnrichmentConfig.parse({ type: 'mysql', host: 'h', passwordFile: join(dir, 'nope') });
    expect(() => resolveTarget(missingFile as never, {})).toThrow(/passwordFile: cannot read .*nope: ENOENT/);
  });

  it('loads the CA bundle for TLS and verifies certificates unless told otherwise', () => {
    const dir = scratchDir();
    writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const cfg = EnrichmentConfig.parse({ type: 'postgres', host: 'h', tls: { caFile: join(dir, 'ca.pem'), serverName: 'db.rds.amazonaws.com' } });
    const t = resolveTarget(cfg as never, {});
    expect(t.tls?.rejectUnauthorized).toBe(true);
    expect(t.tls?.servername).toBe('db.rds.amazonaws.com');
    expect(t.tls?.ca?.toString()).toContain('BEGIN CERTIFICATE');
    const off = EnrichmentConfig.parse({ type: 'postgres', host: 'h', tls: { enabled: false } });
    expect(resolveTarget(off as never, {}).tls).toBeUndefined();
  });
});

describe('which database errors are retried', () => {
  const err = (props: Record<string, unknown>) => Object.assign(new Error(String(props.message ?? 'x')), props);
  it.each([
    ['57P01 admin_shutdown', err({ code: '57P01' }), true],
    ['08006 connection_failure', err({ code: '08006' }), true],
    ['53300 too_many_connections', err({ code: '53300' }), true],
    ['57014 statement timeout', err({ code: '57014' }), true],
    ['pg connection terminated', err({ message: 'Connection terminated unexpectedly' }), true],
    ['pg query_timeout', err({ message: 'Query read timeout' }), true],
    ['ECONNREFUSED', err({ code: 'ECONNREFUSED' }), true],
    ['ECONNRESET', err({ code: 'ECONNRESET' }), true],
    ['ER_CON_COUNT_ERROR', err({ code: 'ER_CON_COUNT_ERROR', errno: 1040 }), true],
    ['ER_USER_LIMIT_REACHED', err({ code: 'ER_USER_LIMIT_REACHED', errno: 1226 }), true],
    ['PROTOCOL_CONNECTION_LOST', err({ code: 'PROTOCOL_CONNECTION_LOST' }), true],
    ['ER_CONNECTION_KILLED', err({ code: 'ER_CONNECTION_KILLED', errno: 1927 }), true],
    ['42601 syntax error', err({ code: '42601' }), false],
    ['42703 undefined column', err({ code: '42703' }), false],
    ['42501 insufficient privilege', err({ code: '42501' }), false],
    ['28P01 bad password', err({ code: '28P01' }), false],
    ['22P02 invalid text', err({ code: '22P02' }), false],
    ['ER_PARSE_ERROR', err({ code: 'ER_PARSE_ERROR', errno: 1064 }), false],
    ['ER_TABLEACCESS_DENIED_ERROR', err({ code: 'ER_TABLEACCESS_DENIED_ERROR', errno: 1142 }), false],
    ['ER_ACCESS_DENIED_ERROR', err({ code: 'ER_ACCESS_DENIED_ERROR', errno: 1045 }), false],
    ['ER_BAD_FIELD_ERROR', err({ code: 'ER_BAD_FIELD_ERROR', errno: 1054 }), false],
  ])('%s → retriable %s', (_, e, retriable) => {
    expect(isRetriableDbError(e)).toBe(retriable);
  });

  it('cuts passwords and URL credentials out of messages', () => {
    const redact = redactor(['pa55-word']);
    expect(redact('auth failed for pa55-word at postgres://app:pa55-word@db/x')).toBe('auth failed for *** at postgres://app:***@db/x');
  });
});

describe('circuit breaker', () => {
  const breaker = (now: () => number, states: string[] = []) => new CircuitBreaker({ threshold: 3, resetMs: 1000, now, onChange: (s) => states.push(s) });
  const openIt = async (b: CircuitBreaker) => {
    for (let i = 0; i < 3; i++) b.failure(await b.acquire('q'));
  };

  it('opens after the threshold, fails fast, lets one trial through after resetMs, and closes on success', async () => {
    let now = 0;
    const states: string[] = [];
    const b = breaker(() => now, states);
    await openIt(b);
    expect(b.state).toBe('open');
    await expect(b.acquire('q')).rejects.toThrow(expect.objectContaining({ code: 'DEPENDENCY_UNAVAILABLE', retriable: true }));
    expect(b.msUntilTrial()).toBe(1000);
    now = 1000;
    const trial = await b.acquire('q');
    expect(trial.trial).toBe(true);
    b.failure(trial);
    expect(b.state).toBe('open');
    now = 2000;
    b.success(await b.acquire('q'));
    expect(b.state).toBe('closed');
    expect((await b.acquire('q')).trial).toBe(false);
    expect(states).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
  });

  it('half-open: calls arriving during the trial wait for it, and go out once it closed the breaker', async () => {
    let now = 0;
    const b = breaker(() => now);
    await openIt(b);
    now = 1000;
    const trial = await b.acquire('q');
    let settled = 0;
    const waiting = [b.acquire('q'), b.acquire('q')].map((p) => p.finally(() => settled++));
    await new Promise((r) => setTimeout(r, 5));
    expect(settled).toBe(0); // neither failed fast nor went out beside the trial
    b.success(trial);
    const permits = await Promise.all(waiting);
    expect(permits.map((p) => p.trial)).toEqual([false, false]);
    expect(b.state).toBe('closed');
  });

  it('half-open: calls waiting for a trial that fails fail fast with it, without a query of their own', async () => {
    let now = 0;
    const b = breaker(() => now);
    await openIt(b);
    now = 1000;
    const trial = await b.acquire('q');
    const waiting = [b.acquire('q'), b.acquire('q')];
    b.failure(trial);
    for (const w of waiting) await expect(w).rejects.toThrow(/circuit breaker open/);
    expect(b.state).toBe('open');
    expect(b.msUntilTrial()).toBe(1000);
  });

  it('half-open: a trial ending without a verdict (not an availability error) hands the trial to one waiter', async () => {
    let now = 0;
    const b = breaker(() => now);
    await openIt(b);
    now = 1000;
    const first = await b.acquire('q');
    const [a, c] = [b.acquire('q'), b.acquire('q')];
    b.neutral(first);
    const second = await a;
    expect(second.trial).toBe(true);
    let cSettled = false;
    void c.then(() => (cSettled = true), () => (cSettled = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(cSettled).toBe(false); // still waiting, now for the second trial
    b.success(second);
    expect((await c).trial).toBe(false);
  });

  it('half-open: a late failure of a call sent before the breaker opened does not decide; the trial does', async () => {
    let now = 0;
    const b = breaker(() => now);
    const early = await b.acquire('q');
    await openIt(b);
    now = 1000;
    const trial = await b.acquire('q');
    b.failure(early);
    expect(b.state).toBe('half-open');
    b.success(trial);
    expect(b.state).toBe('closed');
  });

  it('stops waiting for the trial when the enricher shuts down', async () => {
    let now = 0;
    const b = breaker(() => now);
    await openIt(b);
    now = 1000;
    await b.acquire('q');
    const stop = new AbortController();
    const waiting = b.acquire('q', stop.signal);
    stop.abort();
    await expect(waiting).rejects.toThrow(expect.objectContaining({ code: 'SHUTDOWN' }));
  });
});

describe('lookup cache', () => {
  it('expires rows after ttlMs and missing keys after negativeTtlMs, and evicts the least recently used', () => {
    let now = 10_000;
    const cache = new LookupCache({ maxEntries: 2, ttlMs: 1000, negativeTtlMs: 100 }, { now: () => now });
    cache.set('a', found({ name: 'A' }));
    cache.set('nope', found(null));
    now = 10_099;
    expect(cache.get('nope')?.row).toBeNull();
    now = 10_101;
    expect(cache.get('nope')).toBeUndefined();
    expect(cache.get('a')?.row).toEqual({ name: 'A' });
    cache.set('b', found({ name: 'B' }));
    cache.get('a');
    cache.set('c', found({ name: 'C' })); // evicts b, the least recently used
    expect([cache.get('a'), cache.get('b'), cache.get('c')].map((f) => f?.row?.name)).toEqual(['A', undefined, 'C']);
    now = 11_001;
    expect(cache.get('a')).toBeUndefined();
  });

  it('evicts the least recently used to within half its capacity: a hit in the newer half does not reorder', () => {
    const cache = new LookupCache({ maxEntries: 4, ttlMs: 1000, negativeTtlMs: 100 });
    for (const k of ['a', 'b', 'c', 'd']) cache.set(k, found({ k }));
    cache.get('a'); // oldest half: moves to the recent end (order b c d a)
    cache.get('d'); // newest half: stays (still b c d a)
    cache.set('e', found({ k: 'e' })); // evicts b
    cache.set('f', found({ k: 'f' })); // evicts c
    expect(['a', 'b', 'c', 'd', 'e', 'f'].filter((k) => cache.get(k) !== undefined)).toEqual(['a', 'd', 'e', 'f']);
    expect(cache.size).toBe(4);
  });

  it('can be switched off, and can skip negative caching', () => {
    const off = new LookupCache({ maxEntries: 0, ttlMs: 1000, negativeTtlMs: 100 });
    off.set('a', found({ name: 'A' }));
    expect(off.get('a')).toBeUndefined();
    const noNegative = new LookupCache({ maxEntries: 10, ttlMs: 1000, negativeTtlMs: 0 });
    noNegative.set('nope', found(null));
    expect(noNegative.get('nope')).toBeUndefined();
  });
});

describe('pass-through enricher (type none)', () => {
  it('returns every change, in order, marked skipped, and rejects nothing', async () => {
    const enricher = await createEnricher({ type: 'none' }, { log: SILENT_LOGGER, metrics: new MemoryMetrics() });
    const input = [change(ord(1), cust(1)), { ...change(null, null), enrichment: { status: 'ok' as const, failed: [], customer: { a: '1' }, order: null } }];
    const r = await enricher.enrich(input);
    expect(r.rejected).toEqual([]);
    expect(r.enriched.map((c) => c.eventId)).toEqual(input.map((c) => c.eventId));
    expect(r.enriched.map((c) => c.enrichment)).toEqual([NOT_ENRICHED, NOT_ENRICHED]);
    await enricher.close();
  });
});

describe('test harness', () => {
  it('says exactly which database is missing instead of skipping', async () => {
    const { connectMysql, connectPostgres, MYSQL, POSTGRES } = await import('../fixtures/sql/databases.js');
    const { freePort } = await import('../stack/process.js');
    const closed = await freePort();
    const saved = { pg: POSTGRES.port, my: MYSQL.port };
    POSTGRES.port = closed;
    MYSQL.port = closed;
    try {
      await expect(connectPostgres()).rejects.toThrow(new RegExp(`need a real PostgreSQL at 127\\.0\\.0\\.1:${closed}, database "test".*ECONNREFUSED`));
      await expect(connectMysql()).rejects.toThrow(new RegExp(`need a real MariaDB/MySQL at 127\\.0\\.0\\.1:${closed}, user root.*ECONNREFUSED`));
    } finally {
      POSTGRES.port = saved.pg;
      MYSQL.port = saved.my;
    }
  });
});
