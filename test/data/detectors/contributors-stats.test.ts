import { describe, expect, it } from 'vitest';
import { median, weightedMedian } from '../../../src/data/stats/robust.js';
import {
  benjaminiHochberg,
  binomialUpperTail,
  normalQuantileUpper,
  normalUpperTail,
  studentUpperTail,
  twoProportionZ,
} from '../../../src/data/stats/tests.js';

describe('statistics behind the contributor and drift tests', () => {
  it('binomial upper tails match exact sums, including tiny p-values', () => {
    // P(X >= 3), X ~ Bin(10, 0.1) = 1 - (0.9^10 + 10·0.1·0.9^9 + 45·0.01·0.9^8)
    const exact = 1 - (0.9 ** 10 + 10 * 0.1 * 0.9 ** 9 + 45 * 0.01 * 0.9 ** 8);
    expect(binomialUpperTail(3, 10, 0.1)).toBeCloseTo(exact, 10);
    expect(binomialUpperTail(0, 10, 0.1)).toBe(1);
    expect(binomialUpperTail(11, 10, 0.1)).toBe(0);
    // Below the mode: the complement of the lower tail.
    expect(binomialUpperTail(1, 10, 0.5)).toBeCloseTo(1 - 0.5 ** 10, 12);
    // A campaign-sized deviation: 50 of 60 at rate 0.01 is astronomically unlikely, but not 0 or NaN.
    const p = binomialUpperTail(50, 60, 0.01);
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(1e-60);
  });

  it('Benjamini-Hochberg rejects the step-up set', () => {
    expect(benjaminiHochberg([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205], 0.05)).toEqual([
      true,
      true,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(benjaminiHochberg([0.01, 0.02, 0.03], 0.05)).toEqual([true, true, true]);
    expect(benjaminiHochberg([], 0.05)).toEqual([]);
  });

  it("Student's t tails (the clean reference of a class with few trusted rows)", () => {
    // Reference values of the t distribution.
    expect(studentUpperTail(2, 3)).toBeCloseTo(0.0697, 4);
    expect(studentUpperTail(1, 1)).toBeCloseTo(0.25, 6);
    expect(studentUpperTail(3, 10)).toBeCloseTo(0.00667, 5);
    expect(studentUpperTail(-1, 5)).toBeCloseTo(1 - 0.18161, 4);
    // Many degrees of freedom: the normal tail; few: far heavier.
    expect(studentUpperTail(4, 1e5)).toBeCloseTo(normalUpperTail(4), 6);
    expect(studentUpperTail(10, 2)).toBeGreaterThan(1e-3);
  });

  it('normal tails, quantiles and two-proportion z', () => {
    expect(normalUpperTail(1.959964)).toBeCloseTo(0.025, 6);
    expect(normalQuantileUpper(0.025)).toBeCloseTo(1.959964, 4);
    expect(twoProportionZ(60, 100, 50, 100)).toBeCloseTo(1.4213, 3);
    expect(twoProportionZ(5, 0, 1, 10)).toBe(0);
  });

  it('the weighted median ignores a few heavy outliers that a pooled mean would follow', () => {
    const rates = [0.02, 0.03, 0.025, 0.9, 0.95];
    const rows = [100, 100, 100, 80, 80];
    // Half of the 460 rows lie at rates up to 0.03; the pooled mean would be 0.34.
    expect(weightedMedian(rates, rows)).toBe(0.03);
    expect(median([3, 1, 2])).toBe(2);
  });
});
