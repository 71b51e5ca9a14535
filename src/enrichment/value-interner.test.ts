import { describe, expect, it } from 'vitest';
import { ValueInterner } from './value-interner.js';

/** A string equal to `s` but made at run time, as a driver parsing a row makes it. */
const fresh = (s: string) => [...s].join('');

// Which copy of a string comes back cannot be observed from JS; what matters is that every
// value comes back unchanged, whether the column repeats (shared) or not (left alone).
describe('ValueInterner', () => {
  it('returns every value of a column whose values repeat', () => {
    const interner = new ValueInterner();
    for (let i = 0; i < 5000; i++) expect(interner.intern(fresh(i % 2 ? 'shipped' : 'pending'))).toBe(i % 2 ? 'shipped' : 'pending');
  });

  it('returns every value of a column that turns out mostly distinct, before and after it stops sharing', () => {
    const interner = new ValueInterner();
    for (let i = 0; i < 5000; i++) expect(interner.intern(fresh(`Customer ${i % 3000}`))).toBe(`Customer ${i % 3000}`);
  });
});
