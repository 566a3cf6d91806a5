/**
 * The monotone local false-discovery rate both label detectors read a row's chance of being clean from: where the
 * rows at or below a score outnumber the clean ones expected there, the excess is suspect; nowhere else.
 */
import { describe, expect, it } from 'vitest';
import { monotoneLocalFdr } from '../../../src/data/stats/local-fdr.js';
import { rng } from '../helpers.js';

const uniform = (n: number, r: () => number) => Float64Array.from({ length: n }, r).sort();

describe('monotoneLocalFdr', () => {
  it('finds nothing where the rows are as the clean ones expected', () => {
    const vals = uniform(500, rng(1));
    const clean = monotoneLocalFdr(vals, (v) => 500 * v);
    expect(Math.min(...clean)).toBeGreaterThan(0.5);
  });

  it('reads a pile of low scores beyond the clean ones as suspect, and only the pile', () => {
    const r = rng(2);
    // 400 clean rows uniform on [0, 1], 100 more piled in [0, 0.05].
    const vals = Float64Array.from([
      ...uniform(400, r),
      ...Array.from({ length: 100 }, () => 0.05 * r()),
    ]).sort();
    const clean = monotoneLocalFdr(vals, (v) => 400 * v);
    const low = vals.map((v, j) => (v < 0.05 ? clean[j] : Number.NaN)).filter((x) => !Number.isNaN(x));
    const high = vals.map((v, j) => (v > 0.2 ? clean[j] : Number.NaN)).filter((x) => !Number.isNaN(x));
    // The true rate there is 20 clean of 120: about 0.17.
    expect(low.reduce((a, b) => a + b, 0) / low.length).toBeLessThan(0.3);
    expect(low.filter((x) => x < 0.5).length).toBeGreaterThan(0.9 * low.length);
    expect(Math.min(...high)).toBeGreaterThan(0.5);
    for (let j = 1; j < vals.length; j++) expect(clean[j]).toBeGreaterThanOrEqual(clean[j - 1] - 1e-12);
  });

  it('does not read a handful of rows as a pile: each count is taken at its lower confidence bound', () => {
    // Three rows where one is expected: three times the clean rate, but three rows.
    const clean = monotoneLocalFdr(Float64Array.from([0.001, 0.002, 0.003]), (v) => 300 * v);
    expect(Math.min(...clean)).toBeGreaterThan(0.5);
  });
});
