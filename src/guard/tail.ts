/**
 * A threshold beyond the largest calibration score. With n held-back rows a threshold just above the largest score
 * is exceeded by a new clean score with probability 1 / (n + 1) on average, whatever the scores' law
 * (exchangeability), however small the rate asked for: a 100-row calibration set cannot hold 0.3% that way, and
 * even where 1 / (n + 1) is below the rate, the rate the largest score holds varies from one calibration set to
 * the next (Beta(1, n)): 360 rows hold 0.27% on average but exceed it one time in four.
 * Extreme-value theory (Pickands-Balkema-de Haan) gives the excesses over a high level a generalized Pareto law
 * whatever the scores' own law, so the top of the sample fixes the tail (peaks over threshold, as SPOT sets
 * streaming anomaly thresholds: Siffer et al., KDD 2017), and the threshold goes beyond the largest score as far
 * as that tail needs for its exceedances to fall from 1 / (n + 1) to the rate asked for. Anchoring at the largest
 * score keeps the distribution-free part of the bound and makes the threshold continuous where the rows become
 * enough. The law is fitted by probability-weighted moments (Hosking & Wallis 1987), stable with a few dozen
 * excesses where maximum likelihood is not. Its shape is kept within [0, 0.5]: a bounded tail read from a dozen
 * points puts the threshold too close, and a heavier one cannot be told from them; its scale is taken at a 90%
 * upper bound, the confidence the conformal threshold holds its rate with.
 */
import { normalQuantileUpper } from '../data/stats/tests.js';
import { aboveMax, conformalThreshold } from './linalg.js';

/** Fewest excesses a tail is fitted on; with fewer rows the threshold stays just above the largest score. */
const MIN_EXCESSES = 10;
/** Share of the rows, at the top, whose excesses fit the tail. */
const TAIL_SHARE = 0.2;
const MAX_SHAPE = 0.5;
/** As linalg.ts's conformalThreshold: the threshold holds its rate with this probability of failing. */
const CONFIDENCE_DELTA = 0.1;

/** The p-quantile of Gamma(shape m, scale 1), by Wilson-Hilferty's cube-root normal approximation. */
export function gammaQuantile(m: number, p: number): number {
  const z = -normalQuantileUpper(p);
  const c = 1 / (9 * m);
  return m * (1 - c + z * Math.sqrt(c)) ** 3;
}

export interface TailFit {
  /** The level the excesses are measured from, and how many rows lie above it. */
  level: number;
  excesses: number;
  /** Generalized Pareto scale and shape (xi > 0: heavy tail, xi < 0: bounded). */
  scale: number;
  shape: number;
}

/** Fit the tail of `sorted` (ascending); undefined when too few rows lie above the level to fit it. */
export function fitTail(sorted: Float64Array): TailFit | undefined {
  const n = sorted.length;
  const m = Math.max(MIN_EXCESSES, Math.ceil(TAIL_SHARE * n));
  if (m + 1 > n) return undefined;
  const level = sorted[n - m - 1];
  // Probability-weighted moments of the excesses: a0 = E[Y], a1 = E[Y (1 - F(Y))], plotting positions (i - 0.35) / m.
  let a0 = 0;
  let a1 = 0;
  for (let i = 0; i < m; i++) {
    const y = sorted[n - m + i] - level;
    a0 += y;
    a1 += (1 - (i + 0.65) / m) * y;
  }
  a0 /= m;
  a1 /= m;
  const d = a0 - 2 * a1;
  if (!(a0 > 0) || !(d > 0)) return { level, excesses: m, scale: 0, shape: 0 };
  // Hosking's k is -xi.
  const k = a0 / d - 2;
  const shape = Math.min(MAX_SHAPE, Math.max(0, -k));
  // Scale from the mean for the kept shape (E[Y] = scale / (1 - xi)), taken at its upper confidence bound: under
  // an exponential tail the sum of m excesses is Gamma(m, scale), so scale <= sum / q(m, delta) with 1 - delta
  // confidence, the confidence the conformal threshold holds its rate with.
  const upper = m / gammaQuantile(m, CONFIDENCE_DELTA);
  return { level, excesses: m, scale: a0 * (1 - shape) * upper, shape };
}

