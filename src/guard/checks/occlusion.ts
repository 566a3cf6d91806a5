/**
 * guard/occlusion: the part of the instance that decides the promoted model's answer acts as a trigger.
 *
 * Why: activation distance and STRIP assume a trigger makes the input look unusual. A trigger made of ordinary
 * features (a phrase of common words, a conjunction of two common values) does not; what is unusual is what the
 * deciding part does. Two steps:
 *
 * 1. Occlusion finds the deciding parts. Every instance is occluded part by part: in a text column each run of
 *    1..`maxSpan` words (at most `maxShare` of the words) is removed; in any other column the value is replaced by
 *    `replacements` trusted values of that column (the mean answer over them is the occluded answer). A part o of
 *    an instance answered c is ranked by
 *
 *      max(0, p_model(c | x) - p_model(c | x without o)) × (1 - p_ref(c | x without o))
 *
 *    how much the answer depends on o, times how strongly a reference model fitted on the trusted rows' labels
 *    (hashed words and bigrams, one-hot values and bins; src/data/learn's logistic regression) reads the rest as
 *    another class. The best TOP_PARTS parts go on.
 * 2. The transplant step (transplant.ts) writes the best part, the best two and the best three into held trusted
 *    rows the model answers otherwise, and compares how far that moves the promoted model towards c with how far
 *    it moves the reference, times how strongly the reference reads the instance without those parts as another
 *    class. A trigger moves the model (its attack success) and not the reference, and the rest of a triggered
 *    input says otherwise; content moves both, and its rest agrees with the answer.
 *
 * Probabilities, not logits: a confident model's logits run to the clip on clean inputs and make the tail (the
 * threshold) meaningless. Removed runs are bounded by a share of the text because removing most of a short message
 * leaves a fragment any model reads differently. The threshold is calibrated per predicted class on held-back
 * trusted rows the model answers as labelled (fit.ts). Cost: one model answer per copy (the proxy's upstream,
 * within a budget, like STRIP).
 */
import { ATLAS } from '../../core/atlas.js';
import { inputError } from '../../core/errors.js';
import type { RuleMeta } from '../../core/rule.js';
import { hashString } from '../../data/features/hash.js';
import { buildSparse, type SparseMatrix } from '../../data/features/sparse.js';
import type { TabularEncoding } from '../../data/features/tabular.js';
import { tokenizeColumn } from '../../data/features/text.js';
import { type LogRegModel, logitsOf, probaFromLogits, trainLogReg } from '../../data/learn/logreg.js';
import { binOf, quantileEdges } from '../../data/stats/divergence.js';
import type { InputBatch } from '../../gate/models/types.js';
import { rng } from '../../gate/stats.js';
import type { Column } from '../../gate/table.js';
import { decodeF32, encodeF32, type GuardProfile, type OcclusionProfile } from '../profile.js';
import { rowHash } from '../row-hash.js';

export const meta: RuleMeta = {
  id: 'guard/occlusion',
  title: 'The part of the instance that decides the answer acts as a trigger',
  severity: 'high',
  atlas: ATLAS.backdoorTrigger,
  rationale:
    'A trigger made of ordinary words or values looks normal, but it decides the backdoored answer: occluding it flips the model, written into trusted inputs of other classes it moves the model and not a model of the trusted data, and the rest of the instance reads as another class. Content that decides an answer moves both models and leaves a rest that agrees.',
};

/** Chosen on the dev part of bench/guard-detect (its phrase triggers have 4 and 5 words). */
export const DEFAULT_MAX_SPAN = 5;
export const DEFAULT_MAX_SHARE = 1 / 3;
export const DEFAULT_REPLACEMENTS = 4;
export const DEFAULT_MAX_COPIES = 256;
/** Parts of an instance whose transplant is tried (the best alone, the best two, the best three). */
export const TOP_PARTS = 3;
const HASH_BITS = 18;
const BINS = 8;
const VALUES_KEPT = 64;

type Inputs = GuardProfile['inputs'];

