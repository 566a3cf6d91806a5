/**
 * Cheap dense representations for the spectral-signature baseline and for benchmark runs of the
 * representations detector: the audit's sparse features (hashed word unigrams+bigrams, or one-hot tabular
 * items), weighted by inverse document frequency on the trusted set, then a seeded Gaussian-like random
 * projection to `dim` dimensions (Johnson-Lindenstrauss), each row scaled to unit length. No model weights.
 */

import { fmix32 } from '../detectors/lib/hash.js';
import type { AuditContext } from '../detectors/types.js';
import { modelMatrix, type Side } from '../features/context.js';

function idfOf(ctx: AuditContext, bits: number): Map<number, number> {
  const X = modelMatrix(ctx, 'trusted', bits);
  const df = new Map<number, number>();
  for (let r = 0; r < X.n; r++) {
    for (let k = X.indptr[r]; k < X.indptr[r + 1]; k++) df.set(X.indices[k], (df.get(X.indices[k]) ?? 0) + 1);
  }
  const idf = new Map<number, number>();
  for (const [j, c] of df) idf.set(j, Math.log((X.n + 1) / (c + 1)) + 1);
  return idf;
}

/** ±1 entry of the projection matrix for (column j, output d), from a hash (sparse Achlioptas-style). */
function sign(j: number, d: number, seed: number): number {
  return fmix32((Math.imul(j, 0x9e3779b1) ^ Math.imul(d + 1, 0x85ebca77) ^ seed) >>> 0) & 1 ? 1 : -1;
}

export function projectFeatures(ctx: AuditContext, side: Side, dim = 64, seed = 1, bits = 18): Float32Array {
  const X = modelMatrix(ctx, side, bits);
  const key = `baseline:idf:${bits}`;
  if (!ctx.shared[key]) ctx.shared[key] = idfOf(ctx, bits);
  const idf = ctx.shared[key] as Map<number, number>;
  const maxIdf = Math.log(ctx.trusted.n + 1) + 1;
  const out = new Float32Array(X.n * dim);
  const row = new Float64Array(dim);
  for (let r = 0; r < X.n; r++) {
    row.fill(0);
    for (let k = X.indptr[r]; k < X.indptr[r + 1]; k++) {
      const j = X.indices[k];
      const w = X.values[k] * (idf.get(j) ?? maxIdf);
      for (let d = 0; d < dim; d++) row[d] += w * sign(j, d, seed);
    }
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += row[d] * row[d];
    norm = Math.sqrt(norm) || 1;
    for (let d = 0; d < dim; d++) out[r * dim + d] = row[d] / norm;
  }
  return out;
}
