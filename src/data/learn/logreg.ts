/**
 * Logistic regression (binary, or multinomial softmax for more classes) with an L2 penalty, on sparse
 * hashed features, trained full-batch with L-BFGS. Small, fast and deterministic: the audit fits it on the
 * trusted reference and, fold by fold, on the incoming batch; the gate can reuse it as a reference model.
 */
import type { SparseMatrix } from '../features/sparse.js';
import { lbfgs } from './lbfgs.js';

export interface LogRegOptions {
  /** L2 penalty on the mean log-loss. */
  l2: number;
  maxIter: number;
  /** Optional per-row weights (e.g. to balance classes). */
  weights?: Float32Array;
  /** Bound on multiply-adds of one fit (nonzeros × outputs × iterations); default MAX_FIT_WORK. */
  maxWork?: number;
}

/**
 * Multiply-adds one fit may spend (about a second). A softmax costs nonzeros × classes per iteration, so
 * 13,000 text rows of 250 classes would take minutes; above the bound the fit trains on a class-stratified
 * sample of its rows (every class keeps rows) whose cost fits, and still scores every row.
 */
export const MAX_FIT_WORK = 1.5e9;

export interface LogRegModel {
  /** Number of classes. */
  K: number;
  dim: number;
  /** Outputs per feature: 1 for two classes (the logit of class 1), K otherwise. */
  M: number;
  /** dim × M weights, then M biases. */
  w: Float64Array;
  iterations: number;
}

/** Class-balancing row weights: each class gets the same total weight. */
export function balancedWeights(y: Int32Array, K: number): Float32Array {
  const counts = new Float64Array(K);
  for (let i = 0; i < y.length; i++) counts[y[i]]++;
  const present = counts.filter((c) => c > 0).length;
  const out = new Float32Array(y.length);
  for (let i = 0; i < y.length; i++) out[i] = y.length / (present * counts[y[i]]);
  return out;
}

export function trainLogReg(X: SparseMatrix, y: Int32Array, K: number, opts: LogRegOptions): LogRegModel {
  const M = K === 2 ? 1 : K;
  const work = X.indptr[X.n] * M * opts.maxIter;
  const budget = opts.maxWork ?? MAX_FIT_WORK;
  if (work > budget && X.n > 2 * K) {
    const keep = stratifiedSample(y, K, budget / work);
    const ys = Int32Array.from(keep, (i) => y[i]);
    const ws = opts.weights ? Float32Array.from(keep, (i) => opts.weights![i]) : undefined;
    return trainCompact(selectRowsOf(X, keep), ys, K, { ...opts, weights: ws });
  }
  return trainCompact(X, y, K, opts);
}

/** Rows kept when a fit trains on a share `frac` of them: evenly spaced within each class, at least two per class. */
export function stratifiedSample(y: Int32Array, K: number, frac: number): Int32Array {
  const counts = new Float64Array(K);
  for (let i = 0; i < y.length; i++) counts[y[i]]++;
  const taken = new Float64Array(K);
  const seen = new Float64Array(K);
  const out: number[] = [];
  for (let i = 0; i < y.length; i++) {
    const c = y[i];
    seen[c]++;
    const quota = Math.max(Math.min(2, counts[c]), Math.floor(counts[c] * frac));
    // Take a row when the share taken so far falls behind the quota's share of the rows seen.
    if (taken[c] < quota && taken[c] * counts[c] < quota * seen[c]) {
      taken[c]++;
      out.push(i);
    }
  }
  return Int32Array.from(out);
}

function selectRowsOf(X: SparseMatrix, rows: Int32Array): SparseMatrix {
  let nnz = 0;
  for (const r of rows) nnz += X.indptr[r + 1] - X.indptr[r];
  const indptr = new Int32Array(rows.length + 1);
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let k = 0;
  rows.forEach((r, t) => {
    indptr[t] = k;
    const a = X.indptr[r];
    const b = X.indptr[r + 1];
    indices.set(X.indices.subarray(a, b), k);
    values.set(X.values.subarray(a, b), k);
    k += b - a;
  });
  indptr[rows.length] = k;
  return { n: rows.length, dim: X.dim, indptr, indices, values };
}

