/**
 * Significance tests the detectors need: binomial tails, normal tails, two-proportion z, and
 * Benjamini-Hochberg control of the false discovery rate. Hand-written because they are a few lines each
 * and no maintained npm package offers them without a large numeric library.
 */

/** log Γ(x) for x > 0 (Lanczos approximation, g = 7, 9 terms; ~15 significant digits). */
export function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** log P(X = k) for X ~ Binomial(n, p). */
export function logBinomialPmf(k: number, n: number, p: number): number {
  if (k < 0 || k > n) return Number.NEGATIVE_INFINITY;
  if (p <= 0) return k === 0 ? 0 : Number.NEGATIVE_INFINITY;
  if (p >= 1) return k === n ? 0 : Number.NEGATIVE_INFINITY;
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1) + k * Math.log(p) + (n - k) * Math.log1p(-p);
}

/**
 * P(X >= k) for X ~ Binomial(n, p): sums pmf terms away from the mode until they stop mattering, so it
 * stays accurate for tiny p-values (what a campaign produces) without an incomplete-beta routine.
 */
export function binomialUpperTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  const mode = Math.floor((n + 1) * p);
  if (k > mode) return sumPmf(k, n, p, 1);
  // Complement of the lower tail P(X <= k - 1), which lies below the mode.
  return Math.max(0, 1 - sumPmf(k - 1, n, p, -1));
}

function sumPmf(start: number, n: number, p: number, step: 1 | -1): number {
  const first = logBinomialPmf(start, n, p);
  if (first === Number.NEGATIVE_INFINITY) return 0;
  let sum = 0;
  for (let k = start; k >= 0 && k <= n; k += step) {
    const term = Math.exp(logBinomialPmf(k, n, p) - first);
    sum += term;
    if (term < 1e-16 * sum) break;
  }
  return Math.min(1, Math.exp(first) * sum);
}

/** Complementary error function (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** P(Z > z) for a standard normal. */
export function normalUpperTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/** Regularised incomplete beta I_x(a, b) (continued fraction, modified Lentz; Numerical Recipes' betacf). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x));
  // The fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
  if (x > (a + 1) / (a + b + 2)) return 1 - incompleteBeta(1 - x, b, a);
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    d = 1 / (Math.abs(d) < tiny ? tiny : d);
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    d = 1 / (Math.abs(d) < tiny ? tiny : d);
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-12) break;
  }
  return (front * h) / a;
}

/** P(T > t) for Student's t with nu degrees of freedom (nu may be fractional, at least a small positive). */
export function studentUpperTail(t: number, nu: number): number {
  const tail = 0.5 * incompleteBeta(nu / (nu + t * t), nu / 2, 0.5);
  return t >= 0 ? tail : 1 - tail;
}

