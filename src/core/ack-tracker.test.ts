import { describe, expect, it } from 'vitest';
import { ShardAckState } from './ack-tracker.js';
import type { Position } from './position.js';

const pos = (seq: number): Position => ({ source: 'kinesis', stream: 's', shard: 'shard-0', seq: String(seq) });

describe('ShardAckState', () => {
  it('commits only the highest contiguous delivered position', () => {
    const s = new ShardAckState();
    const idx = [1, 2, 3, 4, 5].map((n) => s.receive(pos(n)));
    expect(s.deliver([idx[1]!, idx[2]!])).toBe(false);
    expect(s.contiguous).toBeUndefined();
    expect(s.deliver([idx[0]!])).toBe(true);
    expect(s.contiguous?.seq).toBe('3');
    expect(s.pending).toBe(2);
    s.deliver([idx[4]!]);
    expect(s.contiguous?.seq).toBe('3');
    s.deliver([idx[3]!]);
    expect(s.contiguous?.seq).toBe('5');
    expect(s.pending).toBe(0);
  });

  it('keeps working across compaction of a long history', () => {
    const s = new ShardAckState();
    const all: number[] = [];
    for (let i = 0; i < 20_000; i++) all.push(s.receive(pos(i)));
    // Deliver in reverse chunks: nothing is contiguous until the first chunk lands.
    for (let c = all.length - 1000; c > 0; c -= 1000) expect(s.deliver(all.slice(c, c + 1000))).toBe(false);
    expect(s.deliver(all.slice(0, 1000))).toBe(true);
    expect(s.contiguous?.seq).toBe('19999');
    const more = s.receive(pos(20_000));
    s.deliver([more]);
    expect(s.contiguous?.seq).toBe('20000');
  });

  it('gives back whole positions, sub-sequences of aggregated records included', () => {
    const s = new ShardAckState();
    const a = s.receive({ ...pos(7), sub: 0 });
    const b = s.receive({ ...pos(7), sub: 1 });
    s.deliver([a]);
    expect(s.contiguous).toEqual({ ...pos(7), sub: 0 });
    s.deliver([b]);
    expect(s.contiguous).toEqual({ ...pos(7), sub: 1 });
  });
});
