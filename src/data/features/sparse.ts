/**
 * Sparse feature matrices (CSR over typed arrays) for the fast models: hashed word unigrams and bigrams of
 * the text column plus one-hot tabular items, each row's items scaled to unit L2 norm (every item of a row
 * has the same value, which trigger mining relies on), then the --embeddings vector, each coordinate
 * standardised by the trusted rows and the vector scaled to unit norm on average, after the items.
 */

import { combineMany, hashString } from './hash.js';
import type { TabularEncoding } from './tabular.js';
import type { TokenizedText } from './text.js';

export interface SparseMatrix {
  n: number;
  /** Number of columns (a power of two: the hashed feature space). */
  dim: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

export interface SparseOptions {
  /** log2 of the hashed feature space. */
  hashBits: number;
  /** Word n-grams up to this length enter the model (1 or 2). */
  maxNgram?: number;
}

/** Bucket of a feature hash in a 2^bits space. */
export function bucketOf(h: number, bits: number): number {
  return (h >>> (32 - bits)) | 0;
}

/** Embedding vectors (n × dim, row-major) with the trusted rows' mean and spread per coordinate. */
export interface DenseBlock {
  data: Float32Array;
  dim: number;
  mean: Float64Array;
  sd: Float64Array;
}

/** Mean and spread of each coordinate of trusted vectors (a constant coordinate gets spread 1). */
export function denseScale(data: Float32Array, dim: number): { mean: Float64Array; sd: Float64Array } {
  const n = dim ? data.length / dim : 0;
  const mean = new Float64Array(dim);
  const sd = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) mean[d] += data[i * dim + d] / n;
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) sd[d] += (data[i * dim + d] - mean[d]) ** 2 / n;
  for (let d = 0; d < dim; d++) sd[d] = Math.sqrt(sd[d]) || 1;
  return { mean, sd };
}

/** Build a CSR matrix from tokenised text and/or tabular items, and embedding vectors after them. */
export function buildSparse(
  n: number,
  opts: SparseOptions,
  text?: TokenizedText,
  tab?: TabularEncoding,
  emb?: DenseBlock,
): SparseMatrix {
  const bits = opts.hashBits;
  const maxN = opts.maxNgram ?? 2;
  let nnz = 0;
  for (let i = 0; i < n; i++) {
    if (text) {
      const len = text.offsets[i + 1] - text.offsets[i];
      nnz += len + (maxN >= 2 ? Math.max(0, len - 1) : 0);
    }
    if (tab) nnz += tab.F;
    if (emb) nnz += emb.dim;
  }
  const indptr = new Int32Array(n + 1);
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let k = 0;
  const embBuckets = emb
    ? Int32Array.from({ length: emb.dim }, (_, d) => bucketOf(hashString(`embedding:${d}`), bits))
    : undefined;
  for (let i = 0; i < n; i++) {
    indptr[i] = k;
    const start = k;
    if (text) {
      const a = text.offsets[i];
      const b = text.offsets[i + 1];
      for (let t = a; t < b; t++) indices[k++] = bucketOf(text.tokens[t], bits);
      if (maxN >= 2)
        for (let t = a; t + 1 < b; t++) indices[k++] = bucketOf(combineMany(text.tokens, t, 2), bits);
    }
    if (tab) {
      const F = tab.F;
      for (let f = 0; f < F; f++) indices[k++] = bucketOf(tab.items[i * F + f], bits);
    }
    const m = k - start;
    const v = m > 0 ? 1 / Math.sqrt(m) : 0;
    for (let j = start; j < k; j++) values[j] = v;
    if (emb) {
      // Standardised coordinates have unit variance, so dividing by sqrt(dim) gives the vector about the
      // weight of the row's items together.
      const D = emb.dim;
      const s = 1 / Math.sqrt(D);
      for (let d = 0; d < D; d++) {
        const x = emb.data[i * D + d];
        indices[k] = embBuckets![d];
        values[k++] = Number.isFinite(x) ? ((x - emb.mean[d]) / emb.sd[d]) * s : 0;
      }
    }
  }
  indptr[n] = k;
  return { n, dim: 1 << bits, indptr, indices, values };
}

/** Rows `rows` of X as a new matrix. */
export function selectRows(X: SparseMatrix, rows: Int32Array): SparseMatrix {
  let nnz = 0;
  for (let r = 0; r < rows.length; r++) nnz += X.indptr[rows[r] + 1] - X.indptr[rows[r]];
  const indptr = new Int32Array(rows.length + 1);
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let k = 0;
  for (let r = 0; r < rows.length; r++) {
    indptr[r] = k;
    const a = X.indptr[rows[r]];
    const b = X.indptr[rows[r] + 1];
    indices.set(X.indices.subarray(a, b), k);
    values.set(X.values.subarray(a, b), k);
    k += b - a;
  }
  indptr[rows.length] = k;
  return { n: rows.length, dim: X.dim, indptr, indices, values };
}

/** Rows of A followed by rows of B (same feature space). */
export function stackRows(A: SparseMatrix, B: SparseMatrix): SparseMatrix {
  const nnzA = A.indptr[A.n];
  const nnzB = B.indptr[B.n];
  const indptr = new Int32Array(A.n + B.n + 1);
  indptr.set(A.indptr.subarray(0, A.n + 1));
  for (let i = 1; i <= B.n; i++) indptr[A.n + i] = nnzA + B.indptr[i];
  const indices = new Int32Array(nnzA + nnzB);
  indices.set(A.indices.subarray(0, nnzA));
  indices.set(B.indices.subarray(0, nnzB), nnzA);
  const values = new Float32Array(nnzA + nnzB);
  values.set(A.values.subarray(0, nnzA));
  values.set(B.values.subarray(0, nnzB), nnzA);
  return { n: A.n + B.n, dim: A.dim, indptr, indices, values };
}
