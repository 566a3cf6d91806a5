/** Small statistics kernels used by the gate's checks: seeded PRNG, normal tail, McNemar, proportions. */

/** mulberry32: a fast seeded PRNG (uniform in [0, 1)). */
export function rng(seed: number): () => number {
  let a = seed >>> 0 || 0x9e3779b9;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Upper tail of the standard normal, P(Z > z) (Abramowitz-Stegun 7.1.26 via erfc; abs error < 1.5e-7). */
export function normalSf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const y = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erfc = y * Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

function logChoose(n: number, k: number): number {
  return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1);
}

/** log Gamma (Lanczos, g=7). */
export function lgamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lgamma(1 - x);
  const xx = x - 1;
  let a = c[0];
  const t = xx + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (xx + i);
  return 0.5 * Math.log(2 * Math.PI) + (xx + 0.5) * Math.log(t) - t + Math.log(a);
}

/** P(X >= k) for X ~ Binomial(n, p), exact for small n, normal approximation (continuity-corrected) above. */
export function binomialSf(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (n <= 2000) {
    let s = 0;
    for (let i = k; i <= n; i++) s += Math.exp(logChoose(n, i) + i * Math.log(p) + (n - i) * Math.log1p(-p));
    return Math.min(1, s);
  }
  const mu = n * p;
  const sd = Math.sqrt(n * p * (1 - p));
  return normalSf((k - 0.5 - mu) / sd);
}

/**
 * One-sided exact McNemar: of the b + c discordant pairs, b went against the candidate; p = P(X >= b),
 * X ~ Bin(b + c, 1/2). Small p means the candidate lost significantly more cases than it gained.
 */
export function mcnemarOneSided(b: number, c: number): number {
  return binomialSf(b, b + c, 0.5);
}

/** One-sided two-proportion z-test that k1/n1 > k2/n2. */
export function proportionGreater(k1: number, n1: number, k2: number, n2: number): number {
  if (n1 === 0 || n2 === 0) return 1;
  const p = (k1 + k2) / (n1 + n2);
  const se = Math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2));
  if (se === 0) return k1 / n1 > k2 / n2 ? 0 : 1;
  return normalSf((k1 / n1 - k2 / n2) / se);
}

export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function argmaxRow(p: Float64Array, i: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (p[i * k + j] > p[i * k + best]) best = j;
  return best;
}

export function predictedClasses(p: Float64Array, n: number, k: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = argmaxRow(p, i, k);
  return out;
}
