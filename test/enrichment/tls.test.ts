import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SILENT_LOGGER } from '../../src/core/logger.js';
import { MemoryMetrics } from '../../src/core/metrics.js';
import type { Enricher } from '../../src/core/ports.js';
import { createEnricher } from '../../src/enrichment/create.js';
import { MYSQL, POSTGRES } from '../fixtures/sql/databases.js';
import { CERT_NAME, makeCerts, type OwnServer, ownMariadb, ownPostgres, sampleTablesOn, type TestCerts } from '../stack/own-databases.js';
import { change, cust, type Dialect, dbConfig, ord } from './harness.js';

/**
 * TLS as RDS asks for it, against a PostgreSQL and a MariaDB of the test's own that accept TCP
 * connections over TLS only, with a certificate for db.test.internal signed by a private CA: the
 * CA bundle, the name checked (the host's, or serverName's when connecting by IP or through a
 * tunnel), and a clear error at start-up for each way of getting it wrong.
 */
let dir: string;
let certs: TestCerts;
const servers: Partial<Record<Dialect, OwnServer>> = {};
const tables: Partial<Record<Dialect, { customers: string; orders: string }>> = {};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'enrich-tls-'));
  certs = await makeCerts(dir);
  [servers.postgres, servers.mysql] = await Promise.all([ownPostgres(dir, { tls: certs }), ownMariadb(dir, { tls: certs })]);
  tables.postgres = await sampleTablesOn(servers.postgres, { customers: 5, orders: 10 }, 'tls');
  tables.mysql = await sampleTablesOn(servers.mysql, { customers: 5, orders: 10 }, 'tls');
}, 60_000);

afterAll(async () => {
  await Promise.all([servers.postgres?.stop(), servers.mysql?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** An enricher for the dialect's TLS server (or `at` another), checked at start-up as the service does. */
function tlsEnricher(dialect: Dialect, settings: { host?: string; tls?: Record<string, unknown>; at?: { port: number; tables: { customers: string; orders: string } } }): Promise<Enricher> {
  const cfg = dbConfig(dialect, settings.at?.tables ?? tables[dialect]!, {
    host: settings.host ?? '127.0.0.1',
    port: settings.at?.port ?? servers[dialect]!.port,
    ...(settings.at ? {} : { database: servers[dialect]!.database }),
    ...(settings.tls ? { tls: settings.tls } : {}),
  });
  return createEnricher(cfg, { log: SILENT_LOGGER, metrics: new MemoryMetrics() });
}

async function enrichOne(e: Enricher) {
  try {
    const r = await e.enrich([change(ord(3), null)]);
    return r.enriched[0]!.enrichment;
  } finally {
    await e.close();
  }
}

describe.each(['postgres', 'mysql'] as const)('%s over TLS', (dialect) => {
  it('verifies the certificate against the CA bundle and serverName when connecting by IP', async () => {
    const e = await tlsEnricher(dialect, { tls: { caFile: certs.caFile, serverName: CERT_NAME } });
    const enrichment = await enrichOne(e);
    expect(enrichment.status).toBe('ok');
    expect(enrichment.order).toMatchObject({ status: expect.any(String) });
    expect(enrichment.customer).toMatchObject({ name: expect.stringMatching(/^Customer /) });
  });

  it('checks serverName, not the host, when connecting through a tunnel by another name', async () => {
    const e = await tlsEnricher(dialect, { host: 'localhost', tls: { caFile: certs.caFile, serverName: CERT_NAME } });
    expect((await enrichOne(e)).status).toBe('ok');
  });

  it('refuses a certificate that does not name serverName', async () => {
    await expect(tlsEnricher(dialect, { tls: { caFile: certs.caFile, serverName: 'other.test.internal' } })).rejects.toThrow(
      /enrichment: .*other\.test\.internal.*\(check enrichment\.tls/s,
    );
  });

  it('refuses a certificate that does not name the host it connected to, when serverName is not set', async () => {
    await expect(tlsEnricher(dialect, { host: 'localhost', tls: { caFile: certs.caFile } })).rejects.toThrow(/enrichment: .*localhost.*\(check enrichment\.tls/s);
  });

  it('refuses a certificate signed by a CA that is not in the bundle', async () => {
    await expect(tlsEnricher(dialect, { tls: { caFile: certs.otherCaFile, serverName: CERT_NAME } })).rejects.toThrow(/enrichment: .*certificate.*\(check enrichment\.tls/is);
  });

  it('says so at start-up when the server requires TLS and none is configured', async () => {
    // MariaDB answers a login without TLS that require_secure_transport refuses with "Access denied".
    await expect(tlsEnricher(dialect, {})).rejects.toThrow(dialect === 'postgres' ? /enrichment: .*no encryption.*enrichment\.tls/ : /enrichment: .*(insecure transport|Access denied).*enrichment\.tls/i);
  });

  it('says so at start-up when TLS is configured and the server does not offer it', async () => {
    const plain = dialect === 'postgres' ? { port: POSTGRES.port } : { port: MYSQL.port };
    // The default test servers of this machine, which serve no TLS; the tables need not exist.
    await expect(tlsEnricher(dialect, { at: { ...plain, tables: { customers: 'none_c', orders: 'none_o' } }, tls: { caFile: certs.caFile, serverName: CERT_NAME } })).rejects.toThrow(
      /enrichment: .*(does not support SSL|does not support secure connection).*\(check enrichment\.tls/is,
    );
  });
});
