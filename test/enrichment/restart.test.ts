import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SILENT_LOGGER } from '../../src/core/logger.js';
import { MemoryMetrics } from '../../src/core/metrics.js';
import { type EnrichOutcome, isRejection } from '../../src/core/ports.js';
import { sleep } from '../../src/core/retry.js';
import { createEnricher } from '../../src/enrichment/create.js';
import { type OwnServer, ownMariadb, ownPostgres, sampleTablesOn } from '../stack/own-databases.js';
import { change, type Dialect, dbConfig, ord } from './harness.js';

/**
 * Reconnecting after the database restarts, with a real restart: a server of the test's own is
 * stopped (its sessions ended, its port refusing connections) and started again on the same port
 * and data, while the enricher keeps its pool. The shared servers' outage tests (outage.test.ts)
 * take a login away instead, which they can do without stopping a server others use.
 */
describe.each<Dialect>(['postgres', 'mysql'])("%s restarted mid-run (a server of the test's own)", (dialect) => {
  let dir: string;
  let server: OwnServer;
  let tables: { customers: string; orders: string };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'enrich-restart-'));
    server = dialect === 'postgres' ? await ownPostgres(dir) : await ownMariadb(dir);
    tables = await sampleTablesOn(server, { customers: 20, orders: 50 });
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const open = (policy: 'emit' | 'wait') =>
    createEnricher(dbConfig(dialect, tables, { port: server.port, database: server.database, policy }), {
      log: SILENT_LOGGER,
      metrics: new MemoryMetrics(),
    });

  const statuses = (out: readonly EnrichOutcome[]) => out.map((o) => (isRejection(o) ? o.code : o.status));

  it('wait: a batch that meets the server stopped waits, and is enriched once it has started again', async () => {
    const e = await open('wait');
    try {
      expect(statuses(await e.enrichEach!([change(ord(1), null)]))).toEqual(['ok']);
      await server.stop();
      let settled = false;
      const during = e.enrichEach!([change(ord(2), null), change(ord(3), null)]).finally(() => (settled = true));
      await sleep(500);
      expect(settled).toBe(false);
      await server.start();
      const out = await during;
      expect(statuses(out)).toEqual(['ok', 'ok']);
      expect(out.map((o) => (isRejection(o) ? null : o.order))).toEqual([expect.objectContaining({ status: expect.any(String) }), expect.objectContaining({ status: expect.any(String) })]);
    } finally {
      await server.start();
      await e.close();
    }
  });

  it('emit: marks failed only the changes that needed the stopped server, and looks up again once it is back', async () => {
    const e = await open('emit');
    try {
      expect(statuses(await e.enrichEach!([change(ord(4), null)]))).toEqual(['ok']);
      await server.stop();
      const out = await e.enrichEach!([change(ord(4), null), change(ord(5), null), change(null, null)]);
      expect(statuses(out)).toEqual(['ok', 'failed', 'skipped']);
      expect(isRejection(out[1]!) ? null : out[1]!.failed).toEqual(['order']);
      await server.start();
      // The breaker lets a trial through once its reset time has passed; the pool connects afresh.
      await vi.waitFor(async () => expect(statuses(await e.enrichEach!([change(ord(5), null)]))).toEqual(['ok']), { timeout: 20_000, interval: 100 });
    } finally {
      await server.start();
      await e.close();
    }
  });
});
