/**
 * Singular values of a weight delta without forming anything larger than the delta: a randomised range
 * finder (Halko, Martinsson and Tropp 2011) with power iterations, then the exact eigenvalues of the small
 * l x l Gram matrix by cyclic Jacobi. Matrices are row-major Float32Array; the small ones are Float64Array.
 * For very large matrices the caller sketches rows first (length-squared sampling keeps the spectrum's shape).
 */

/** A seeded standard normal generator (xorshift + Box-Muller): the same delta gives the same figures. */
export function gaussian(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  const u = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

// The n-side factors (n x l) are kept transposed, as l rows of length n, so that every product below runs
// over contiguous memory: dot products of A's rows with them, or A's rows added into them.

/** Y (m x l) = A (m x n) * X, with X given as Xt (l x n). */
function mulRight(A: Float32Array, m: number, n: number, Xt: Float64Array, l: number): Float64Array {
  const Y = new Float64Array(m * l);
  for (let i = 0; i < m; i++) {
    const ro = i * n;
    for (let c = 0; c < l; c++) {
      const xo = c * n;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let j = 0;
      for (; j + 3 < n; j += 4) {
        s0 += A[ro + j] * Xt[xo + j];
        s1 += A[ro + j + 1] * Xt[xo + j + 1];
        s2 += A[ro + j + 2] * Xt[xo + j + 2];
        s3 += A[ro + j + 3] * Xt[xo + j + 3];
      }
      for (; j < n; j++) s0 += A[ro + j] * Xt[xo + j];
      Y[i * l + c] = s0 + s1 + (s2 + s3);
    }
  }
  return Y;
}

/** Zt (l x n) = (A^T (n x m) * Y (m x l))^T. */
function mulLeftT(A: Float32Array, m: number, n: number, Y: Float64Array, l: number): Float64Array {
  const Zt = new Float64Array(l * n);
  for (let i = 0; i < m; i++) {
    const ro = i * n;
    for (let c = 0; c < l; c++) {
      const y = Y[i * l + c];
      if (y === 0) continue;
      const zo = c * n;
      for (let j = 0; j < n; j++) Zt[zo + j] += y * A[ro + j];
    }
  }
  return Zt;
}

/** Orthonormalise the rows of Xt (l x n) in place (modified Gram-Schmidt); dependent rows become 0. */
function orthonormaliseRows(Xt: Float64Array, l: number, n: number): void {
  for (let c = 0; c < l; c++) {
    const co = c * n;
    for (let p = 0; p < c; p++) {
      const po = p * n;
      let dot = 0;
      for (let j = 0; j < n; j++) dot += Xt[co + j] * Xt[po + j];
      for (let j = 0; j < n; j++) Xt[co + j] -= dot * Xt[po + j];
    }
    let nrm = 0;
    for (let j = 0; j < n; j++) nrm += Xt[co + j] ** 2;
    nrm = Math.sqrt(nrm);
    const inv = nrm > 1e-300 ? 1 / nrm : 0;
    for (let j = 0; j < n; j++) Xt[co + j] *= inv;
  }
}

/** Orthonormalise the columns of Y (rows x l) in place (modified Gram-Schmidt); dependent columns become 0. */
function orthonormalise(Y: Float64Array, rows: number, l: number): void {
  for (let c = 0; c < l; c++) {
    for (let p = 0; p < c; p++) {
      let dot = 0;
      for (let i = 0; i < rows; i++) dot += Y[i * l + c] * Y[i * l + p];
      for (let i = 0; i < rows; i++) Y[i * l + c] -= dot * Y[i * l + p];
    }
    let nrm = 0;
    for (let i = 0; i < rows; i++) nrm += Y[i * l + c] ** 2;
    nrm = Math.sqrt(nrm);
    const inv = nrm > 1e-300 ? 1 / nrm : 0;
    for (let i = 0; i < rows; i++) Y[i * l + c] *= inv;
  }
}

/** Eigenvalues of a symmetric k x k matrix (cyclic Jacobi), descending. */
export function symmetricEigenvalues(S: Float64Array, k: number): Float64Array {
  const a = Float64Array.from(S);
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < k; p++) for (let q = p + 1; q < k; q++) off += a[p * k + q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < k; p++) {
      for (let q = p + 1; q < k; q++) {
        const apq = a[p * k + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * k + q] - a[p * k + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let r = 0; r < k; r++) {
          const arp = a[r * k + p];
          const arq = a[r * k + q];
          a[r * k + p] = c * arp - s * arq;
          a[r * k + q] = s * arp + c * arq;
        }
        for (let r = 0; r < k; r++) {
          const apr = a[p * k + r];
          const aqr = a[q * k + r];
          a[p * k + r] = c * apr - s * aqr;
          a[q * k + r] = s * apr + c * aqr;
        }
      }
    }
  }
  const ev = new Float64Array(k);
  for (let i = 0; i < k; i++) ev[i] = a[i * k + i];
  return ev.sort().reverse();
}