/**
 * Fit on a reduced design that gives the same model. Three reductions, none of which changes the optimum or
 * the L-BFGS path (the iterates are the full problem's, mapped back; only the rounding of sums differs: a merged
 * entry is multiplied once, not term by term):
 *   - columns no row uses are dropped (their weights stay zero);
 *   - repeated entries of one column in a row are merged (a word twice is one entry of twice the value);
 *   - the columns only one row uses (most of a text's hashed n-grams are such hapaxes) become one parameter
 *     per row. Their gradient is always (residual of that row) x (their values) plus the L2 term, so from a
 *     zero start their weights stay proportional to their values: w_j = c_i v_j / |v|, one unit direction per
 *     row, orthogonal to every other parameter. Writing c_i for them keeps every dot product, hence every
 *     L-BFGS step, and the penalty (l2/2) c_i^2 is theirs exactly.
 * The cost of a fit then follows the shared vocabulary, not the hashed space or the rows' unique words.
 */
function trainCompact(X: SparseMatrix, y: Int32Array, K: number, opts: LogRegOptions): LogRegModel {
  const n = X.n;
  const { indptr, indices, values } = X;
  // Rows using each column (each row counted once).
  const df = new Int32Array(X.dim);
  const lastRow = new Int32Array(X.dim).fill(-1);
  for (let i = 0; i < n; i++)
    for (let j = indptr[i]; j < indptr[i + 1]; j++) {
      const c = indices[j];
      if (lastRow[c] !== i) {
        lastRow[c] = i;
        df[c]++;
      }
    }
  // Shared columns (two rows or more) keep a parameter each; then one parameter per row with hapaxes.
  const colOf = new Int32Array(X.dim).fill(-1);
  let nShared = 0;
  for (let c = 0; c < X.dim; c++) if (df[c] >= 2) colOf[c] = nShared++;
  const groupOf = new Int32Array(n).fill(-1);
  let nGroups = 0;
  // Reduced rows: merged shared entries, then the row's hapax parameter with value |v| (norm of its hapax part).
  const rIndptr = new Int32Array(n + 1);
  const rIndices = new Int32Array(indptr[n] + n);
  const rValues = new Float32Array(indptr[n] + n);
  const slot = new Int32Array(X.dim).fill(-1);
  const hapaxSum = new Float64Array(X.dim);
  let k = 0;
  for (let i = 0; i < n; i++) {
    rIndptr[i] = k;
    const rowStart = k;
    let hasHapax = false;
    for (let j = indptr[i]; j < indptr[i + 1]; j++) {
      const c = indices[j];
      const v = values[j];
      if (df[c] < 2) {
        hapaxSum[c] += v;
        hasHapax = true;
        continue;
      }
      const s = slot[c];
      if (s >= rowStart && rIndices[s] === colOf[c]) rValues[s] += v;
      else {
        slot[c] = k;
        rIndices[k] = colOf[c];
        rValues[k++] = v;
      }
    }
    if (hasHapax) {
      let ss = 0;
      for (let j = indptr[i]; j < indptr[i + 1]; j++) {
        const c = indices[j];
        // A hapax repeated in its row counts once (its merged value); lastRow marks it counted.
        if (df[c] < 2 && lastRow[c] === i) {
          ss += hapaxSum[c] * hapaxSum[c];
          lastRow[c] = -1;
        }
      }
      groupOf[i] = nGroups++;
      rIndices[k] = -1 - groupOf[i];
      rValues[k++] = Math.sqrt(ss);
    }
  }
  rIndptr[n] = k;
  const dim = nShared + nGroups;
  // Group parameters sit after the shared columns.
  for (let j = 0; j < k; j++) if (rIndices[j] < 0) rIndices[j] = nShared - 1 - rIndices[j];
  const reduced: SparseMatrix = {
    n,
    dim,
    indptr: rIndptr,
    indices: rIndices.subarray(0, k),
    values: rValues.subarray(0, k),
  };
  const fit = trainDense(reduced, y, K, opts);
  const M = fit.M;
  const w = new Float64Array(X.dim * M + M);
  for (let c = 0; c < X.dim; c++) {
    const r = colOf[c];
    if (r >= 0) for (let m = 0; m < M; m++) w[c * M + m] = fit.w[r * M + m];
  }
  // Hapax weights: w_j = c_i v_j / |v| for each output.
  for (let i = 0; i < n; i++) {
    const g = groupOf[i];
    if (g < 0) continue;
    const norm = rValues[rIndptr[i + 1] - 1];
    if (!(norm > 0)) continue;
    for (let j = indptr[i]; j < indptr[i + 1]; j++) {
      const c = indices[j];
      if (df[c] >= 2 || hapaxSum[c] === 0) continue;
      const f = hapaxSum[c] / norm;
      for (let m = 0; m < M; m++) w[c * M + m] = fit.w[(nShared + g) * M + m] * f;
      hapaxSum[c] = 0;
    }
  }
  for (let m = 0; m < M; m++) w[X.dim * M + m] = fit.w[dim * M + m];
  return { K, dim: X.dim, M, w, iterations: fit.iterations };
}

