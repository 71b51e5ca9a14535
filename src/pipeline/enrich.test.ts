import { describe, expect, it } from 'vitest';
import { IntegratorError } from '../core/errors.js';
import { SILENT_LOGGER } from '../core/logger.js';
import { MemoryMetrics } from '../core/metrics.js';
import type { Enricher } from '../core/ports.js';
import { makeChanges } from '../../test/fixtures/changes.js';
import { enrichPoll } from './enrich.js';

const changes = makeChanges(5);
const enricher = (enrich: Enricher['enrich']): Enricher => ({ enrich, close: async () => {} });

describe('enrichPoll', () => {
  it('lines results up with the input whatever order the enricher returns them in, with rejections', async () => {
    const e = enricher(async (part) => ({
      enriched: [...part].reverse().filter((c) => c.eventId !== part[2]!.eventId),
      rejected: [{ eventId: part[2]!.eventId, code: 'ENRICHMENT_FAILED', reason: 'customer lookup failed' }],
    }));
    const out = await enrichPoll(e, changes, 10, SILENT_LOGGER, new MemoryMetrics());
    expect(out.enriched.map((c) => c?.eventId)).toEqual(changes.map((c, i) => (i === 2 ? undefined : c.eventId)));
    expect(out.rejected[2]?.reason).toBe('customer lookup failed');
  });

  it('writes a batch whose enricher throws marked failed, but rethrows a shutdown', async () => {
    const failing = await enrichPoll(enricher(async () => Promise.reject(new Error('bug'))), changes, 10, SILENT_LOGGER, new MemoryMetrics());
    expect(failing.enriched.map((c) => c?.enrichment.status)).toEqual(changes.map(() => 'failed'));
    const stopping = enricher(async () => Promise.reject(new IntegratorError('SHUTDOWN', 'closing while waiting', { retriable: true })));
    await expect(enrichPoll(stopping, changes, 10, SILENT_LOGGER, new MemoryMetrics())).rejects.toThrow('closing while waiting');
  });
});
