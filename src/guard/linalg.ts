/**
 * Small dense linear algebra on typed arrays for the activation statistics: mean, Ledoit-Wolf shrunk
 * covariance (Ledoit & Wolf 2004, shrinking toward a scaled identity), inverse by Cholesky, and Mahalanobis
 * distance. Dimensions are those of one hidden layer (tens to a few hundred), so O(d^3) once per class is cheap.
 */

/** Mean of rows `idx` of an n × d row-major matrix. */
export function meanOf(x: Float32Array | Float64Array, d: number, idx: ArrayLike<number>): Float64Array {
  const m = new Float64Array(d);
  for (let r = 0; r < idx.length; r++) {
    const o = idx[r] * d;
    for (let j = 0; j < d; j++) m[j] += x[o + j];
  }
  for (let j = 0; j < d; j++) m[j] /= Math.max(1, idx.length);
  return m;
}

/**
 * Ledoit-Wolf estimate: (1 - s) S + s mu I, with S the sample covariance, mu = tr(S)/d and the shrinkage s
 * chosen to minimise the expected Frobenius loss (the formula of scikit-learn's ledoit_wolf_shrinkage).
 */
export function ledoitWolf(
  x: Float32Array | Float64Array,
  d: number,
  idx: ArrayLike<number>,
  mean: Float64Array,
): { cov: Float64Array; shrinkage: number } {
  const n = idx.length;
  const c = new Float64Array(n * d);
  for (let r = 0; r < n; r++) {
    const o = idx[r] * d;
    for (let j = 0; j < d; j++) c[r * d + j] = x[o + j] - mean[j];
  }
  const s = new Float64Array(d * d);
  for (let r = 0; r < n; r++) {
    const o = r * d;
    for (let a = 0; a < d; a++) {
      const va = c[o + a];
      if (va === 0) continue;
      for (let b = a; b < d; b++) s[a * d + b] += va * c[o + b];
    }
  }
  for (let a = 0; a < d; a++)
    for (let b = a; b < d; b++) {
      s[a * d + b] /= Math.max(1, n);
      s[b * d + a] = s[a * d + b];
    }
  let mu = 0;
  for (let a = 0; a < d; a++) mu += s[a * d + a];
  mu /= d;
  // delta = ||S - mu I||^2 / d ; beta = (1/n^2) sum_r ||x_r x_r^T - S||^2 / d
  let delta = 0;
  for (let a = 0; a < d; a++)
    for (let b = 0; b < d; b++) {
      const v = s[a * d + b] - (a === b ? mu : 0);
      delta += v * v;
    }
  delta /= d;
  let beta = 0;
  if (n > 1) {
    // sum_r ||x_r x_r^T||^2 = sum_r (||x_r||^2)^2 ; cross term = 2 sum_r x_r^T S x_r ; plus n ||S||^2
    let t1 = 0;
    let t2 = 0;
    const sx = new Float64Array(d);
    for (let r = 0; r < n; r++) {
      const o = r * d;
      let nn = 0;
      for (let a = 0; a < d; a++) nn += c[o + a] * c[o + a];
      t1 += nn * nn;
      sx.fill(0);
      for (let a = 0; a < d; a++) {
        const va = c[o + a];
        if (va === 0) continue;
        for (let b = 0; b < d; b++) sx[b] += va * s[a * d + b];
      }
      let q = 0;
      for (let b = 0; b < d; b++) q += sx[b] * c[o + b];
      t2 += q;
    }
    let ss = 0;
    for (let i = 0; i < d * d; i++) ss += s[i] * s[i];
    beta = (t1 - 2 * t2 + n * ss) / (n * n) / d;
  }
  const shrinkage = delta > 0 ? Math.min(1, Math.max(0, beta / delta)) : 1;
  const cov = new Float64Array(d * d);
  for (let a = 0; a < d; a++)
    for (let b = 0; b < d; b++)
      cov[a * d + b] = (1 - shrinkage) * s[a * d + b] + (a === b ? shrinkage * mu : 0);
  // A dead unit (zero variance everywhere) would make the matrix singular: give it a tiny floor.
  const floor = Math.max(mu * 1e-6, 1e-12);
  for (let a = 0; a < d; a++) if (cov[a * d + a] < floor) cov[a * d + a] = floor;
  return { cov, shrinkage };
}

