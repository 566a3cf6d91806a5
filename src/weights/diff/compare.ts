/**
 * Per-tensor comparison of a candidate with its base: identical bytes are recognised without decoding;
 * otherwise both are decoded to float32, the delta is formed in place, and for matrices (any tensor of two
 * or more dimensions, read as rows x the rest) the top singular values of the delta are estimated. Memory
 * is two decoded tensors at a time.
 */

import { conversionRounding } from '../decode.js';
import { sketchRows, topSingularValues } from '../linalg.js';
import { layerOf, roleOf } from '../names.js';
import type { TensorStore } from '../store.js';

/** Singular values estimated per matrix; a rank above this is reported as "more than K". */
export const TOP_K = 8;
/**
 * Matrices with more elements than this are analysed on a length-squared row sketch of SKETCH_ROWS rows:
 * exact for low-rank deltas (every row lies in their row space) and unbiased for the Gram matrix otherwise,
 * which is all the shape measures (energy shares, sigma1/sigma2) need. It bounds the cost per tensor.
 */
const SKETCH_ABOVE = 1 << 18;
const SKETCH_ROWS = 128;

export interface TensorDelta {
  base: string;
  candidate: string;
  role: string;
  layer?: number;
  shape: number[];
  dtype: { base: string; candidate: string };
  status: 'identical' | 'changed' | 'not-compared';
  /** Why a tensor was not compared (a dtype with no float values). */
  reason?: string;
  /**
   * The candidate's dtype keeps fewer mantissa bits than the base's: the base was rounded to it before the
   * delta was formed, so a plain conversion (F32 to F16 or BF16) is no change and an edit made with it still is.
   */
  roundedTo?: string;
  baseNorm: number;
  deltaNorm: number;
  /** ||delta||_F / ||base||_F (Infinity when the base is all zeros and the delta is not). */
  relDelta: number;
  /** Share of elements whose value changed. */
  changedShare: number;
  /** Matrices only: the top singular values of the delta (descending). */
  spectrum?: number[];
  /** Share of the delta's energy (squared Frobenius norm) in its top singular value, and in the top K. */
  energyTop1?: number;
  energyTopK?: number;
  /** Singular values needed for 99% of the energy; undefined when more than TOP_K are. */
  rank99?: number;
  /** sigma_1 / sigma_2: how far the top direction stands above the rest. */
  spike?: number;
  sketched?: boolean;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return (
    a.length === b.length &&
    Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length))
  );
}

function spectral(
  d: Float32Array,
  shape: number[],
  deltaNorm2: number,
  rowNorms2: Float64Array,
  seed: number,
): Partial<TensorDelta> {
  const m = shape[0];
  const n = d.length / m;
  let mat = d;
  let rows = m;
  let norm2 = deltaNorm2;
  let sketched = false;
  if (d.length > SKETCH_ABOVE && m > SKETCH_ROWS) {
    mat = sketchRows(d, m, n, rowNorms2, SKETCH_ROWS, seed);
    rows = SKETCH_ROWS;
    norm2 = 0;
    for (let i = 0; i < mat.length; i++) norm2 += mat[i] * mat[i];
    sketched = true;
  }
  // A sketch of a low-rank delta is exact in its range, so no power iteration is needed there.
  const sv = topSingularValues(mat, rows, n, TOP_K, sketched ? 0 : 2, seed);
  const e = Array.from(sv, (s) => (norm2 > 0 ? (s * s) / norm2 : 0));
  let acc = 0;
  let rank99: number | undefined;
  for (let i = 0; i < e.length; i++) {
    acc += e[i];
    if (acc >= 0.99) {
      rank99 = i + 1;
      break;
    }
  }
  return {
    spectrum: Array.from(sv),
    energyTop1: e[0] ?? 0,
    energyTopK: Math.min(1, acc),
    rank99,
    spike: sv.length > 1 && sv[1] > 0 ? sv[0] / sv[1] : Number.POSITIVE_INFINITY,
    sketched,
  };
}

/**
 * Read buffers reused from tensor to tensor (grown to the largest tensor): a fresh buffer per tensor costs
 * more CPU in page faults and zero-filling than the read itself.
 */