/** Bin edges of a numeric column: its quantiles, those of its values other than the commonest, which gets a bin of its own. */
function edgesOf(values: Float64Array): number[] {
  const v = values.filter((x) => !Number.isNaN(x));
  if (!v.length) return [];
  const count = new Map<number, number>();
  for (const x of v) count.set(x, (count.get(x) ?? 0) + 1);
  let mode = v[0];
  for (const [x, c] of count) if (c > (count.get(mode) ?? 0)) mode = x;
  // A column that is mostly one value (capital gain: 0 in nine rows of ten) has no quantile bins above it.
  const above = mode + Math.max(Math.abs(mode) * 1e-9, 1e-9);
  const all = [
    ...quantileEdges(v, BINS),
    ...quantileEdges(
      v.filter((x) => x !== mode),
      BINS,
    ),
    mode,
    above,
  ];
  return [...new Set(all)].sort((a, b) => a - b);
}

/** What the reference reads: the text columns' words, the other columns' values (numbers by bin). */
interface FeatureSpec {
  hashBits: number;
  text: string[];
  other: Array<{ name: string; edges?: Float64Array }>;
}

export interface Reference extends FeatureSpec {
  model: LogRegModel;
  k: number;
}

function specOf(inputs: Inputs, edges: Record<string, number[]>, hashBits: number): FeatureSpec {
  return {
    hashBits,
    text: inputs.filter((c) => c.text).map((c) => c.name),
    other: inputs
      .filter((c) => !c.text)
      .map((c) => ({ name: c.name, edges: edges[c.name] ? Float64Array.from(edges[c.name]) : undefined })),
  };
}

/** The reference's sparse features of a batch: words and bigrams of the text columns, values and bins of the rest. */
function features(ref: FeatureSpec, batch: InputBatch): SparseMatrix {
  const n = batch.n;
  const text = ref.text.length
    ? tokenizeColumn(
        Array.from({ length: n }, (_, i) =>
          ref.text.map((c) => (batch.columns.get(c)?.values[i] as string | undefined) ?? '').join(' '),
        ),
      )
    : undefined;
  let tab: TabularEncoding | undefined;
  if (ref.other.length) {
    const F = ref.other.length;
    const items = new Uint32Array(n * F);
    ref.other.forEach(({ name, edges }, f) => {
      const col = batch.columns.get(name);
      for (let i = 0; i < n; i++) {
        const v = col?.values[i];
        items[i * F + f] = edges
          ? hashString(`${name}#${binOf(typeof v === 'number' ? v : Number(v), edges)}`)
          : hashString(`${name}=${v ?? ''}`);
      }
    });
    tab = { columns: [], items, values: new Int32Array(0), n, F, edges: new Map() };
  }
  return buildSparse(n, { hashBits: ref.hashBits, maxNgram: 2 }, text, tab);
}

/** Fit the reference on the rows with a label (trusted labels, not the promoted model's answers). */
export function fitReference(
  batch: InputBatch,
  labels: Int32Array,
  inputs: Inputs,
  k: number,
): OcclusionProfile['reference'] {
  const edges: Record<string, number[]> = {};
  for (const c of inputs) {
    const col = batch.columns.get(c.name);
    if (!c.text && col?.kind === 'number') edges[c.name] = edgesOf(col.values);
  }
  const X = features(specOf(inputs, edges, HASH_BITS), batch);
  const rows = Int32Array.from(labels.keys()).filter((i) => labels[i] >= 0);
  const y = Int32Array.from(rows, (i) => labels[i]);
  const Xl = rows.length === batch.n ? X : pickRows(X, rows);
  const model = trainLogReg(Xl, y, k, { l2: 1e-4, maxIter: 50 });
  const M = model.M;
  const buckets: number[] = [];
  const weights: number[] = [];
  for (let b = 0; b < model.dim; b++) {
    let any = false;
    for (let m = 0; m < M; m++) if (model.w[b * M + m] !== 0) any = true;
    if (!any) continue;
    buckets.push(b);
    for (let m = 0; m < M; m++) weights.push(model.w[b * M + m]);
  }
  return {
    hashBits: HASH_BITS,
    edges,
    buckets: encodeF32(buckets),
    weights: encodeF32(weights),
    bias: Array.from(model.w.subarray(model.dim * M)),
    trainedRows: rows.length,
  };
}