/**
 * The top `k` singular values of A (m x n), by a randomised range finder of width k + 4 with `iters` power
 * iterations. Exact when the width reaches min(m, n).
 */
export function topSingularValues(
  A: Float32Array,
  m: number,
  n: number,
  k: number,
  iters = 2,
  seed = 7,
): Float64Array {
  const l = Math.min(k + 4, m, n);
  const rnd = gaussian(seed);
  const omegaT = new Float64Array(l * n);
  for (let j = 0; j < n; j++) for (let c = 0; c < l; c++) omegaT[c * n + j] = rnd();
  let Y = mulRight(A, m, n, omegaT, l);
  orthonormalise(Y, m, l);
  for (let it = 0; it < iters; it++) {
    const Zt = mulLeftT(A, m, n, Y, l);
    orthonormaliseRows(Zt, l, n);
    Y = mulRight(A, m, n, Zt, l);
    orthonormalise(Y, m, l);
  }
  // B = Q^T A; its singular values are sqrt(eig(B B^T)), and B is l x n: held here as its rows.
  const B = mulLeftT(A, m, n, Y, l);
  const G = new Float64Array(l * l);
  for (let p = 0; p < l; p++)
    for (let q = p; q < l; q++) {
      let s = 0;
      const po = p * n;
      const qo = q * n;
      for (let j = 0; j < n; j++) s += B[po + j] * B[qo + j];
      G[p * l + q] = s;
      G[q * l + p] = s;
    }
  const ev = symmetricEigenvalues(G, l);
  const out = new Float64Array(Math.min(k, l));
  for (let i = 0; i < out.length; i++) out[i] = Math.sqrt(Math.max(0, ev[i]));
  return out;
}

/**
 * Rows of A sampled with probability proportional to their squared norms and rescaled so that S^T S is an
 * unbiased estimate of A^T A (Frieze, Kannan and Vempala): a small matrix with the spectrum's shape.
 */
export function sketchRows(
  A: Float32Array,
  m: number,
  n: number,
  rowNorms2: Float64Array,
  s: number,
  seed = 11,
): Float32Array {
  let total = 0;
  for (let i = 0; i < m; i++) total += rowNorms2[i];
  const out = new Float32Array(s * n);
  if (total === 0) return out;
  const cdf = new Float64Array(m);
  let acc = 0;
  for (let i = 0; i < m; i++) {
    acc += rowNorms2[i] / total;
    cdf[i] = acc;
  }
  let state = seed >>> 0 || 1;
  const uniform = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 0.5) / 4294967296;
  };
  for (let r = 0; r < s; r++) {
    const u = uniform();
    let lo = 0;
    let hi = m - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    const p = rowNorms2[lo] / total;
    const scale = 1 / Math.sqrt(s * p);
    const src = lo * n;
    const dst = r * n;
    for (let j = 0; j < n; j++) out[dst + j] = A[src + j] * scale;
  }
  return out;
}
