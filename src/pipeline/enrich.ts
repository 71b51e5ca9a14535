import { errorMessage, IntegratorError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { METRIC, type Metrics } from '../core/metrics.js';
import type { InventoryChange } from '../core/model.js';
import type { Enricher, EnrichmentRejection } from '../core/ports.js';

export interface PollEnrichment {
  readonly enriched: ReadonlyMap<string, InventoryChange>;
  readonly rejected: ReadonlyMap<string, EnrichmentRejection>;
}

/**
 * Enriches a poll in lookup batches of `chunk` records. An enricher that throws (rather than
 * applying its policy) must not lose records: they are written marked `failed`.
 */
export async function enrichPoll(enricher: Enricher, changes: readonly InventoryChange[], chunk: number, log: Logger, metrics: Metrics): Promise<PollEnrichment> {
  const enriched = new Map<string, InventoryChange>();
  const rejected = new Map<string, EnrichmentRejection>();
  for (let i = 0; i < changes.length; i += chunk) {
    const part = changes.slice(i, i + chunk);
    try {
      const res = await enricher.enrich(part);
      for (const c of res.enriched) enriched.set(c.eventId, c);
      for (const r of res.rejected) rejected.set(r.eventId, r);
    } catch (err) {
      // Shutting down while the enricher waits for its database (policy wait): these records
      // are not delivered, so they are not checkpointed and are read again after the restart.
      if (err instanceof IntegratorError && err.code === 'SHUTDOWN') throw err;
      metrics.inc(METRIC.enrichFailures, { lookup: 'enricher' }, part.length);
      log.error({ err, records: part.length }, `enricher failed; writing the batch marked enrichment_status=failed: ${errorMessage(err)}`);
      for (const c of part) enriched.set(c.eventId, { ...c, enrichment: { status: 'failed', failed: ['enricher'], customer: null, order: null } });
    }
  }
  return { enriched, rejected };
}