/** z such that P(Z > z) = p (bisection on the upper tail; |error| < 1e-6). */
export function normalQuantileUpper(p: number): number {
  if (p <= 0) return Number.POSITIVE_INFINITY;
  if (p >= 1) return Number.NEGATIVE_INFINITY;
  let lo = -40;
  let hi = 40;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (normalUpperTail(mid) > p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * Two-proportion z statistic of x1/n1 against x0/n0 (pooled variance). Positive when the first rate is
 * higher. 0 when either sample is empty.
 */
export function twoProportionZ(x1: number, n1: number, x0: number, n0: number): number {
  if (n1 <= 0 || n0 <= 0) return 0;
  const p = (x1 + x0) / (n1 + n0);
  const se = Math.sqrt(p * (1 - p) * (1 / n1 + 1 / n0));
  if (se === 0) return 0;
  return (x1 / n1 - x0 / n0) / se;
}

/** log of the hypergeometric pmf: k successes in a draw of n from N items of which K are successes. */
function logHypergeometricPmf(k: number, N: number, K: number, n: number): number {
  const lc = (a: number, b: number) => logGamma(a + 1) - logGamma(b + 1) - logGamma(a - b + 1);
  return lc(K, k) + lc(N - K, n - k) - lc(N, n);
}

/** P(X >= k) for X ~ Hypergeometric(N, K, n): summed upward from k with the pmf ratio. */
export function hypergeometricUpperTail(k: number, N: number, K: number, n: number): number {
  const lo = Math.max(0, n - (N - K));
  const hi = Math.min(n, K);
  if (k <= lo) return 1;
  if (k > hi) return 0;
  let term = 1;
  let sum = 1;
  for (let j = k; j < hi; j++) {
    term *= ((K - j) * (n - j)) / ((j + 1) * (N - K - n + j + 1));
    sum += term;
    if (term < 1e-16 * sum) break;
  }
  return Math.min(1, Math.exp(logHypergeometricPmf(k, N, K, n)) * sum);
}

/**
 * Signed z of x1/n1 against x0/n0 where both are samples (the second often a small trusted set). Where every
 * cell is expected to hold at least 5 rows, the two-proportion z; below that the normal approximation
 * overstates a gap (2 of 60 trusted rows against 0 of 600 reads as z = -4.5), so the exact conditional test
 * (Fisher's, one-sided in the direction observed) is read as a z instead.
 */
export function proportionZ(x1: number, n1: number, x0: number, n0: number): number {
  if (n1 <= 0 || n0 <= 0) return 0;
  const N = n1 + n0;
  const X = x1 + x0;
  const expected = (Math.min(X, N - X) * Math.min(n1, n0)) / N;
  if (expected >= 5) return twoProportionZ(x1, n1, x0, n0);
  const zOf = (p: number) => Math.min(40, Math.max(0, normalQuantileUpper(p)));
  if (x1 * n0 >= x0 * n1) return zOf(hypergeometricUpperTail(x1, N, X, n1));
  // Lower tail of x1 = upper tail of the failures drawn into the first sample.
  return -zOf(hypergeometricUpperTail(n1 - x1, N, N - X, n1));
}

/**
 * Benjamini-Hochberg: which hypotheses to reject so that the expected false discovery rate is at most q.
 * Returns a boolean per p-value (same order).
 */
export function benjaminiHochberg(pValues: ArrayLike<number>, q: number, family = pValues.length): boolean[] {
  // `family`: hypotheses tested in all, when those not listed could not be rejected (p = 1).
  const m = Math.max(pValues.length, family);
  const order = Array.from({ length: m }, (_, i) => i).sort((a, b) => pValues[a] - pValues[b]);
  let cutoff = -1;
  for (let r = 0; r < m; r++) if (pValues[order[r]] <= ((r + 1) / m) * q) cutoff = r;
  const out = new Array<boolean>(m).fill(false);
  for (let r = 0; r <= cutoff; r++) out[order[r]] = true;
  return out;
}

/**
 * Benjamini-Hochberg in which one discovery does not lend its rank to another. The level a hypothesis is held
 * to grows with its rank; a planted trigger is confirmed as many hypotheses (a phrase and each of its words, a
 * conjunction and its conjunctions with other columns' values: hundreds in a table), and counting all of them
 * in the rank of an unrelated pattern loosens that pattern's level as many times, so a poisoned batch showed
 * chance findings a clean one did not. Here `groupOf(h)` names the discovery hypothesis h belongs to (asked
 * only of hypotheses plain Benjamini-Hochberg rejects), and at a threshold t a group's rank counts its own
 * hypotheses with p <= t (they restate one finding, and vouch for each other as in plain Benjamini-Hochberg)
 * plus one for each other group with a hypothesis at or below t. Each group is stepped up on its own, and a
 * group with a hypothesis within the level of its rank is a discovery, rejected whole: every hypothesis of it
 * that plain Benjamini-Hochberg rejects (a planted conjunction can be weaker than a slice of its own rows; it is
 * the same finding, and explaining away later picks the pattern that states it best). With every hypothesis
 * its own group this is plain Benjamini-Hochberg; it never rejects more. Returns the flags and, for each
 * rejected hypothesis, the level its group met (0 for the rest).
 */
export function benjaminiHochbergGrouped(
  pValues: ArrayLike<number>,
  q: number,
  family: number,
  groupOf: (h: number) => number,
): { rejected: boolean[]; level: Float64Array } {
  const m = Math.max(pValues.length, family);
  const order = Array.from({ length: pValues.length }, (_, i) => i).sort((a, b) => pValues[a] - pValues[b]);
  let plain = -1;
  for (let r = 0; r < order.length; r++) if (pValues[order[r]] <= ((r + 1) / m) * q) plain = r;
  const members = new Map<number, number>();
  const found = new Map<number, number>();
  for (let r = 0; r <= plain; r++) {
    const t = pValues[order[r]];
    const g = groupOf(order[r]);
    members.set(g, (members.get(g) ?? 0) + 1);
    // At t, a group with `own` hypotheses at or below it has rank own + (groups - 1).
    for (const [group, own] of members) {
      const level = ((own + members.size - 1) / m) * q;
      if (t <= level) found.set(group, level);
    }
  }
  const rejected = new Array<boolean>(pValues.length).fill(false);
  const level = new Float64Array(pValues.length);
  for (let r = 0; r <= plain; r++) {
    const h = order[r];
    const met = found.get(groupOf(h));
    if (met !== undefined) {
      rejected[h] = true;
      level[h] = met;
    }
  }
  return { rejected, level };
}
