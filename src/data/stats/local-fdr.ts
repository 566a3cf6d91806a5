/**
 * Monotone local false-discovery rate along one score (Grenander's estimate, as in Strimmer 2008), shared by
 * the detectors that ask "which of these rows are more than the clean ones explain?".
 *
 * Sort the rows by a score where low means suspect (a label's probability). At each value v plot N(v), the rows
 * at or below v, against E(v), the clean rows expected there (each caller says how many: the clean reference of
 * a class, or an account's honest rows spread as its peers' are). Where suspect rows pile up N rises faster
 * than E; the slope of the least concave majorant of that curve estimates f(v) / f0(v), so its inverse is the
 * probability that a row there is clean. Each cumulative count is read at its lower Poisson confidence bound
 * before the hull is taken: the hull picks the steepest chords, and a handful of rows (a small account, a
 * chance clump in a heavy tail) would otherwise read as a pile.
 */

import { EVIDENCE_Z } from './confidence.js';

/** Number of values in an ascending array at or below v. */
export function countAtOrBelow(sorted: ArrayLike<number>, v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Per element of `sorted` (ascending; low = suspect): the estimated probability that it is clean, 1 where the
 * rows show no excess. `expectedAtOrBelow(v)` is the clean rows expected at or below v, non-decreasing in v.
 * Counts are read at their lower bound (EVIDENCE_Z).
 */
export function monotoneLocalFdr(
  sorted: ArrayLike<number>,
  expectedAtOrBelow: (v: number) => number,
): Float64Array {
  const n = sorted.length;
  // Curve points at each distinct value (N = rows at or below it), from the origin.
  const xs: number[] = [0];
  const ns: number[] = [0];
  for (let j = 0; j < n; j++) {
    if (j < n - 1 && sorted[j + 1] === sorted[j]) continue;
    const x = expectedAtOrBelow(sorted[j]);
    if (x <= xs[xs.length - 1]) {
      ns[ns.length - 1] = j + 1; // same expected count: keep the highest point
      continue;
    }
    xs.push(x);
    ns.push(j + 1);
  }
  if (xs.length === 1) return new Float64Array(n).fill(1); // nothing expected anywhere: no scale to read
  const rank = ns.slice();
  for (let t = 1; t < ns.length; t++) ns[t] = Math.max(0, ns[t] - EVIDENCE_Z * Math.sqrt(ns[t]));
  // Least concave majorant (upper hull, monotone chain); each point takes the slope of the segment ending at or
  // passing over it.
  const hull: number[] = [0];
  for (let t = 1; t < xs.length; t++) {
    while (hull.length >= 2) {
      const a = hull[hull.length - 2];
      const b = hull[hull.length - 1];
      // Drop b when it lies on or below the chord a -> t.
      if ((ns[b] - ns[a]) * (xs[t] - xs[a]) <= (ns[t] - ns[a]) * (xs[b] - xs[a])) hull.pop();
      else break;
    }
    hull.push(t);
  }
  const pointLfdr = new Float64Array(xs.length).fill(1);
  for (let h = 1; h < hull.length; h++) {
    const a = hull[h - 1];
    const b = hull[h];
    const slope = (ns[b] - ns[a]) / (xs[b] - xs[a]);
    const v = slope > 0 ? Math.min(1, 1 / slope) : 1;
    for (let t = a + 1; t <= b; t++) pointLfdr[t] = v;
  }
  // An element's point is the first whose (unshrunk) count reaches the rows at or below its value.
  const out = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const r = countAtOrBelow(sorted, sorted[j]);
    let lo = 1;
    let hi = rank.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (rank[mid] < r) lo = mid + 1;
      else hi = mid;
    }
    out[j] = pointLfdr[lo];
  }
  return out;
}