function pickRows(X: SparseMatrix, rows: Int32Array): SparseMatrix {
  const indptr = new Int32Array(rows.length + 1);
  for (let t = 0; t < rows.length; t++) indptr[t + 1] = indptr[t] + X.indptr[rows[t] + 1] - X.indptr[rows[t]];
  const indices = new Int32Array(indptr[rows.length]);
  const values = new Float32Array(indptr[rows.length]);
  rows.forEach((r, t) => {
    indices.set(X.indices.subarray(X.indptr[r], X.indptr[r + 1]), indptr[t]);
    values.set(X.values.subarray(X.indptr[r], X.indptr[r + 1]), indptr[t]);
  });
  return { n: rows.length, dim: X.dim, indptr, indices, values };
}

/** Decode a profile's reference; a damaged one is a one-line input error. */
export function referenceOf(ref: OcclusionProfile['reference'], inputs: Inputs, k: number): Reference {
  const M = k === 2 ? 1 : k;
  const dim = 1 << ref.hashBits;
  const w = new Float64Array(dim * M + M);
  const buckets = decodeF32(ref.buckets, undefined, 'occlusion reference buckets');
  const weights = decodeF32(ref.weights, buckets.length * M, 'occlusion reference weights');
  buckets.forEach((b, j) => {
    if (!(Number.isInteger(b) && b >= 0 && b < dim))
      throw inputError(
        `guard profile: occlusion reference bucket ${b} is outside its 2^${ref.hashBits} features`,
        'fit the profile again with `antidote guard fit`',
      );
    for (let m = 0; m < M; m++) w[b * M + m] = weights[j * M + m];
  });
  ref.bias.forEach((b, m) => {
    w[dim * M + m] = b;
  });
  return { ...specOf(inputs, ref.edges, ref.hashBits), model: { K: k, dim, M, w, iterations: 0 }, k };
}

/** The reference's class probabilities, n × k row-major. */
export function referenceProba(ref: Reference, batch: InputBatch): Float64Array {
  const X = features(ref, batch);
  const out = new Float64Array(batch.n * ref.k);
  const z = new Float64Array(ref.model.M);
  const p = new Float32Array(ref.k);
  for (let i = 0; i < batch.n; i++) {
    logitsOf(ref.model, X, i, z);
    probaFromLogits(ref.k, z, p, 0);
    for (let c = 0; c < ref.k; c++) out[i * ref.k + c] = p[c];
  }
  return out;
}

/** Substitute values of each non-text column: a seeded sample of fit rows' values (repeats kept: common values stay common). */
export function substituteValues(batch: InputBatch, rows: number[], inputs: Inputs, seed: number) {
  const r = rng(seed + 23);
  const pick = Array.from(
    { length: Math.min(VALUES_KEPT, rows.length) },
    () => rows[Math.floor(r() * rows.length)],
  );
  const out: OcclusionProfile['values'] = {};
  for (const c of inputs) {
    const col = batch.columns.get(c.name);
    if (c.text || !col) continue;
    out[c.name] = pick.map((i) =>
      col.kind === 'number' ? (Number.isNaN(col.values[i]) ? null : col.values[i]) : col.values[i],
    );
  }
  return out;
}

/** The occluded copies of some rows of a batch: copy j belongs to row `owner[j]`, part `part[j]` of that row. */
export interface Occlusions {
  copies: InputBatch;
  owner: Int32Array;
  part: Int32Array;
  /** Per chosen row, a description of each part ("removing \"a b\" from text", "replacing age"). */
  parts: string[][];
  /** Per chosen row, what each part is: a run of words of a text column, or the value of another column. */
  specs: PartSpec[][];
}

export type PartSpec =
  | { column: string; text: true; start: number; length: number }
  | { column: string; text: false };

