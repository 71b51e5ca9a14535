import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PostgresEnrichmentConfig } from '../../src/enrichment/config.js';
import { resolveTarget } from '../../src/enrichment/connection.js';
import { redactor } from '../../src/enrichment/db-errors.js';
import { lookupSql, PgLookupClient, statementName } from '../../src/enrichment/pg-client.js';
import { lookupSpecs } from '../../src/enrichment/sql-enricher.js';
import { createPostgresSample, type PostgresSample } from '../fixtures/sql/databases.js';
import { captureLogs, cust, dbConfig, ord } from './harness.js';

/** One connection, so what it runs here happens in the session the lookups use. */
class OneSession extends PgLookupClient {
  async run(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async prepared(): Promise<string[]> {
    return (await this.pool.query<{ name: string }>('SELECT name FROM pg_prepared_statements ORDER BY name')).rows.map((r) => r.name);
  }
}

let sample: PostgresSample;
beforeAll(async () => {
  sample = await createPostgresSample({ customers: 20, orders: 50 });
});
afterAll(async () => {
  await sample?.drop();
});

function client(extra: Record<string, unknown> = {}) {
  const config = dbConfig('postgres', sample.tables, { poolSize: 1, ...extra }) as PostgresEnrichmentConfig;
  const logs = captureLogs('info');
  const c = new OneSession(resolveTarget(config), { queryTimeoutMs: 5_000, connectTimeoutMs: 2_000, log: logs.log, redact: redactor([]) });
  return { c, logs, specs: lookupSpecs(config.lookups) };
}

const keysOf = (rows: ReadonlyArray<{ key: string }>) => rows.map((r) => r.key).sort();

describe('PostgreSQL lookups as prepared statements (real PostgreSQL)', () => {
  it('prepares each lookup once per connection and keeps answering from it', async () => {
    const { c, specs } = client();
    try {
      expect(keysOf(await c.select(specs.order, [ord(1), ord(2), 'O-none']))).toEqual([ord(1), ord(2)]);
      expect(keysOf(await c.select(specs.order, [ord(3)]))).toEqual([ord(3)]);
      expect(keysOf(await c.select(specs.customer, [cust(1)]))).toEqual([cust(1)]);
      const names = await c.prepared();
      expect(names).toHaveLength(2);
      expect(names.every((n) => n.startsWith('inventory_integrator_'))).toBe(true);
    } finally {
      await c.close();
    }
  });

  it('falls back to unnamed statements when the session lost them (26000), without failing a lookup', async () => {
    const { c, logs, specs } = client();
    try {
      await c.select(specs.order, [ord(1)]);
      // What a transaction-mode pooler does to us: the next lookup lands in a session without it.
      await c.run('DEALLOCATE ALL');
      expect(keysOf(await c.select(specs.order, [ord(4), ord(5)]))).toEqual([ord(4), ord(5)]);
      expect(keysOf(await c.select(specs.customer, [cust(2)]))).toEqual([cust(2)]);
      expect(await c.prepared()).toEqual([]);
      expect(logs.text()).toContain('sending them unnamed from now on');
      expect(logs.text()).toContain('26000');
    } finally {
      await c.close();
    }
  });

  it('falls back when the session already holds a statement of that name (42P05), as a shared session would', async () => {
    const { c, logs, specs } = client();
    try {
      // Another connection of the same session (PGlite's socket, a pooler) prepared it first.
      const sql = lookupSql(specs.customer);
      await c.run(`PREPARE ${statementName('customer', sql)}(text[]) AS ${sql}`);
      expect(keysOf(await c.select(specs.customer, [cust(3), cust(4)]))).toEqual([cust(3), cust(4)]);
      expect(keysOf(await c.select(specs.order, [ord(6)]))).toEqual([ord(6)]);
      expect(logs.text()).toContain('42P05');
      expect(logs.text().match(/sending them unnamed/g)).toHaveLength(1);
    } finally {
      await c.close();
    }
  });

  it('sends unnamed statements when preparedStatements is false', async () => {
    const { c, logs, specs } = client({ preparedStatements: false });
    try {
      expect(keysOf(await c.select(specs.order, [ord(1)]))).toEqual([ord(1)]);
      expect(await c.prepared()).toEqual([]);
      expect(logs.text()).not.toContain('unnamed');
    } finally {
      await c.close();
    }
  });
});
