import { describe, expect, it } from 'vitest';
import { exposeGc } from '../testing/gc.js';
import { MapArena } from './map-arena.js';
import { MapWriter } from './map-writer.js';

const gc = exposeGc();

/** Some event loop turns with collections, for finalizers and weak references to settle. */
async function collect(): Promise<void> {
  for (let k = 0; k < 3; k++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('LongTexts retention', () => {
  it('a map writer keeps the long texts of every arena generation it copied slots from, and only while it lives', async () => {
    const arena = new MapArena(1024);
    let writer: MapWriter | undefined = new MapWriter(arena);
    const records = new Int32Array(2);
    const first = new WeakRef(arena.longTexts);
    // Unique long values: the 1024-word arena starts over every ~60 maps.
    for (let i = 0; i < 200; i++) {
      arena.recordsOf({ status: 'ok', failed: [], customer: Object.freeze({ name: `customer number ${i} with a long name` }), order: null }, records, 0);
      writer.setRecord(i, records[0]!);
    }
    expect(arena.generation).toBeGreaterThanOrEqual(2);
    await collect();
    expect(first.deref()).toBeDefined();
    writer = undefined;
    await collect();
    // Not kept by anything else: the assertion above was the writer's doing.
    expect(first.deref()).toBeUndefined();
  });
});
