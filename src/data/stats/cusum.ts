/**
 * One-sided tabular CUSUM over a sequence of standardised deviations (z-scores of each window against the
 * trusted baseline): S_t = max(0, S_{t-1} + z_t − k). Small persistent shifts, each below any per-window
 * threshold, accumulate until S crosses h. This is what catches slow conditioning, which a comparison of
 * each window with the previous one cannot see.
 */
export interface CusumResult {
  /** S_t for every window. */
  path: Float64Array;
  /** First window index where S_t >= h, or -1. */
  firstCrossing: number;
}

export function cusum(z: ArrayLike<number>, k = 0.5, h = 5): CusumResult {
  const path = new Float64Array(z.length);
  let s = 0;
  let first = -1;
  for (let t = 0; t < z.length; t++) {
    const zt = Number.isFinite(z[t]) ? z[t] : 0;
    s = Math.max(0, s + zt - k);
    path[t] = s;
    if (first < 0 && s >= h) first = t;
  }
  return { path, firstCrossing: first };
}
