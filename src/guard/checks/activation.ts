/**
 * guard/activation: the model's internal representation of the instance sits away from where trusted
 * instances of its predicted class sit. Per exposed layer and predicted class: the Mahalanobis distance to
 * the class mean under a Ledoit-Wolf shrunk covariance (a hidden layer has more dimensions than a class has
 * well-spread rows), and the distance to the k-th nearest trusted activation of that class (usearch, exact
 * L2 on per-dimension standardised activations; built and searched with one thread so the same instance
 * always gets the same score); and, over trusted activations of every class, the share of the nearest whose
 * predicted class differs from the instance's (Deep kNN, Papernot & McDaniel 2018): in a layer that still
 * carries the content, a triggered input sits among inputs of its true class while the trigger makes the model
 * answer another. A sequence layer (per-word vectors) adds the distance from the instance's most unusual
 * position to the nearest position vector of any trusted input: a trigger word the trusted data never holds has
 * a vector unlike all of them. Each score is divided by its 99th percentile on held-back trusted rows and the
 * instance's score is the largest; the threshold on that score is calibrated on the same rows, per predicted class.
 */
import { ATLAS } from '../../core/atlas.js';
import type { RuleMeta } from '../../core/rule.js';
import { rng } from '../../gate/stats.js';
import type { Positions } from '../activation-model.js';
import { invertSpd, ledoitWolf, mahalanobis, meanOf } from '../linalg.js';
import { decodeF32, encodeF32, type LayerProfile } from '../profile.js';

type Usearch = typeof import('usearch').default;

/** A nearest-neighbour graph over float32 vectors (L2), with the search breadth the activation check uses. */
function exactIndex(usearch: Usearch, dimensions: number): InstanceType<Usearch['Index']> {
  return new usearch.Index({
    dimensions,
    metric: usearch.MetricKind.L2sq,
    quantization: usearch.ScalarKind.F32,
    connectivity: 16,
    expansion_add: 128,
    expansion_search: 128,
    multi: false,
  });
}

export const meta: RuleMeta = {
  id: 'guard/activation',
  title: 'Instance has an anomalous internal representation',
  severity: 'high',
  atlas: ATLAS.backdoorTrigger,
  rationale:
    'A backdoored model routes triggered inputs through features clean inputs never use, so their hidden activations sit away from the clean inputs of the class they are pushed into, even when the output looks normal (activation clustering, Chen et al. 2018; Mahalanobis detectors, Lee et al. 2018).',
};

/**
 * Neighbours for the kNN distance. Few: a legitimate but rare input still has a handful of trusted look-alikes,
 * a triggered one has none (chosen on the dev part of bench/guard-detect; 10 gave rare clean rows a heavy tail).
 */
export const DEFAULT_K = 3;
/** Neighbours over all classes for the label-disagreement score. */
export const VOTE_K = 20;

/** Statistics of one layer from fit rows (acts n × d) and their predicted classes. */
export function fitLayer(
  name: string,
  acts: Float32Array,
  d: number,
  predicted: Int32Array,
  k: number,
): LayerProfile {
  const n = predicted.length;
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const mu = meanOf(acts, d, all);
  const scale = new Array<number>(d);
  for (let j = 0; j < d; j++) {
    let v = 0;
    for (let i = 0; i < n; i++) v += (acts[i * d + j] - mu[j]) ** 2;
    const sd = Math.sqrt(v / Math.max(1, n - 1));
    scale[j] = sd > 1e-8 ? sd : 1;
  }
  const classes: LayerProfile['classes'] = [];
  for (let c = 0; c < k; c++) {
    const idx = Int32Array.from(Array.from({ length: n }, (_, i) => i).filter((i) => predicted[i] === c));
    if (idx.length < 2) {
      classes.push({ count: idx.length, mean: [], precision: '', shrinkage: 1 });
      continue;
    }
    const mean = meanOf(acts, d, idx);
    const { cov, shrinkage } = ledoitWolf(acts, d, idx, mean);
    classes.push({
      count: idx.length,
      mean: Array.from(mean),
      precision: encodeF32(invertSpd(cov, d)),
      shrinkage,
    });
  }
  const vectors = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) vectors[i * d + j] = acts[i * d + j] / scale[j];
  return {
    name,
    dim: d,
    classes,
    scale,
    reference: { rows: n, vectors: encodeF32(vectors), classes: Array.from(predicted) },
    norm: { mahalanobis: 1, knn: 1, disagreement: 1 },
  };
}

