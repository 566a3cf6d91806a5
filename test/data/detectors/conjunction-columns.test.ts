/**
 * How many columns of a wide table the conjunction search spans: a fixed budget of row-triples of columns, so a
 * small batch has every column of a 30-column table searched (a plant in columns the pair screen ranks low is
 * still seen) while a large batch stays at 16 columns and its cost does not grow with the rows.
 */
import { describe, expect, it } from 'vitest';
import { CONJUNCTION_COLUMNS, conjunctionColumns } from '../../../src/data/detectors/triggers/spaces.js';

const triples = (c: number) => (c * (c - 1) * (c - 2)) / 6;

describe('conjunctionColumns', () => {
  it('spans every column of a 30-column table of a few hundred rows', () => {
    expect(conjunctionColumns(474)).toBeGreaterThanOrEqual(30);
    expect(conjunctionColumns(100)).toBeGreaterThan(conjunctionColumns(474));
  });
  it('keeps 16 columns from 12,000 rows up, and never fewer', () => {
    expect(conjunctionColumns(12_000)).toBe(CONJUNCTION_COLUMNS);
    expect(conjunctionColumns(1_000_000)).toBe(CONJUNCTION_COLUMNS);
  });
  it('holds the rows times column-triples under one budget between those', () => {
    const budget = 12_000 * triples(CONJUNCTION_COLUMNS);
    for (const n of [500, 1_000, 3_000, 6_000, 11_999]) {
      const c = conjunctionColumns(n);
      expect(n * triples(c)).toBeLessThanOrEqual(budget);
      expect(n * triples(c + 1)).toBeGreaterThan(budget);
    }
  });
});
