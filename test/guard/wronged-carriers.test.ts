/**
 * Held trusted rows already carrying a candidate trigger: those a flag would wrong count against it, and carriers
 * the promoted model answers with the trigger's class against a model of the trusted data (a backdoor firing on a
 * natural carrier) are discounted only when that is rarer among held rows at large.
 */
import { describe, expect, it } from 'vitest';
import { wrongedCarriers } from '../../src/guard/scorer.js';

describe('wrongedCarriers', () => {
  it('counts every carrier when none is answered against the reference', () => {
    expect(wrongedCarriers(5, 0, 0.1)).toBe(5);
  });
  it('discounts carriers answered against the reference far more often than other rows are', () => {
    // Two of two carriers where one held row in ten is answered so: P = 0.01.
    expect(wrongedCarriers(2, 2, 0.1)).toBe(0);
    expect(wrongedCarriers(20, 12, 0.1)).toBe(8);
  });
  it('keeps them when a weak model disagrees with the reference as often anyway', () => {
    // One of one (P = 0.1), and 6 of 20 where 30% of rows disagree.
    expect(wrongedCarriers(1, 1, 0.1)).toBe(1);
    expect(wrongedCarriers(20, 6, 0.3)).toBe(20);
  });
});