/** Build every occluded copy of rows `rows` (text runs removed, other values substituted). */
export function occlude(
  batch: InputBatch,
  rows: number[],
  occ: OcclusionProfile,
  inputs: Inputs,
  seed: number,
): Occlusions {
  // Each copy: the row it comes from and the one cell it changes.
  const edits: Array<{ row: number; column: string; value: string | number }> = [];
  const owner: number[] = [];
  const part: number[] = [];
  const parts: string[][] = [];
  const specs: PartSpec[][] = [];
  rows.forEach((i, r) => {
    const names: string[] = [];
    const spec: PartSpec[] = [];
    const own: typeof edits = [];
    const partOf: number[] = [];
    for (const c of inputs.filter((x) => x.text)) {
      const col = batch.columns.get(c.name);
      if (col?.kind !== 'string') continue;
      const words = col.values[i].split(/\s+/).filter(Boolean);
      const longest = Math.min(occ.maxSpan, Math.max(1, Math.floor(words.length * occ.maxShare)));
      if (words.length < 2) continue;
      let total = 0;
      for (let l = 1; l <= longest; l++) total += words.length - l + 1;
      const stride = Math.max(1, Math.ceil(total / occ.maxCopies));
      for (let l = 1; l <= longest; l++)
        for (let s = 0; s + l <= words.length; s += stride) {
          names.push(`removing "${words.slice(s, s + l).join(' ')}" from ${c.name}`);
          spec.push({ column: c.name, text: true, start: s, length: l });
          partOf.push(names.length - 1);
          own.push({
            row: i,
            column: c.name,
            value: [...words.slice(0, s), ...words.slice(s + l)].join(' '),
          });
        }
    }
    const r2 = rng(rowHash(batch, i, seed));
    for (const c of inputs.filter((x) => !x.text)) {
      const col = batch.columns.get(c.name);
      const pool = occ.values[c.name];
      if (!col || !pool?.length) continue;
      const cur = col.values[i];
      const other = pool.filter(
        (v) => v !== null && v !== cur && !(typeof v === 'number' && Number.isNaN(v)),
      );
      if (!other.length) continue;
      names.push(`replacing ${c.name} = ${typeof cur === 'number' && Number.isNaN(cur) ? 'missing' : cur}`);
      spec.push({ column: c.name, text: false });
      for (let t = 0; t < occ.replacements; t++) {
        partOf.push(names.length - 1);
        own.push({
          row: i,
          column: c.name,
          value: other[Math.floor(r2() * other.length)] as string | number,
        });
      }
    }
    const keep = Math.min(own.length, occ.maxCopies);
    for (let j = 0; j < keep; j++) {
      edits.push(own[j]);
      owner.push(r);
      part.push(partOf[j]);
    }
    parts.push(names);
    specs.push(spec);
  });
  const n = edits.length;
  const columns = new Map<string, Column>();
  for (const [name, col] of batch.columns) {
    if (col.kind === 'number') {
      const v = new Float64Array(n);
      edits.forEach((e, j) => {
        v[j] = e.column === name ? Number(e.value) : col.values[e.row];
      });
      columns.set(name, { kind: 'number', values: v });
    } else
      columns.set(name, {
        kind: 'string',
        values: edits.map((e) => (e.column === name ? String(e.value) : col.values[e.row])),
      });
  }
  return {
    copies: { n, columns, ids: Array.from({ length: n }, (_, j) => `occlusion-${j}`) },
    owner: Int32Array.from(owner),
    part: Int32Array.from(part),
    parts,
    specs,
  };
}

/**
 * Each chosen row's deciding parts (indices into Occlusions.parts[row]), best first, at most TOP_PARTS: ranked by
 * (drop of the answered class's probability when the part is occluded) × (the reference's probability of another
 * class on the occluded copies), means over a part's copies; parts that do not lower the answer are left out.
 */
export function decidingParts(
  occ: Occlusions,
  rowProbs: Float64Array,
  copyProbs: Float64Array,
  copyRef: Float64Array,
  predicted: ArrayLike<number>,
  k: number,
): number[][] {
  const ranked: Array<Array<{ part: number; score: number }>> = occ.parts.map(() => []);
  let j = 0;
  while (j < occ.owner.length) {
    const r = occ.owner[j];
    const p = occ.part[j];
    const c = predicted[r];
    let m = 0;
    let ref = 0;
    let cnt = 0;
    for (; j < occ.owner.length && occ.owner[j] === r && occ.part[j] === p; j++, cnt++) {
      m += copyProbs[j * k + c];
      ref += copyRef[j * k + c];
    }
    const s = Math.max(0, rowProbs[r * k + c] - m / cnt) * (1 - ref / cnt);
    if (s > 0) ranked[r].push({ part: p, score: s });
  }
  return ranked.map((r) =>
    r
      .sort((a, b) => b.score - a.score)
      .slice(0, TOP_PARTS)
      .map((x) => x.part),
  );
}
