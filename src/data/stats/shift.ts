/**
 * The label-shift test of trigger mining: does a pattern carry a label on its incoming rows more often than
 * the trusted reference expects? The reference's expectation is uncertain (a pattern seen on a handful of
 * trusted rows says little), so the rate is a Beta posterior: the pattern's own trusted rows with the label
 * (kt of nt), plus a prior worth `priorRows` rows at the rate a model predicts for the pattern's incoming
 * rows (m). The number of incoming rows with the label is then beta-binomial, and a 100-row trusted set
 * cannot make sampling noise look like a shift.
 */
import { logGamma, normalUpperTail } from './tests.js';

/** How much more often the batch carries a pattern than the trusted set (half a row added to the trusted count). */
export function liftOf(dfIn: number, nIn: number, dfTr: number, nTr: number): number {
  return dfIn / nIn / ((dfTr + 0.5) / (nTr + 0.5));
}

/**
 * P(X >= k) for X ~ BetaBinomial(n, a, b). Sums pmf terms upward with the pmf ratio, so no special function
 * is called in the loop; rates at or below the mean return a normal approximation (never significant).
 */
export function betaBinomialUpperTail(k: number, n: number, a: number, b: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  const mean = (n * a) / (a + b);
  const variance = (n * a * b * (a + b + n)) / ((a + b) ** 2 * (a + b + 1));
  const z = (k - 0.5 - mean) / Math.sqrt(Math.max(variance, 1e-12));
  if (z < 2) return normalUpperTail(z);
  const lnB = (x: number, y: number) => logGamma(x) + logGamma(y) - logGamma(x + y);
  const lnC = logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
  const first = lnC + lnB(k + a, n - k + b) - lnB(a, b);
  let term = 1;
  let sum = 1;
  for (let j = k; j < n; j++) {
    term *= ((n - j) / (j + 1)) * ((j + a) / (n - j - 1 + b));
    sum += term;
    if (term < 1e-16 * sum) break;
  }
  return Math.min(1, Math.exp(first) * sum);
}

/** Beta posterior of the label's rate on a pattern's rows (see the module comment). */
function posterior(kt: number, nt: number, sumModel: number, n: number, priorRows: number) {
  const m = Math.min(1 - 1e-6, Math.max(1e-6, sumModel / Math.max(1, n)));
  return { a: kt + priorRows * m + 0.05, b: nt - kt + priorRows * (1 - m) + 0.05 };
}

/** The rate the reference expects (posterior mean). */
export function expectedRate(n: number, kt: number, nt: number, sumModel: number, priorRows: number): number {
  const { a, b } = posterior(kt, nt, sumModel, n, priorRows);
  return a / (a + b);
}

/** P-value of k of n incoming rows with the label (upper tail; `sumModel` is the model's sum of P(label)). */
export function labelShiftP(
  k: number,
  n: number,
  kt: number,
  nt: number,
  sumModel: number,
  priorRows: number,
): number {
  if (n <= 0) return 1;
  const { a, b } = posterior(kt, nt, sumModel, n, priorRows);
  return betaBinomialUpperTail(k, n, a, b);
}

/**
 * How many rows a model's prediction is worth, measured on held-out labels (empirical Bayes): if a pattern's
 * true label rate is Beta-distributed around the model's prediction m with concentration phi, k of its n
 * rows have variance n m (1 - m) (phi + n) / (phi + 1). The phi at which the squared standardised residuals
 * average 1 (method of moments) is what the model has earned; `cap` when it is as good as binomial sampling
 * allows. Arrays: label count k, rows n, the model's sum of P(label) over those rows (out of fold).
 */
export function modelWorth(
  k: ArrayLike<number>,
  n: ArrayLike<number>,
  sumModel: ArrayLike<number>,
  cap: number,
): number {
  return worthWhere(k, n, sumModel, cap, (x) => x.reduce((a, b) => a + b, 0) / x.length, 1);
}

/** Median of a chi-square variable with one degree of freedom. */
const CHI2_1_MEDIAN = 0.454936;

/**
 * modelWorth by the median instead of the mean: the phi at which the median squared standardised residual is
 * that of a chi-square with one degree of freedom, so a few patterns far off the model's expectation (a plant
 * and the patterns that hold it) do not set what the model is worth on the rest.
 */
export function modelWorthRobust(
  k: ArrayLike<number>,
  n: ArrayLike<number>,
  sumModel: ArrayLike<number>,
  cap: number,
): number {
  return worthWhere(k, n, sumModel, cap, (x) => x.sort()[Math.floor(x.length / 2)], CHI2_1_MEDIAN);
}

/**
 * The phi (between 0.5 and `cap`) at which `statistic` of the squared standardised residuals, each scaled by
 * (phi + 1) / (phi + n), equals `target`; the statistic falls as phi falls.
 */
function worthWhere(
  k: ArrayLike<number>,
  n: ArrayLike<number>,
  sumModel: ArrayLike<number>,
  cap: number,
  statistic: (scaled: Float64Array) => number,
  target: number,
): number {
  const r2: number[] = [];
  const ns: number[] = [];
  for (let j = 0; j < k.length; j++) {
    if (n[j] <= 1) continue;
    const m = Math.min(1 - 1e-3, Math.max(1e-3, sumModel[j] / n[j]));
    r2.push((k[j] - n[j] * m) ** 2 / (n[j] * m * (1 - m)));
    ns.push(n[j]);
  }
  if (r2.length === 0) return cap;
  const scaled = new Float64Array(r2.length);
  const at = (phi: number) => {
    for (let j = 0; j < r2.length; j++) scaled[j] = (r2[j] * (phi + 1)) / (phi + ns[j]);
    return statistic(scaled);
  };
  if (at(cap) <= target) return cap;
  if (at(0.5) > target) return 0.5;
  let lo = Math.log(0.5);
  let hi = Math.log(cap);
  for (let it = 0; it < 30; it++) {
    const mid = (lo + hi) / 2;
    if (at(Math.exp(mid)) > target) hi = mid;
    else lo = mid;
  }
  return Math.exp(lo);
}
