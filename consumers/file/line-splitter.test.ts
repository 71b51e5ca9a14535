import { describe, expect, it } from 'vitest';
import { LineSplitter } from './line-splitter.js';

interface Out {
  lineNo: number;
  text: string;
  size: number;
}

/** Feeds `input` in chunks of `chunkSize` bytes and collects every line. */
function split(input: Buffer, chunkSize: number, max = 1024): Out[] {
  const s = new LineSplitter(max);
  const out: Out[] = [];
  for (let i = 0; i < input.length; i += chunkSize) {
    s.feed(input.subarray(i, i + chunkSize));
    for (let d = s.next(); d !== undefined; d = s.next()) out.push({ lineNo: s.lineNo, text: d.toString('latin1'), size: s.size });
  }
  const last = s.end();
  if (last !== undefined) out.push({ lineNo: s.lineNo, text: last.toString('latin1'), size: s.size });
  return out;
}

describe('LineSplitter', () => {
  const input = Buffer.from('alpha\r\n\nbeta\r\n\r\ngamma\ndelta', 'latin1');
  const expected: Out[] = [
    { lineNo: 1, text: 'alpha', size: 5 },
    { lineNo: 2, text: '', size: 0 },
    { lineNo: 3, text: 'beta', size: 4 },
    { lineNo: 4, text: '', size: 0 },
    { lineNo: 5, text: 'gamma', size: 5 },
    { lineNo: 6, text: 'delta', size: 5 },
  ];

  it.each([1, 2, 3, 5, 7, 64])('gives the same lines whatever the chunk size (%i bytes), CRLF and LF alike', (chunk) => {
    expect(split(input, chunk)).toEqual(expected);
  });

  it('returns nothing more at the end when the input ends with a newline', () => {
    expect(split(Buffer.from('a\nb\n'), 3)).toEqual([
      { lineNo: 1, text: 'a', size: 1 },
      { lineNo: 2, text: 'b', size: 1 },
    ]);
  });

  it('keeps bytes as they are, invalid UTF-8 included', () => {
    const bad = Buffer.from([0x7b, 0xff, 0xfe, 0xc3, 0x28, 0x7d]);
    const s = new LineSplitter(100);
    s.feed(Buffer.concat([bad, Buffer.from('\n')]));
    const line = s.next();
    expect(line?.equals(bad)).toBe(true);
  });

  it.each([1000, 4096, 1 << 20])('truncates a line longer than the maximum with its real size, holding at most max+1 bytes (chunks of %i)', (chunk) => {
    // Arrange: a 2 MB line between two short ones.
    const max = 1024;
    const long = Buffer.alloc(2 * 1024 * 1024, 0x61);
    const input = Buffer.concat([Buffer.from('first\n'), long, Buffer.from('\r\nlast\n')]);
    const s = new LineSplitter(max);
    const lines: Array<{ lineNo: number; length: number; size: number }> = [];
    let peak = 0;

    // Act
    for (let i = 0; i < input.length; i += chunk) {
      s.feed(input.subarray(i, i + chunk));
      for (let d = s.next(); d !== undefined; d = s.next()) lines.push({ lineNo: s.lineNo, length: d.length, size: s.size });
      peak = Math.max(peak, s.bufferedBytes);
    }

    // Assert
    expect(lines).toEqual([
      { lineNo: 1, length: 5, size: 5 },
      { lineNo: 2, length: max, size: long.length },
      { lineNo: 3, length: 4, size: 4 },
    ]);
    expect(peak).toBeLessThanOrEqual(max + 1);
  });

  it('does not count a trailing CR of a line exactly max bytes long as content', () => {
    const max = 8;
    const out = split(Buffer.from('12345678\r\n123456789\r\n'), 3, max);
    expect(out).toEqual([
      { lineNo: 1, text: '12345678', size: 8 },
      { lineNo: 2, text: '12345678', size: 9 },
    ]);
  });
});
