/**
 * Small dense linear algebra over row-major Float32Array matrices: class means, the top principal
 * directions by power iteration (X^T X v computed as X^T (X v), never forming the d × d covariance),
 * projections, and 2-means. Hand-written because the sizes are modest (n × d with d ≤ a few thousand)
 * and pulling in a numeric library for three loops is not worth its weight.
 */
import { mulberry32 } from '../../learn/random.js';

export interface Rows {
  data: Float32Array;
  dim: number;
}

/** Mean vector of the given rows. */
export function meanOf(m: Rows, rows: ArrayLike<number>): Float64Array {
  const mu = new Float64Array(m.dim);
  for (let r = 0; r < rows.length; r++) {
    const o = rows[r] * m.dim;
    for (let j = 0; j < m.dim; j++) mu[j] += m.data[o + j];
  }
  if (rows.length) for (let j = 0; j < m.dim; j++) mu[j] /= rows.length;
  return mu;
}

/** (x_row − centre) · v */
export function project(m: Rows, row: number, centre: Float64Array, v: Float64Array): number {
  let s = 0;
  const o = row * m.dim;
  for (let j = 0; j < m.dim; j++) s += (m.data[o + j] - centre[j]) * v[j];
  return s;
}

function normalise(v: Float64Array): number {
  let n = 0;
  for (let j = 0; j < v.length; j++) n += v[j] * v[j];
  n = Math.sqrt(n);
  if (n > 0) for (let j = 0; j < v.length; j++) v[j] /= n;
  return n;
}

/**
 * Top `k` right singular vectors of the centred rows (principal directions). For dim <= 512 the d × d
 * covariance is formed once (n·d² work) and power iteration with deflation runs on it (d² per step);
 * above that, power iteration runs on the data itself (X^T (X v), n·d per step). Deterministic given `seed`.
 */
export function topDirections(
  m: Rows,
  rows: ArrayLike<number>,
  centre: Float64Array,
  k: number,
  opts: { iterations?: number; seed?: number } = {},
): Float64Array[] {
  const d = m.dim;
  let cov: Float64Array | undefined;
  if (d <= 512) {
    cov = new Float64Array(d * d);
    const x = new Float64Array(d);
    for (let r = 0; r < rows.length; r++) {
      const o = rows[r] * d;
      for (let j = 0; j < d; j++) x[j] = m.data[o + j] - centre[j];
      for (let i = 0; i < d; i++) {
        const xi = x[i];
        if (xi === 0) continue;
        const row = i * d;
        for (let j = i; j < d; j++) cov[row + j] += xi * x[j];
      }
    }
    for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) cov[i * d + j] = cov[j * d + i];
  }
  const multiply = (v: Float64Array): Float64Array => {
    const next = new Float64Array(d);
    if (cov) {
      for (let i = 0; i < d; i++) {
        let s = 0;
        const row = i * d;
        for (let j = 0; j < d; j++) s += cov[row + j] * v[j];
        next[i] = s;
      }
      return next;
    }
    for (let r = 0; r < rows.length; r++) {
      const w = project(m, rows[r], centre, v);
      if (w === 0) continue;
      const o = rows[r] * d;
      for (let j = 0; j < d; j++) next[j] += (m.data[o + j] - centre[j]) * w;
    }
    return next;
  };
  const iters = opts.iterations ?? (cov ? 300 : 40);
  const dirs: Float64Array[] = [];
  let s = (opts.seed ?? 1) >>> 0;
  const rand = () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  for (let c = 0; c < Math.min(k, d); c++) {
    let v: Float64Array = new Float64Array(d);
    for (let j = 0; j < d; j++) v[j] = rand();
    normalise(v);
    for (let it = 0; it < iters; it++) {
      const next = multiply(v);
      for (const u of dirs) {
        let dot = 0;
        for (let j = 0; j < d; j++) dot += next[j] * u[j];
        for (let j = 0; j < d; j++) next[j] -= dot * u[j];
      }
      if (normalise(next) === 0) break;
      let delta = 0;
      for (let j = 0; j < d; j++) delta += Math.abs(next[j] - v[j]);
      v = next;
      if (delta < 1e-9) break;
    }
    dirs.push(v);
  }
  return dirs;
}

/**
 * 2-means (Lloyd) over small dense points (n × d Float64Array), initialised k-means++-style from a
 * deterministic seed. Returns the assignment (0/1) of each point.
 */
export function twoMeans(points: Float64Array, n: number, d: number, seed = 1, iterations = 50): Uint8Array {
  const assign = new Uint8Array(n);
  if (n < 2) return assign;
  const dist2 = (i: number, c: Float64Array) => {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const t = points[i * d + j] - c[j];
      s += t * t;
    }
    return s;
  };
  // Seeds: the point farthest from the mean, then the point farthest from that one (deterministic).
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += points[i * d + j] / n;
  let a = (seed >>> 0) % n;
  let best = -1;
  for (let i = 0; i < n; i++) {
    const v = dist2(i, mean);
    if (v > best) {
      best = v;
      a = i;
    }
  }
  const c0 = points.slice(a * d, a * d + d);
  let b = 0;
  best = -1;
  for (let i = 0; i < n; i++) {
    const v = dist2(i, c0);
    if (v > best) {
      best = v;
      b = i;
    }
  }
  const c1 = points.slice(b * d, b * d + d);
  for (let it = 0; it < iterations; it++) {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const k = dist2(i, c1) < dist2(i, c0) ? 1 : 0;
      if (k !== assign[i] || it === 0) {
        if (k !== assign[i]) changed++;
        assign[i] = k;
      }
    }
    const s0 = new Float64Array(d);
    const s1 = new Float64Array(d);
    let n0 = 0;
    let n1 = 0;
    for (let i = 0; i < n; i++) {
      const t = assign[i] ? s1 : s0;
      if (assign[i]) n1++;
      else n0++;
      for (let j = 0; j < d; j++) t[j] += points[i * d + j];
    }
    if (n0 === 0 || n1 === 0) break;
    for (let j = 0; j < d; j++) {
      c0[j] = s0[j] / n0;
      c1[j] = s1[j] / n1;
    }
    if (it > 0 && changed === 0) break;
  }
  return assign;
}

/** The seed of the random projections the neighbour searches share (the same rows, the same space). */
export const PROJECTION_SEED = 0x5eed;

/** A seeded rows x cols matrix of standard normal values (Box-Muller over mulberry32). */
export function gaussianMatrix(rows: number, cols: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < out.length; i++) {
    const u = Math.max(rand(), 1e-12);
    out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  }
  return out;
}

/** Each row of `data` (n x dim) times R (dim x cols). */
export function projectRows(data: Float32Array, dim: number, R: Float32Array, cols: number): Float32Array {
  const n = data.length / dim;
  const out = new Float32Array(n * cols);
  for (let i = 0; i < n; i++) {
    const o = i * cols;
    for (let d = 0; d < dim; d++) {
      const x = data[i * dim + d];
      if (x === 0 || !Number.isFinite(x)) continue;
      const r = d * cols;
      for (let c = 0; c < cols; c++) out[o + c] += x * R[r + c];
    }
  }
  return out;
}
