/** Robust summary statistics over plain or typed arrays (sorting a copy; inputs are never modified). */

export type Numbers = ArrayLike<number>;

function sortedCopy(xs: Numbers): Float64Array {
  const s = Float64Array.from(xs as ArrayLike<number>).filter((v) => !Number.isNaN(v));
  s.sort();
  return s;
}

/** Quantile with linear interpolation (type 7); NaN values are ignored; NaN for an empty input. */
export function quantile(xs: Numbers, q: number): number {
  return quantileSorted(sortedCopy(xs), q);
}

export function quantileSorted(s: ArrayLike<number>, q: number): number {
  if (s.length === 0) return Number.NaN;
  const pos = (s.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export function median(xs: Numbers): number {
  return quantile(xs, 0.5);
}

/** Median absolute deviation, scaled by 1.4826 so that it estimates the standard deviation of a normal. */
export function mad(xs: Numbers, centre = median(xs)): number {
  const dev = new Float64Array(xs.length);
  for (let i = 0; i < xs.length; i++) dev[i] = Math.abs(xs[i] - centre);
  return 1.4826 * median(dev);
}

/**
 * Weighted median: the value below which half the total weight lies. Used as a population rate that a
 * few heavy, hostile groups cannot drag (unlike a pooled mean).
 */
export function weightedMedian(values: Numbers, weights: Numbers): number {
  const order = Array.from({ length: values.length }, (_, i) => i).filter((i) => weights[i] > 0);
  if (order.length === 0) return Number.NaN;
  order.sort((a, b) => values[a] - values[b]);
  let total = 0;
  for (const i of order) total += weights[i];
  let acc = 0;
  for (const i of order) {
    acc += weights[i];
    if (acc >= total / 2) return values[i];
  }
  return values[order[order.length - 1]];
}
