import { type EmbeddedPostgres, seedRows, seedSampleData, startEmbeddedPostgres } from '../../src/enrichment/embedded.js';

export type { EmbeddedPostgres };
export { seedRows, seedSampleData };

/**
 * An embedded PostgreSQL (PGlite behind a wire-protocol socket on a free loopback port) seeded
 * with the sample customers and orders; `stop()` in afterAll.
 */
export async function startSeededPglite(counts: { customers: number; orders: number } = { customers: 200, orders: 1000 }, maxConnections = 4): Promise<EmbeddedPostgres> {
  const pglite = await startEmbeddedPostgres({ maxConnections });
  try {
    await seedSampleData(pglite.db, counts);
  } catch (err) {
    await pglite.stop();
    throw err;
  }
  return pglite;
}