/** Inverse of a symmetric positive-definite matrix by Cholesky; a jitter is added if it is not. */
export function invertSpd(m: Float64Array, d: number): Float64Array {
  let jitter = 0;
  for (let attempt = 0; attempt < 8; attempt++) {
    const l = new Float64Array(d * d);
    let ok = true;
    for (let i = 0; i < d && ok; i++) {
      for (let j = 0; j <= i; j++) {
        let sum = m[i * d + j] + (i === j ? jitter : 0);
        for (let k = 0; k < j; k++) sum -= l[i * d + k] * l[j * d + k];
        if (i === j) {
          if (!(sum > 0)) {
            ok = false;
            break;
          }
          l[i * d + i] = Math.sqrt(sum);
        } else l[i * d + j] = sum / l[j * d + j];
      }
    }
    if (ok) {
      // inverse of L, then L^-T L^-1
      const li = new Float64Array(d * d);
      for (let i = 0; i < d; i++) {
        li[i * d + i] = 1 / l[i * d + i];
        for (let j = 0; j < i; j++) {
          let sum = 0;
          for (let k = j; k < i; k++) sum -= l[i * d + k] * li[k * d + j];
          li[i * d + j] = sum / l[i * d + i];
        }
      }
      const inv = new Float64Array(d * d);
      for (let i = 0; i < d; i++)
        for (let j = 0; j <= i; j++) {
          let sum = 0;
          for (let k = i; k < d; k++) sum += li[k * d + i] * li[k * d + j];
          inv[i * d + j] = sum;
          inv[j * d + i] = sum;
        }
      return inv;
    }
    let tr = 0;
    for (let i = 0; i < d; i++) tr += m[i * d + i];
    jitter = jitter === 0 ? Math.max(1e-10, (1e-8 * tr) / d) : jitter * 100;
  }
  throw new Error('covariance matrix cannot be inverted');
}

/** sqrt((x - mean)^T P (x - mean)) for the vector at offset `o` of `x`. */
export function mahalanobis(
  x: ArrayLike<number>,
  o: number,
  mean: ArrayLike<number>,
  precision: ArrayLike<number>,
  d: number,
  scratch: Float64Array,
): number {
  for (let j = 0; j < d; j++) scratch[j] = x[o + j] - mean[j];
  let q = 0;
  for (let a = 0; a < d; a++) {
    let row = 0;
    const pa = a * d;
    for (let b = 0; b < d; b++) row += precision[pa + b] * scratch[b];
    q += scratch[a] * row;
  }
  return Math.sqrt(Math.max(0, q));
}

/**
 * Threshold with a false-alarm guarantee that holds for this calibration set, not only on average over
 * calibration sets (training-conditional conformal, Vovk 2012): the j-th largest of n calibration scores, with
 * j the largest count such that P(Binomial(n, alpha) <= j - 1) <= delta. An instance is flagged when its score is
 * above it; then P(false-alarm rate > alpha) <= delta. With too few rows (n < about log(delta)/log(1-alpha))
 * even the largest score is not enough and the threshold sits just above it.
 */
export function conformalThreshold(scores: ArrayLike<number>, alpha: number, delta = 0.1): number {
  const s = Float64Array.from(scores as ArrayLike<number>).sort();
  const n = s.length;
  if (n === 0) return Number.POSITIVE_INFINITY;
  // cdf(m) = P(Bin(n, alpha) <= m), summed term by term in log space.
  let logTerm = n * Math.log1p(-alpha);
  let cdf = Math.exp(logTerm);
  let j = 0;
  for (let m = 0; m < n && cdf <= delta; m++) {
    j = m + 1;
    logTerm += Math.log((n - m) / (m + 1)) + Math.log(alpha) - Math.log1p(-alpha);
    cdf += Math.exp(logTerm);
  }
  if (j === 0) return aboveMax(s[n - 1]);
  return s[n - j];
}

/** Just above the largest score: what a threshold is when nothing can be said beyond the sample. */
export function aboveMax(max: number): number {
  return max + Math.abs(max) * 1e-9 + 1e-12;
}

export function quantile(scores: ArrayLike<number>, q: number): number {
  const s = Float64Array.from(scores as ArrayLike<number>).sort();
  if (!s.length) return 0;
  return s[Math.min(s.length - 1, Math.max(0, Math.floor(q * (s.length - 1))))];
}
