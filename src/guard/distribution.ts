/**
 * Output distributions: the share of each predicted class and, per class, a histogram of its probability
 * over equal-width bins of [0, 1]. The profile stores them for the trusted set overall and per slice; the
 * proxy computes the same thing per window with this function and compares (PSI, class-share shift).
 */
import type { OutputDistribution } from './profile.js';

export const DEFAULT_BINS = 20;

/**
 * `probs` is row-major n × k; `rows` selects which rows count (all when absent).
 */
export function outputDistribution(
  probs: Float64Array,
  k: number,
  bins = DEFAULT_BINS,
  rows?: ArrayLike<number>,
): OutputDistribution {
  const n = rows ? rows.length : probs.length / k;
  const counts = new Float64Array(k);
  const hist = Array.from({ length: k }, () => new Array<number>(bins).fill(0));
  for (let r = 0; r < n; r++) {
    const i = rows ? rows[r] : r;
    let best = 0;
    for (let j = 0; j < k; j++) {
      const p = probs[i * k + j];
      if (p > probs[i * k + best]) best = j;
      const b = Math.min(bins - 1, Math.max(0, Math.floor(p * bins)));
      hist[j][b]++;
    }
    counts[best]++;
  }
  return { n, classShares: Array.from(counts, (c) => (n ? c / n : 0)), histograms: hist };
}

/** Population stability index between two histograms (counts), with a small floor for empty bins. */
export function psiOfHistograms(expected: ArrayLike<number>, actual: ArrayLike<number>): number {
  let se = 0;
  let sa = 0;
  for (let i = 0; i < expected.length; i++) {
    se += expected[i];
    sa += actual[i];
  }
  if (se === 0 || sa === 0) return 0;
  let psi = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(expected[i] / se, 1e-4);
    const a = Math.max(actual[i] / sa, 1e-4);
    psi += (a - e) * Math.log(a / e);
  }
  return psi;
}
