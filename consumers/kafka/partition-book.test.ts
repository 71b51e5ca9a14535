import { describe, expect, it } from 'vitest';
import { PartitionBook } from './partition-book.js';

describe('PartitionBook', () => {
  it('sends commits only forwards and only for assigned partitions', () => {
    const book = new PartitionBook();
    book.assign([0, 1]);
    expect(book.decide(0, 5n)).toBe('send');
    book.committedTo(0, 5n);
    expect(book.decide(0, 5n)).toBe('behind');
    expect(book.decide(0, 3n)).toBe('behind');
    expect(book.decide(0, 6n)).toBe('send');
    expect(book.decide(2, 1n)).toBe('unassigned');
  });

  it('reports gained, lost and retained partitions and forgets a lost one', () => {
    const book = new PartitionBook();
    book.assign([0, 1, 2, 3]);
    const change = book.assign([1, 3, 4]);
    expect(change).toEqual({ gained: [4], lost: [0, 2], retained: [1, 3] });
    expect(book.partitions).toEqual([1, 3, 4]);
    expect(book.decide(0, 10n)).toBe('unassigned');
  });

  it('recognises records handed on before a rebalance when kafkajs fetches them again', () => {
    const book = new PartitionBook();
    book.assign([0]);
    book.markEmitted(0, 9n);
    expect(book.wasEmitted(0, 9n)).toBe(true);
    expect(book.wasEmitted(0, 10n)).toBe(false);
    book.assign([0]);
    expect(book.wasEmitted(0, 5n)).toBe(true);
  });

  it('keeps a retained partition committable across a rebalance', () => {
    const book = new PartitionBook();
    book.assign([0]);
    book.markEmitted(0, 9n);
    book.assign([0]);
    expect(book.decide(0, 10n)).toBe('send');
  });

  it('treats commits from an earlier ownership of a regained partition as stale', () => {
    const book = new PartitionBook();
    book.assign([0]);
    book.markEmitted(0, 9n);
    book.assign([]);
    book.assign([0]);
    expect(book.decide(0, 10n)).toBe('stale');
    book.markEmitted(0, 15n);
    expect(book.decide(0, 16n)).toBe('send');
  });

  it('defers commits during a rebalance and keeps only those of partitions still assigned', () => {
    const book = new PartitionBook();
    book.assign([0, 1]);
    book.beginRebalance();
    expect(book.decide(0, 4n)).toBe('defer');
    book.defer(0, 4n);
    book.defer(1, 7n);
    book.defer(1, 6n);
    book.assign([1]);
    expect(book.isRebalancing).toBe(false);
    expect(book.takePending()).toEqual([[1, 7n]]);
    expect(book.takePending()).toEqual([]);
  });

  it('keeps deferred commits while the rebalance lasts', () => {
    const book = new PartitionBook();
    book.assign([0]);
    book.beginRebalance();
    book.defer(0, 4n);
    expect(book.takePending()).toEqual([]);
    expect(book.hasPending).toBe(true);
    book.assign([0]);
    expect(book.takePending()).toEqual([[0, 4n]]);
    expect(book.hasPending).toBe(false);
  });
});
