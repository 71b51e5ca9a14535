import { describe, expect, it } from 'vitest';
import { IntegratorError } from '../core/errors.js';
import { SILENT_LOGGER } from '../core/logger.js';
import { MemoryMetrics, METRIC } from '../core/metrics.js';
import { NOT_ENRICHED } from '../core/model.js';
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

  it('sets a by-index enricher\'s enrichments on the changes themselves, with rejections by index', async () => {
    const own = makeChanges(5);
    const e: Enricher = {
      enrich: async () => Promise.reject(new Error('enrich() must not be called when enrichEach() exists')),
      enrichEach: async (part) =>
        part.map((c, k) => (k === 1 ? { eventId: c.eventId, code: 'ENRICHMENT_FAILED', reason: 'order "O-1" not found' } : { ...NOT_ENRICHED, status: 'ok' as const, order: { n: String(k) } })),
      close: async () => {},
    };
    const out = await enrichPoll(e, own, 2, SILENT_LOGGER, new MemoryMetrics());
    expect(Array.from(out.enriched, (c, i) => c === own[i])).toEqual([true, false, true, false, true]);
    expect(out.enriched[1]).toBeUndefined();
    // Chunks of 2: the second change of each is rejected, and each chunk's indices restart at 0.
    expect(Array.from(out.rejected, (r) => r?.reason ?? null)).toEqual([null, 'order "O-1" not found', null, 'order "O-1" not found', null]);
    expect(Array.from(out.enriched, (c) => c?.enrichment.order?.n ?? null)).toEqual(['0', null, '0', null, '0']);
  });

  it('keeps chunks answered before the first rejection or failure in place, and those after it', async () => {
    const own = makeChanges(5);
    let call = 0;
    const e: Enricher = {
      enrich: async () => Promise.reject(new Error('enrich() must not be called when enrichEach() exists')),
      // Chunks of 2: the first is enriched, the second rejects its second change, the third throws.
      enrichEach: async (part) => {
        call++;
        if (call === 3) throw new Error('bug');
        return part.map((c, k) => (call === 2 && k === 1 ? { eventId: c.eventId, code: 'ENRICHMENT_FAILED', reason: 'missing' } : { ...NOT_ENRICHED, status: 'ok' as const }));
      },
      close: async () => {},
    };
    const out = await enrichPoll(e, own, 2, SILENT_LOGGER, new MemoryMetrics());
    expect(Array.from(out.enriched, (c, i) => (c !== undefined && c === own[i] ? c.enrichment.status : c))).toEqual(['ok', 'ok', 'ok', undefined, 'failed']);
    expect(Array.from(out.rejected, (r) => r?.reason ?? null)).toEqual([null, null, null, 'missing', null]);
    // Nothing rejected: the changes themselves are the answer, with no rejections.
    const all = await enrichPoll({ ...e, enrichEach: async (part) => part.map(() => ({ ...NOT_ENRICHED, status: 'ok' as const })) }, own, 2, SILENT_LOGGER, new MemoryMetrics());
    expect(all.enriched.every((c, i) => c !== undefined && c === own[i] && c.enrichment.status === 'ok')).toBe(true);
    expect(own.map((_, i) => all.rejected[i])).toEqual(own.map(() => undefined));
  });

  it('writes a chunk marked failed when a by-index enricher answers for the wrong number of changes', async () => {
    const own = makeChanges(3);
    const e: Enricher = { enrich: async () => ({ enriched: [], rejected: [] }), enrichEach: async () => [NOT_ENRICHED], close: async () => {} };
    const metrics = new MemoryMetrics();
    const out = await enrichPoll(e, own, 10, SILENT_LOGGER, metrics);
    expect(out.enriched.map((c) => c?.enrichment.failed)).toEqual([['enricher'], ['enricher'], ['enricher']]);
    expect(metrics.total(METRIC.enrichFailures)).toBe(3);
  });

  it('writes a batch whose enricher throws marked failed, but rethrows a shutdown', async () => {
    const failing = await enrichPoll(enricher(async () => Promise.reject(new Error('bug'))), changes, 10, SILENT_LOGGER, new MemoryMetrics());
    expect(failing.enriched.map((c) => c?.enrichment.status)).toEqual(changes.map(() => 'failed'));
    const stopping = enricher(async () => Promise.reject(new IntegratorError('SHUTDOWN', 'closing while waiting', { retriable: true })));
    await expect(enrichPoll(stopping, changes, 10, SILENT_LOGGER, new MemoryMetrics())).rejects.toThrow('closing while waiting');
  });
});
