/**
 * Distribution shift measures between a trusted reference and a window of incoming rows:
 * population stability index (PSI), Jensen-Shannon divergence, and quantile bins fitted on the reference.
 */

/** Smoothed proportions of a count vector (add-`alpha` so empty bins do not make PSI infinite). */
export function proportions(counts: ArrayLike<number>, alpha = 0.5): Float64Array {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i] + alpha;
  const out = new Float64Array(counts.length);
  for (let i = 0; i < counts.length; i++) out[i] = (counts[i] + alpha) / total;
  return out;
}

/** PSI = Σ (a − e) · ln(a / e) over bins. Rule of thumb: < 0.1 stable, 0.1–0.25 moderate, > 0.25 major. */
export function psi(expectedCounts: ArrayLike<number>, actualCounts: ArrayLike<number>): number {
  const e = proportions(expectedCounts);
  const a = proportions(actualCounts);
  let s = 0;
  for (let i = 0; i < e.length; i++) s += (a[i] - e[i]) * Math.log(a[i] / e[i]);
  return s;
}

/** Jensen-Shannon divergence in bits (0 = same distribution, 1 = disjoint). */
export function jensenShannon(pCounts: ArrayLike<number>, qCounts: ArrayLike<number>): number {
  const p = proportions(pCounts, 0);
  const q = proportions(qCounts, 0);
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const m = (p[i] + q[i]) / 2;
    if (p[i] > 0) s += 0.5 * p[i] * Math.log2(p[i] / m);
    if (q[i] > 0) s += 0.5 * q[i] * Math.log2(q[i] / m);
  }
  return Math.max(0, s);
}

/**
 * PSI expected from sampling noise alone when both samples come from the same distribution
 * (≈ (bins − 1)(1/n0 + 1/n1), the chi-square mean), so that small windows are not flagged for noise.
 */
export function psiNoiseFloor(bins: number, n0: number, n1: number): number {
  if (n0 <= 0 || n1 <= 0) return Number.POSITIVE_INFINITY;
  return (bins - 1) * (1 / n0 + 1 / n1);
}

/**
 * Cut points at the reference's quantiles (distinct values only), so each reference bin holds about the
 * same share. Values equal to a cut go to the upper bin. Missing values (NaN) get their own last bin.
 */
export function quantileEdges(values: ArrayLike<number>, bins: number): Float64Array {
  const s = Float64Array.from(values as ArrayLike<number>).filter((v) => !Number.isNaN(v));
  s.sort();
  const edges: number[] = [];
  for (let b = 1; b < bins; b++) {
    const v = s[Math.min(s.length - 1, Math.floor((b * s.length) / bins))];
    if (v !== undefined && (edges.length === 0 || v > edges[edges.length - 1])) edges.push(v);
  }
  // Drop an edge equal to the minimum (it would leave an empty first bin).
  if (edges.length && s.length && edges[0] <= s[0]) edges.shift();
  return Float64Array.from(edges);
}

/** Bin index of v given edges (binary search); NaN goes to bin edges.length + 1. */
export function binOf(v: number, edges: Float64Array): number {
  if (Number.isNaN(v)) return edges.length + 1;
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (v >= edges[mid]) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