/**
 * How far beyond `max` (the largest of n scores) the threshold must go for its rate to fall to `alpha` with the
 * confidence the conformal threshold has: a new clean score exceeds the largest of n with a probability that is
 * Beta(1, n) over calibration sets, at most 1 - delta^(1/n) with confidence 1 - delta; the fitted tail's ratio of
 * exceedances takes that down to `alpha`.
 */
function beyondMax(fit: TailFit, max: number, n: number, alpha: number): number {
  const ratio = Math.min(1, alpha / -Math.expm1(Math.log(CONFIDENCE_DELTA) / n));
  if (fit.scale <= 0) return max;
  const x = max - fit.level;
  if (Math.abs(fit.shape) < 1e-9) return max - fit.scale * Math.log(ratio);
  // (1 + xi (x + y) / scale) = (1 + xi x / scale) * ratio^(-xi)
  const a = 1 + (fit.shape * x) / fit.scale;
  return fit.level + (fit.scale / fit.shape) * (a * ratio ** -fit.shape - 1);
}

/**
 * The threshold a check is calibrated with: the conformal one where the rows hold `alpha` with 90% confidence
 * (linalg.ts); else, rows too few for that, the fitted tail's, never below just above the largest score; else,
 * rows too few even to fit a tail, just above the largest score. `expectedFpr` is what to expect on traffic like
 * the calibration rows: 1 / (n + 1) where no tail could be fitted. `seen` is the threshold without extrapolation:
 * just above every calibration score where the tail's lies beyond it.
 */
export function calibratedThreshold(
  scores: ArrayLike<number>,
  alpha: number,
): { threshold: number; extrapolated: boolean; expectedFpr: number; seen: number } {
  const n = scores.length;
  const threshold = conformalThreshold(scores, alpha, CONFIDENCE_DELTA);
  if (!n) return { threshold, extrapolated: false, expectedFpr: alpha, seen: threshold };
  const s = Float64Array.from(scores as ArrayLike<number>).sort();
  const max = s[n - 1];
  if (threshold <= max) return { threshold, extrapolated: false, expectedFpr: alpha, seen: threshold };
  const fit = fitTail(s);
  if (!fit)
    return { threshold, extrapolated: false, expectedFpr: Math.max(alpha, 1 / (n + 1)), seen: threshold };
  return {
    threshold: Math.max(aboveMax(max), beyondMax(fit, max, n, alpha)),
    extrapolated: true,
    expectedFpr: alpha,
    seen: threshold,
  };
}

/**
 * Thresholds class by class (each predicted class keeps its own rate, so the whole does too). A class with too few
 * rows to fit a tail (a minority class the model rarely answers) would sit just above its largest score and flag
 * about 1 / (rows + 1) of its instances; it takes instead the threshold of all classes' scores together, never
 * below just above its own largest, marked extrapolated: the rate there is an estimate.
 */
export function perClassThresholds(
  ofClass: ArrayLike<number>[],
  alpha: number,
): Array<ReturnType<typeof calibratedThreshold>> {
  let pooled: ReturnType<typeof calibratedThreshold> | undefined;
  return ofClass.map((x) => {
    const t = calibratedThreshold(x, alpha);
    if (!x.length || t.expectedFpr <= alpha) return t;
    pooled ??= calibratedThreshold(
      ofClass.flatMap((y) => Array.from(y)),
      alpha,
    );
    const own = aboveMax(Math.max(...Array.from(x)));
    return {
      threshold: Math.max(pooled.threshold, own),
      extrapolated: true,
      expectedFpr: alpha,
      seen: Math.max(pooled.seen, own),
    };
  });
}
