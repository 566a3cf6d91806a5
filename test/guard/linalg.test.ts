/**
 * The numeric kernels behind guard/activation: the Ledoit-Wolf estimate agrees with scikit-learn's
 * `sklearn.covariance.ledoit_wolf` (values printed by Debian's python3-sklearn for this matrix), the inverse is
 * an inverse, and thresholds keep their false-alarm promise.
 */
import { describe, expect, it } from 'vitest';
import { conformalThreshold, invertSpd, ledoitWolf, mahalanobis, meanOf } from '../../src/guard/linalg.js';

const X = Float64Array.from(
  Array.from({ length: 9 }, (_, i) =>
    Array.from({ length: 4 }, (_, j) => ((i * 7 + j * 3) % 11) / 3 + (i % 3) * j * 0.1),
  ).flat(),
);

describe('guard linear algebra', () => {
  it('Ledoit-Wolf shrinkage and covariance match scikit-learn', () => {
    const idx = Int32Array.from({ length: 9 }, (_, i) => i);
    const { cov, shrinkage } = ledoitWolf(X, 4, idx, meanOf(X, 4, idx));
    expect(shrinkage).toBeCloseTo(0.9136812572595926, 9);
    const sk = [
      [1.1198026491, -0.0087739627, -0.0559118111, -0.0066663172],
      [-0.0087739627, 1.1052930486, -0.0339094123, -0.0413974744],
      [-0.0559118111, -0.0339094123, 1.1127740063, -0.0008454264],
      [-0.0066663172, -0.0413974744, -0.0008454264, 1.100045248],
    ];
    for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) expect(cov[a * 4 + b]).toBeCloseTo(sk[a][b], 8);
  });

  it('inverts a covariance and measures Mahalanobis distance with it', () => {
    const idx = Int32Array.from({ length: 9 }, (_, i) => i);
    const mean = meanOf(X, 4, idx);
    const { cov } = ledoitWolf(X, 4, idx, mean);
    const inv = invertSpd(cov, 4);
    for (let a = 0; a < 4; a++)
      for (let b = 0; b < 4; b++) {
        let s = 0;
        for (let k = 0; k < 4; k++) s += cov[a * 4 + k] * inv[k * 4 + b];
        expect(s).toBeCloseTo(a === b ? 1 : 0, 10);
      }
    expect(mahalanobis(mean, 0, mean, inv, 4, new Float64Array(4))).toBe(0);
  });

  it('sets thresholds that hold the false-alarm rate for the calibration set at hand', () => {
    // 800 calibration scores at 0.5%: the second largest (P(Bin(800, 0.005) <= 1) = 0.09 <= 0.1).
    const scores = Array.from({ length: 800 }, (_, i) => i + 1);
    expect(conformalThreshold(scores, 0.005)).toBe(799);
    // Too few rows to promise 0.5%: above the largest score.
    expect(conformalThreshold(scores.slice(0, 100), 0.005)).toBeGreaterThan(100);
    // On fresh draws from the same distribution, the realised rate stays under alpha in most calibrations.
    let seed = 3;
    const draw = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    let over = 0;
    for (let t = 0; t < 200; t++) {
      const cal = Array.from({ length: 1000 }, draw);
      const th = conformalThreshold(cal, 0.01);
      // Uniform scores: the false-alarm rate of threshold th is 1 - th.
      if (1 - th > 0.01) over++;
    }
    expect(over / 200).toBeLessThanOrEqual(0.15);
  });
});
