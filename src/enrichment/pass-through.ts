import { type InventoryChange, NOT_ENRICHED } from '../core/model.js';
import type { Enricher, EnrichResult } from '../core/ports.js';

/** `enrichment.type: none`: every change passes unchanged, marked `skipped`. */
export class PassThroughEnricher implements Enricher {
  readonly passThrough = true;

  async enrich(changes: readonly InventoryChange[]): Promise<EnrichResult> {
    // Normalized changes already carry NOT_ENRICHED; only re-mark the few that do not.
    const enriched = changes.every((c) => c.enrichment.status === 'skipped' && c.enrichment.customer === null && c.enrichment.order === null)
      ? changes
      : changes.map((c) => ({ ...c, enrichment: NOT_ENRICHED }));
    return { enriched, rejected: [] };
  }

  async close(): Promise<void> {}
}