function trainDense(X: SparseMatrix, y: Int32Array, K: number, opts: LogRegOptions): LogRegModel {
  const M = K === 2 ? 1 : K;
  const dim = X.dim;
  const nParams = dim * M + M;
  const { indptr, indices, values } = X;
  const n = X.n;
  const wts = opts.weights;
  let wsum = 0;
  for (let i = 0; i < n; i++) wsum += wts ? wts[i] : 1;
  const inv = 1 / Math.max(1e-12, wsum);
  const l2 = opts.l2;
  const z = new Float64Array(M);
  const fg = (w: Float64Array, g: Float64Array): number => {
    g.fill(0);
    let loss = 0;
    const bOff = dim * M;
    for (let i = 0; i < n; i++) {
      const a = indptr[i];
      const b = indptr[i + 1];
      const yi = y[i];
      const wi = (wts ? wts[i] : 1) * inv;
      if (M === 1) {
        let s = w[bOff];
        for (let j = a; j < b; j++) s += w[indices[j]] * values[j];
        // log(1 + e^s) - y s, computed stably.
        const t = yi === 1 ? 1 : 0;
        loss += wi * (s > 0 ? s + Math.log1p(Math.exp(-s)) : Math.log1p(Math.exp(s))) - wi * t * s;
        const p = s >= 0 ? 1 / (1 + Math.exp(-s)) : Math.exp(s) / (1 + Math.exp(s));
        const r = wi * (p - t);
        for (let j = a; j < b; j++) g[indices[j]] += r * values[j];
        g[bOff] += r;
      } else {
        rowLogits(w, indices, values, a, b, M, bOff, z);
        let mx = z[0];
        for (let m = 1; m < M; m++) if (z[m] > mx) mx = z[m];
        let se = 0;
        for (let m = 0; m < M; m++) {
          z[m] = Math.exp(z[m] - mx);
          se += z[m];
        }
        loss += wi * (Math.log(se) - Math.log(z[yi]));
        for (let m = 0; m < M; m++) z[m] = (wi * z[m]) / se - (m === yi ? wi : 0);
        rowScatter(g, indices, values, a, b, M, z);
        for (let m = 0; m < M; m++) g[bOff + m] += z[m];
      }
    }
    let reg = 0;
    for (let k = 0; k < dim * M; k++) {
      reg += w[k] * w[k];
      g[k] += l2 * w[k];
    }
    return loss + 0.5 * l2 * reg;
  };
  const res = lbfgs(fg, new Float64Array(nParams), { maxIter: opts.maxIter });
  return { K, dim, M, w: res.x, iterations: res.iterations };
}

/**
 * z[m] = w[bOff + m] + sum over row entries of w[index * M + m] * value, for every output m. Outputs are taken
 * eight, four, two, then one at a time in locals (registers), each summed in the same order as one at a time:
 * the same numbers, with one pass over the row's entries per block instead of per output.
 */
function rowLogits(
  w: Float64Array,
  indices: Int32Array,
  values: Float32Array,
  a: number,
  b: number,
  M: number,
  bOff: number,
  z: Float64Array,
): void {
  let m0 = 0;
  for (; m0 + 8 <= M; m0 += 8) {
    const o = bOff + m0;
    let z0 = w[o];
    let z1 = w[o + 1];
    let z2 = w[o + 2];
    let z3 = w[o + 3];
    let z4 = w[o + 4];
    let z5 = w[o + 5];
    let z6 = w[o + 6];
    let z7 = w[o + 7];
    for (let j = a; j < b; j++) {
      const base = indices[j] * M + m0;
      const v = values[j];
      z0 += w[base] * v;
      z1 += w[base + 1] * v;
      z2 += w[base + 2] * v;
      z3 += w[base + 3] * v;
      z4 += w[base + 4] * v;
      z5 += w[base + 5] * v;
      z6 += w[base + 6] * v;
      z7 += w[base + 7] * v;
    }
    z[m0] = z0;
    z[m0 + 1] = z1;
    z[m0 + 2] = z2;
    z[m0 + 3] = z3;
    z[m0 + 4] = z4;
    z[m0 + 5] = z5;
    z[m0 + 6] = z6;
    z[m0 + 7] = z7;
  }
  for (; m0 + 4 <= M; m0 += 4) {
    const o = bOff + m0;
    let z0 = w[o];
    let z1 = w[o + 1];
    let z2 = w[o + 2];
    let z3 = w[o + 3];
    for (let j = a; j < b; j++) {
      const base = indices[j] * M + m0;
      const v = values[j];
      z0 += w[base] * v;
      z1 += w[base + 1] * v;
      z2 += w[base + 2] * v;
      z3 += w[base + 3] * v;
    }
    z[m0] = z0;
    z[m0 + 1] = z1;
    z[m0 + 2] = z2;
    z[m0 + 3] = z3;
  }
  for (; m0 + 2 <= M; m0 += 2) {
    let z0 = w[bOff + m0];
    let z1 = w[bOff + m0 + 1];
    for (let j = a; j < b; j++) {
      const base = indices[j] * M + m0;
      const v = values[j];
      z0 += w[base] * v;
      z1 += w[base + 1] * v;
    }
    z[m0] = z0;
    z[m0 + 1] = z1;
  }
  for (; m0 < M; m0++) {
    let z0 = w[bOff + m0];
    for (let j = a; j < b; j++) z0 += w[indices[j] * M + m0] * values[j];
    z[m0] = z0;
  }
}