interface ClassIndex {
  search(
    q: Float32Array,
    k: number,
  ): { keys: BigUint64Array; distances: Float32Array; counts?: BigUint64Array };
  size: number;
}

/** A layer ready to score: decoded precisions and one usearch index per class. */
export interface LayerScorer {
  name: string;
  dim: number;
  /** Raw distances of one instance (`acts` at offset o) given its predicted class. */
  distances(
    acts: Float32Array,
    o: number,
    cls: number,
  ): { mahalanobis: number; knn: number; disagreement: number };
  norm: { mahalanobis: number; knn: number; disagreement: number };
  /** Sequence layers: distance from the instance's most unusual position to the nearest trusted position. */
  position?(pos: Positions, i: number): number;
}

export const MAX_POSITION_VECTORS = 20_000;

/** The distinct position vectors of the fit rows (a seeded sample when there are more than the cap). */
export function positionReference(pos: Positions, seed: number): { rows: number; vectors: Float32Array } {
  const d = pos.d;
  const seen = new Set<string>();
  const keep: number[] = [];
  const total = pos.vectors.length / d;
  for (let r = 0; r < total; r++) {
    const key = Buffer.from(pos.vectors.buffer, pos.vectors.byteOffset + r * d * 4, d * 4).toString('base64');
    if (seen.has(key)) continue;
    seen.add(key);
    keep.push(r);
  }
  const rand = rng(seed);
  for (let i = keep.length - 1; i > 0 && keep.length > MAX_POSITION_VECTORS; i--) {
    const j = Math.floor(rand() * (i + 1));
    [keep[i], keep[j]] = [keep[j], keep[i]];
  }
  const chosen = keep.slice(0, MAX_POSITION_VECTORS);
  const vectors = new Float32Array(chosen.length * d);
  chosen.forEach((r, i) => {
    vectors.set(pos.vectors.subarray(r * d, (r + 1) * d), i * d);
  });
  return { rows: chosen.length, vectors };
}