export interface ReadBuffers {
  base?: Uint8Array;
  cand?: Uint8Array;
}

function buffer(
  pool: ReadBuffers | undefined,
  key: keyof ReadBuffers,
  bytes: number,
): Uint8Array | undefined {
  if (!pool) return undefined;
  const cur = pool[key];
  if (cur && cur.length >= bytes) return cur;
  pool[key] = new Uint8Array(bytes);
  return pool[key];
}

export async function compareTensor(
  baseStore: TensorStore,
  candStore: TensorStore,
  baseName: string,
  candName: string,
  shape: number[],
  dtypes: { base: string; candidate: string },
  seed: number,
  pool?: ReadBuffers,
  bytes?: { base: number; candidate: number },
): Promise<TensorDelta> {
  const out: TensorDelta = {
    base: baseName,
    candidate: candName,
    role: roleOf(candName),
    layer: layerOf(candName),
    shape,
    dtype: dtypes,
    status: 'identical',
    baseNorm: 0,
    deltaNorm: 0,
    relDelta: 0,
    changedShare: 0,
  };
  const [rb, rc] = await Promise.all([
    baseStore.raw(baseName, bytes && buffer(pool, 'base', bytes.base)),
    candStore.raw(candName, bytes && buffer(pool, 'cand', bytes.candidate)),
  ]);
  if (dtypes.base === dtypes.candidate && sameBytes(rb, rc)) return out;
  const b = baseStore.decode(baseName, rb);
  const c = candStore.decode(candName, rc);
  if (!b || !c) {
    out.status = 'not-compared';
    out.reason = `dtype ${!b ? dtypes.base : dtypes.candidate} has no float values to compare`;
    return out;
  }
  // The candidate's buffer becomes the delta (F32 reads are views of a fresh buffer, owned here).
  const d = c;
  const round = conversionRounding(dtypes.base, dtypes.candidate);
  if (round) {
    out.roundedTo = dtypes.candidate;
    // Only the delta reads the rounded base; the base's norm stays the stored one's.
    for (let i = 0; i < d.length; i++) d[i] -= round(b[i]) - b[i];
  }
  const rowsOf = shape.length >= 2 ? shape[0] : 1;
  const cols = d.length / rowsOf;
  const rowNorms2 = new Float64Array(rowsOf);
  let bn = 0;
  let dn = 0;
  let changed = 0;
  // Two interleaved accumulators per sum (fewer dependent adds); an unchanged element adds 0 to the delta.
  for (let r = 0, i = 0; r < rowsOf; r++) {
    let b0 = 0;
    let b1 = 0;
    let r0 = 0;
    let r1 = 0;
    let nz = 0;
    const e = i + cols;
    for (; i + 1 < e; i += 2) {
      const x0 = b[i];
      const x1 = b[i + 1];
      const y0 = d[i] - x0;
      const y1 = d[i + 1] - x1;
      b0 += x0 * x0;
      b1 += x1 * x1;
      r0 += y0 * y0;
      r1 += y1 * y1;
      nz += (y0 !== 0 ? 1 : 0) + (y1 !== 0 ? 1 : 0);
      d[i] = y0;
      d[i + 1] = y1;
    }
    if (i < e) {
      const x0 = b[i];
      const y0 = d[i] - x0;
      b0 += x0 * x0;
      r0 += y0 * y0;
      nz += y0 !== 0 ? 1 : 0;
      d[i] = y0;
      i++;
    }
    rowNorms2[r] = r0 + r1;
    bn += b0 + b1;
    dn += r0 + r1;
    changed += nz;
  }
  out.baseNorm = Math.sqrt(bn);
  out.deltaNorm = Math.sqrt(dn);
  out.changedShare = d.length ? changed / d.length : 0;
  if (changed === 0) return out;
  out.status = 'changed';
  out.relDelta = bn > 0 ? out.deltaNorm / out.baseNorm : Number.POSITIVE_INFINITY;
  if (shape.length >= 2 && shape[0] > 1 && d.length / shape[0] > 1)
    Object.assign(out, spectral(d, shape, dn, rowNorms2, seed));
  return out;
}
