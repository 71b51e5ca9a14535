import { errorMessage, IntegratorError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { METRIC, type Metrics } from '../core/metrics.js';
import type { Enrichment, InventoryChange } from '../core/model.js';
import { type Enricher, type EnrichmentRejection, isRejection } from '../core/ports.js';

/** Per input change, by index: the enriched change, or else the reason it was rejected. */
export interface PollEnrichment {
  readonly enriched: ReadonlyArray<InventoryChange | undefined>;
  readonly rejected: ReadonlyArray<EnrichmentRejection | undefined>;
}

/**
 * Enriches a poll in lookup batches of `chunk` records. An enricher that throws (rather than
 * applying its policy) must not lose records: they are written marked `failed`.
 *
 * The changes are the pipeline's own, decoded from this poll and seen by nothing else yet: an
 * enricher that answers by index (enrichEach) has each enrichment set on its change in place.
 */
export async function enrichPoll(enricher: Enricher, changes: readonly InventoryChange[], chunk: number, log: Logger, metrics: Metrics): Promise<PollEnrichment> {
  // Made only when needed: while every change is enriched in place, `changes` is the answer
  // (and no two arrays a poll for the young generation to hold while lookups are under way).
  let enriched: Array<InventoryChange | undefined> | undefined;
  let rejected: Array<EnrichmentRejection | undefined> | undefined;
  const ownEnriched = () => (enriched ??= changes.slice());
  const ownRejected = () => (rejected ??= new Array<EnrichmentRejection | undefined>(changes.length));
  for (let i = 0; i < changes.length; i += chunk) {
    const part = i === 0 && changes.length <= chunk ? changes : changes.slice(i, i + chunk);
    try {
      if (enricher.enrichEach) {
        const outcomes = await enricher.enrichEach(part);
        if (outcomes.length !== part.length) throw new Error(`enricher returned ${outcomes.length} outcomes for ${part.length} changes`);
        for (let k = 0; k < part.length; k++) {
          const o = outcomes[k]!;
          if (isRejection(o)) {
            ownRejected()[i + k] = o;
            ownEnriched()[i + k] = undefined;
          } else setEnrichment(part[k]!, o);
        }
        continue;
      }
      const res = await enricher.enrich(part);
      if (!alignInOrder(res.enriched, part, ownEnriched(), i) || res.rejected.length > 0) alignById(res.enriched, res.rejected, part, ownEnriched(), ownRejected(), i);
    } catch (err) {
      // Shutting down while the enricher waits for its database (policy wait): these records
      // are not delivered, so they are not checkpointed and are read again after the restart.
      if (err instanceof IntegratorError && err.code === 'SHUTDOWN') throw err;
      metrics.inc(METRIC.enrichFailures, { lookup: 'enricher' }, part.length);
      log.error({ err, records: part.length }, `enricher failed; writing the batch marked enrichment_status=failed: ${errorMessage(err)}`);
      part.forEach((c, k) => {
        if (rejected) rejected[i + k] = undefined;
        if (enriched) enriched[i + k] = c;
        setEnrichment(c, ENRICHER_FAILED);
      });
    }
  }
  return { enriched: enriched ?? changes, rejected: rejected ?? NO_REJECTIONS };
}

const NO_REJECTIONS: ReadonlyArray<EnrichmentRejection | undefined> = Object.freeze([]);

const ENRICHER_FAILED: Enrichment = Object.freeze({ status: 'failed', failed: Object.freeze(['enricher']), customer: null, order: null }) as Enrichment;

/** Sets the enrichment on a change this pipeline owns (see enrichPoll): the one place it is written after decoding. */
function setEnrichment(c: InventoryChange, e: Enrichment): InventoryChange {
  (c as { enrichment: Enrichment }).enrichment = e;
  return c;
}

/** The common case, every change back in input order: no lookup tables needed. */
function alignInOrder(out: readonly InventoryChange[], part: readonly InventoryChange[], enriched: Array<InventoryChange | undefined>, at: number): boolean {
  if (out.length !== part.length) return false;
  for (let k = 0; k < part.length; k++) if (out[k]!.eventId !== part[k]!.eventId) return false;
  for (let k = 0; k < part.length; k++) enriched[at + k] = out[k];
  return true;
}

function alignById(
  out: readonly InventoryChange[],
  rejections: readonly EnrichmentRejection[],
  part: readonly InventoryChange[],
  enriched: Array<InventoryChange | undefined>,
  rejected: Array<EnrichmentRejection | undefined>,
  at: number,
): void {
  const byId = new Map(out.map((c) => [c.eventId, c]));
  const rejById = new Map(rejections.map((r) => [r.eventId, r]));
  part.forEach((c, k) => {
    enriched[at + k] = byId.get(c.eventId);
    rejected[at + k] = rejById.get(c.eventId);
  });
}