/** g[index * M + m] += r[m] * value for every row entry and output, blocked like rowLogits. */
function rowScatter(
  g: Float64Array,
  indices: Int32Array,
  values: Float32Array,
  a: number,
  b: number,
  M: number,
  r: Float64Array,
): void {
  let m0 = 0;
  for (; m0 + 8 <= M; m0 += 8) {
    const r0 = r[m0];
    const r1 = r[m0 + 1];
    const r2 = r[m0 + 2];
    const r3 = r[m0 + 3];
    const r4 = r[m0 + 4];
    const r5 = r[m0 + 5];
    const r6 = r[m0 + 6];
    const r7 = r[m0 + 7];
    for (let j = a; j < b; j++) {
      const base = indices[j] * M + m0;
      const v = values[j];
      g[base] += r0 * v;
      g[base + 1] += r1 * v;
      g[base + 2] += r2 * v;
      g[base + 3] += r3 * v;
      g[base + 4] += r4 * v;
      g[base + 5] += r5 * v;
      g[base + 6] += r6 * v;
      g[base + 7] += r7 * v;
    }
  }
  for (; m0 + 4 <= M; m0 += 4) {
    const r0 = r[m0];
    const r1 = r[m0 + 1];
    const r2 = r[m0 + 2];
    const r3 = r[m0 + 3];
    for (let j = a; j < b; j++) {
      const base = indices[j] * M + m0;
      const v = values[j];
      g[base] += r0 * v;
      g[base + 1] += r1 * v;
      g[base + 2] += r2 * v;
      g[base + 3] += r3 * v;
    }
  }
  for (; m0 + 2 <= M; m0 += 2) {
    const r0 = r[m0];
    const r1 = r[m0 + 1];
    for (let j = a; j < b; j++) {
      const base = indices[j] * M + m0;
      const v = values[j];
      g[base] += r0 * v;
      g[base + 1] += r1 * v;
    }
  }
  for (; m0 < M; m0++) {
    const r0 = r[m0];
    for (let j = a; j < b; j++) g[indices[j] * M + m0] += r0 * values[j];
  }
}

/** Raw scores (logits) of row i, written into out[0..M). */
export function logitsOf(model: LogRegModel, X: SparseMatrix, i: number, out: Float64Array): void {
  const { M, dim, w } = model;
  const bOff = dim * M;
  for (let m = 0; m < M; m++) out[m] = w[bOff + m];
  for (let j = X.indptr[i]; j < X.indptr[i + 1]; j++) {
    const base = X.indices[j] * M;
    const v = X.values[j];
    for (let m = 0; m < M; m++) out[m] += w[base + m] * v;
  }
}

/** Turn M logits into K probabilities, in place into `proba` at offset. */
export function probaFromLogits(K: number, z: Float64Array, proba: Float32Array, offset: number): void {
  if (K === 2) {
    const s = z[0];
    const p1 = s >= 0 ? 1 / (1 + Math.exp(-s)) : Math.exp(s) / (1 + Math.exp(s));
    proba[offset] = 1 - p1;
    proba[offset + 1] = p1;
    return;
  }
  let mx = z[0];
  for (let m = 1; m < K; m++) if (z[m] > mx) mx = z[m];
  let se = 0;
  for (let m = 0; m < K; m++) se += Math.exp(z[m] - mx);
  for (let m = 0; m < K; m++) proba[offset + m] = Math.exp(z[m] - mx) / se;
}

/** P(class | row), n × K row-major. */
export function predictProba(model: LogRegModel, X: SparseMatrix): Float32Array {
  const out = new Float32Array(X.n * model.K);
  const z = new Float64Array(model.M);
  for (let i = 0; i < X.n; i++) {
    logitsOf(model, X, i, z);
    probaFromLogits(model.K, z, out, i * model.K);
  }
  return out;
}
