/**
 * Thresholds beyond the largest calibration score: a guard fitted on a few hundred trusted rows must still hold the
 * false-alarm rate asked for, where the largest score seen holds only 1 / (n + 1).
 */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/data/learn/random.js';
import { normalUpperTail } from '../../src/data/stats/tests.js';
import { calibratedThreshold, fitTail, gammaQuantile, perClassThresholds } from '../../src/guard/tail.js';

// Each law with its exact upper tail, so a threshold's false-alarm rate is known without sampling.
const r = mulberry32(7);
const laws = {
  exponential: { draw: () => -Math.log(1 - r()), tail: (t: number) => Math.exp(-Math.max(0, t)) },
  // Pareto with index 3: a heavy tail (shape 1/3).
  pareto: { draw: () => (1 - r()) ** (-1 / 3), tail: (t: number) => (t <= 1 ? 1 : t ** -3) },
  // Half-normal |Z|, tail 2 * (1 - Phi(t)).
  halfNormal: {
    draw: () => Math.abs(Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())),
    tail: (t: number) => 2 * normalUpperTail(t),
  },
};

describe('calibratedThreshold on too few rows', () => {
  const alpha = 0.0027;
  for (const [name, law] of Object.entries(laws))
    it(`holds a 0.27% rate from 100 ${name} scores, where the largest score holds about 1%`, () => {
      const rates: number[] = [];
      const maxRates: number[] = [];
      for (let rep = 0; rep < 300; rep++) {
        const s = Float64Array.from({ length: 100 }, law.draw);
        const t = calibratedThreshold(s, alpha);
        expect(t.extrapolated).toBe(true);
        expect(t.expectedFpr).toBe(alpha);
        expect(t.threshold).toBeGreaterThan(Math.max(...s));
        rates.push(law.tail(t.threshold));
        maxRates.push(law.tail(Math.max(...s)));
      }
      const mean = (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length;
      // The rate asked for, on average over calibration sets (a heavy tail within half as much again)...
      expect(mean(rates)).toBeLessThan(alpha * (name === 'pareto' ? 1.5 : 1));
      // ...where the largest score is exceeded about once in 101.
      expect(mean(maxRates)).toBeGreaterThan(0.008);
      // And it is not bought by an infinite threshold: the check still fires on a score far in the tail.
      rates.sort((a, b) => a - b);
      expect(rates[Math.floor(rates.length / 2)]).toBeGreaterThan(1e-6);
    });

  it('holds the rate with 90% confidence where the largest score holds it only on average (500 rows)', () => {
    // 1 / 501 is below 0.27%, but the rate the largest of 500 scores holds is Beta(1, 500) over calibration sets:
    // above 0.27% one time in four.
    let over = 0;
    let maxOver = 0;
    const reps = 300;
    for (let rep = 0; rep < reps; rep++) {
      const s = Float64Array.from({ length: 500 }, laws.exponential.draw);
      const t = calibratedThreshold(s, alpha);
      expect(t.extrapolated).toBe(true);
      if (laws.exponential.tail(t.threshold) > alpha) over++;
      if (laws.exponential.tail(Math.max(...s)) > alpha) maxOver++;
    }
    expect(maxOver / reps).toBeGreaterThan(0.18);
    expect(over / reps).toBeLessThan(0.13);
  });

  it('keeps the conformal threshold where the rows are enough, and says when rows are too few to fit', () => {
    const s = Float64Array.from({ length: 3000 }, laws.exponential.draw);
    const many = calibratedThreshold(s, alpha);
    expect(many.extrapolated).toBe(false);
    expect(many.threshold).toBeLessThan(Math.max(...s));
    const few = calibratedThreshold(s.slice(0, 8), alpha);
    expect(few.extrapolated).toBe(false);
    expect(few.expectedFpr).toBeCloseTo(1 / 9, 9);
  });

  it('reads a tied top of the scores (a discrete score) as no tail to extrapolate', () => {
    const s = Float64Array.from({ length: 100 }, (_, i) => (i < 70 ? i / 100 : 1));
    const t = calibratedThreshold(s, alpha);
    expect(t.threshold).toBeGreaterThan(1);
    expect(t.threshold).toBeLessThan(1.000001);
  });
});

describe('perClassThresholds', () => {
  it('gives a class too small to fit a tail the threshold of all classes, not just above its own few scores', () => {
    const alpha = 0.0027;
    const big = Array.from({ length: 600 }, laws.exponential.draw);
    // Nine scores of a class the model rarely answers: just above their largest would flag about one in ten.
    const small = Array.from({ length: 9 }, laws.exponential.draw);
    const [t0, t1] = perClassThresholds([big, small], alpha);
    expect(t0.threshold).toBeCloseTo(calibratedThreshold(big, alpha).threshold, 12);
    expect(t1.threshold).toBeGreaterThanOrEqual(calibratedThreshold([...big, ...small], alpha).threshold);
    expect(t1.threshold).toBeGreaterThan(Math.max(...small));
    expect(t1.extrapolated).toBe(true);
    expect(t1.expectedFpr).toBe(alpha);
    // What the class would hold on its own, and what it holds now (exponential scores: exact tail).
    expect(laws.exponential.tail(calibratedThreshold(small, alpha).threshold)).toBeGreaterThan(0.01);
    expect(laws.exponential.tail(t1.threshold)).toBeLessThan(alpha);
  });
});

describe('tail fit', () => {
  it('recovers an exponential scale and a heavy shape', () => {
    const e = Float64Array.from({ length: 5000 }, laws.exponential.draw).sort();
    const fe = fitTail(e);
    expect(fe?.shape).toBeLessThan(0.08);
    // The scale is the upper confidence bound: a little above 1.
    expect(fe?.scale).toBeGreaterThan(1);
    expect(fe?.scale).toBeLessThan(1.15);
    const p = Float64Array.from({ length: 5000 }, laws.pareto.draw).sort();
    expect(fitTail(p)?.shape).toBeGreaterThan(0.2);
  });

  it('gamma quantile matches known values', () => {
    // Gamma(10, 1): 10% quantile 6.221; Gamma(20, 1): 14.525.
    expect(gammaQuantile(10, 0.1)).toBeCloseTo(6.221, 1);
    expect(gammaQuantile(20, 0.1)).toBeCloseTo(14.525, 1);
  });
});