export async function layerScorer(l: LayerProfile, kNeighbours: number): Promise<LayerScorer> {
  const usearch = (await import('usearch')).default;
  const d = l.dim;
  const precisions = l.classes.map((c, i) =>
    c.count >= 2 ? decodeF32(c.precision, d * d, `layer ${l.name} class ${i} precision`) : undefined,
  );
  const vectors = decodeF32(l.reference.vectors, l.reference.rows * d, `layer ${l.name} reference`);
  const build = (rows: number[]): ClassIndex => {
    const index = exactIndex(usearch, d);
    const data = new Float32Array(rows.length * d);
    for (let i = 0; i < rows.length; i++) data.set(vectors.subarray(rows[i] * d, (rows[i] + 1) * d), i * d);
    // Keys are reference rows; one thread to build and search, so results do not depend on scheduling.
    index.add(
      BigUint64Array.from(rows, (r) => BigInt(r)),
      data,
      1,
    );
    return {
      size: rows.length,
      search: (q, k) =>
        index.search(q, k, 1) as unknown as {
          keys: BigUint64Array;
          distances: Float32Array;
          counts?: BigUint64Array;
        },
    };
  };
  const indexes: Array<ClassIndex | undefined> = l.classes.map((_, c) => {
    const rows = l.reference.classes.flatMap((y, i) => (y === c ? [i] : []));
    return rows.length ? build(rows) : undefined;
  });
  const everyClass = l.reference.rows ? build(l.reference.classes.map((_, i) => i)) : undefined;
  let position: LayerScorer['position'];
  if (l.positions) {
    const pd = l.positions.d;
    const pv = decodeF32(l.positions.vectors, l.positions.rows * pd, `layer ${l.name} positions`);
    const index = exactIndex(usearch, pd);
    index.add(
      BigUint64Array.from({ length: l.positions.rows }, (_, i) => BigInt(i)),
      pv,
      1,
    );
    // Word vectors repeat (one per vocabulary word in an embedding layer): remember each one's distance.
    const cache = new Map<string, number>();
    position = (pos, i) => {
      const lo = pos.offsets[i];
      const hi = pos.offsets[i + 1];
      let worst = 0;
      const misses: number[] = [];
      const keys: string[] = [];
      for (let r = lo; r < hi; r++) {
        const key = Buffer.from(pos.vectors.buffer, pos.vectors.byteOffset + r * pd * 4, pd * 4).toString(
          'latin1',
        );
        const hit = cache.get(key);
        if (hit === undefined) {
          misses.push(r);
          keys.push(key);
        } else worst = Math.max(worst, hit);
      }
      if (misses.length) {
        const q = new Float32Array(misses.length * pd);
        misses.forEach((r, m) => {
          q.set(pos.vectors.subarray(r * pd, (r + 1) * pd), m * pd);
        });
        const res = index.search(q, 1, 1) as unknown as { distances: Float32Array };
        if (cache.size > 200_000) cache.clear();
        for (let m = 0; m < misses.length; m++) {
          const dist = Math.sqrt(Math.max(0, res.distances[m]));
          cache.set(keys[m], dist);
          worst = Math.max(worst, dist);
        }
      }
      return worst;
    };
  }
  const scratch = new Float64Array(d);
  const q = new Float32Array(d);
  return {
    name: l.name,
    dim: d,
    norm: l.norm,
    position,
    distances(acts, o, cls) {
      const c = l.classes[cls];
      const p = precisions[cls];
      const maha = c && p ? mahalanobis(acts, o, c.mean, p, d, scratch) : Number.POSITIVE_INFINITY;
      const idx = indexes[cls];
      for (let j = 0; j < d; j++) q[j] = acts[o + j] / l.scale[j];
      let knn = Number.POSITIVE_INFINITY;
      if (idx) {
        const kk = Math.min(kNeighbours, idx.size);
        const res = idx.search(q, kk);
        const found = res.counts ? Number(res.counts[0]) : kk;
        if (found > 0) knn = Math.sqrt(Math.max(0, res.distances[found - 1]));
      }
      let disagreement = 0;
      if (everyClass) {
        const kk = Math.min(VOTE_K, everyClass.size);
        const res = everyClass.search(q, kk);
        const found = res.counts ? Number(res.counts[0]) : kk;
        let other = 0;
        for (let j = 0; j < found; j++) if (l.reference.classes[Number(res.keys[j])] !== cls) other++;
        disagreement = found ? other / found : 0;
      }
      return { mahalanobis: maha, knn, disagreement };
    },
  };
}

export const MEASURES = ['mahalanobis', 'knn', 'disagreement'] as const;
export type Measure = (typeof MEASURES)[number] | 'position';
/**
 * A sequence layer's per-instance summary (max and min over a handful of words) is dominated by the input's
 * length, so its distances flag short clean inputs; only the label disagreement is read from it, beside the
 * position distance.
 */
const SEQUENCE_MEASURES = ['disagreement'] as const;

/** The instance's activation score: the largest normalised score over layers and measures, and what gave it. */
export function activationScore(
  layers: LayerScorer[],
  acts: Float32Array[],
  i: number,
  cls: number,
  positions?: Array<Positions | undefined>,
  positionNorms?: Array<number | undefined>,
): { score: number; layer: string; which: Measure; raw: number } {
  let best = { score: Number.NEGATIVE_INFINITY, layer: '', which: 'mahalanobis' as Measure, raw: 0 };
  layers.forEach((l, li) => {
    const dist = l.distances(acts[li], i * l.dim, cls);
    for (const which of l.position ? SEQUENCE_MEASURES : MEASURES) {
      const v = dist[which] / l.norm[which];
      if (v > best.score) best = { score: v, layer: l.name, which, raw: dist[which] };
    }
    const pos = positions?.[li];
    const norm = positionNorms?.[li];
    if (l.position && pos && norm) {
      const raw = l.position(pos, i);
      if (raw / norm > best.score) best = { score: raw / norm, layer: l.name, which: 'position', raw };
    }
  });
  return best;
}
