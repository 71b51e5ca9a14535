import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { orderedMergeMap } from './ordered-merge-map.js';

describe('orderedMergeMap', () => {
  it('overlaps calls but emits in input order', async () => {
    let active = 0;
    let peak = 0;
    const delays = [30, 5, 20, 1, 10, 2];
    const out = await lastValueFrom(
      from(delays.map((d, i) => [i, d] as const)).pipe(
        orderedMergeMap(async ([i, d]) => {
          active++;
          peak = Math.max(peak, active);
          await new Promise((r) => setTimeout(r, d));
          active--;
          return i;
        }, 3),
        toArray(),
      ),
    );
    expect(out).toEqual([0, 1, 2, 3, 4, 5]);
    expect(peak).toBe(3);
  });

  it('fails when a call fails', async () => {
    const run = lastValueFrom(from([1, 2, 3]).pipe(orderedMergeMap(async (v) => {
      if (v === 2) throw new Error('boom');
      return v;
    }, 2)));
    await expect(run).rejects.toThrow('boom');
  });
});
