import { describe, expect, it } from 'vitest';
import { SeqLog, packSeq } from './seq-log.js';

describe('SeqLog', () => {
  it('packs only decimals that survive a round trip through a double', () => {
    expect(packSeq('0')).toBe(0);
    expect(packSeq('123456789012345')).toBe(123456789012345);
    for (const s of ['', '007', '1234567890123456', '-1', '1.5', '1e3', '49590338271490256608559692538361571095921575989136588898']) expect(packSeq(s)).toBeNaN();
  });

  it('gives back every sequence as it was given, numeric or not, across chunks', () => {
    const log = new SeqLog();
    const seqs = Array.from({ length: 10_000 }, (_, i) => (i === 5000 ? '0042' : String(i)));
    for (const s of seqs) log.push(s);
    seqs.forEach((s, i) => expect(log.seq(i)).toBe(s));
    const kinesis = new SeqLog();
    kinesis.push('1');
    kinesis.push('49590338271490256608559692538361571095921575989136588898');
    expect([kinesis.seq(0), kinesis.seq(1)]).toEqual(['1', '49590338271490256608559692538361571095921575989136588898']);
  });

  it('drops whole chunks below an index and keeps indices stable', () => {
    const log = new SeqLog();
    for (let i = 0; i < 9000; i++) log.push(String(i));
    log.setFlag(8999, 1);
    log.dropBelow(8500);
    expect(log.start).toBe(8192);
    expect(log.has(8191)).toBe(false);
    expect(log.seq(8500)).toBe('8500');
    expect(log.flag(8999)).toBe(1);
    expect(log.push('9000')).toBe(9000);
    log.dropBelow(20_000);
    expect(log.start).toBe(8192);
  });
});
