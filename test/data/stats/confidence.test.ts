import { describe, expect, it } from 'vitest';
import { EVIDENCE_Z, wilson } from '../../../src/data/stats/confidence.js';

describe('wilson: the bounds every count is read at', () => {
  it('brackets the share, narrows with rows, and stays inside [0, 1]', () => {
    const small = wilson(3, 10);
    const large = wilson(300, 1000);
    expect(small.lower).toBeLessThan(0.3);
    expect(small.upper).toBeGreaterThan(0.3);
    expect(large.upper - large.lower).toBeLessThan((small.upper - small.lower) / 5);
    expect(wilson(0, 20).lower).toBe(0);
    expect(wilson(0, 20).upper).toBeGreaterThan(0.05);
    expect(wilson(20, 20).upper).toBe(1);
    expect(wilson(0, 0)).toEqual({ lower: 0, upper: 1 });
  });

  it('is the one-sided 95% bound: 1 of 100 reads as at most about 4.4%', () => {
    expect(EVIDENCE_Z).toBeCloseTo(1.645, 3);
    expect(wilson(1, 100).upper).toBeCloseTo(0.0436, 3);
    expect(wilson(50, 100).lower).toBeCloseTo(0.4188, 3);
  });
});
