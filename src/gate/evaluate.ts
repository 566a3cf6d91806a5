/**
 * Metrics of two models on the same labelled rows, with paired bootstrap confidence intervals of each model's
 * metric and of the difference (candidate minus incumbent). The bootstrap resamples rows once per replicate
 * and computes every metric from the same draw, so the intervals of the difference are paired. AUC inside the
 * bootstrap uses 1,024 score bins (exact AUC for the point estimate), which keeps each replicate O(rows).
 */
import { predictedClasses, quantileSorted } from './stats.js';

export interface MetricComparison {
  name: string;
  higherIsBetter: boolean;
  incumbent: number;
  candidate: number;
  /** candidate - incumbent. */
  diff: number;
  ci: [number, number];
  incumbentCi: [number, number];
  candidateCi: [number, number];
}

export interface Evaluation {
  rows: number;
  replicates: number;
  confidence: number;
  metrics: MetricComparison[];
}

const EPS = 1e-7;
const BINS = 1024;

/** Exact AUC (ties count one half): sort positive and negative scores separately, then merge. */
function exactAuc(scores: Float64Array, pos: Uint8Array): number {
  let nPos = 0;
  for (let i = 0; i < pos.length; i++) nPos += pos[i];
  const nNeg = scores.length - nPos;
  if (nPos === 0 || nNeg === 0) return Number.NaN;
  const p = new Float64Array(nPos);
  const q = new Float64Array(nNeg);
  let a = 0;
  let b = 0;
  for (let i = 0; i < scores.length; i++) {
    if (pos[i]) p[a++] = scores[i];
    else q[b++] = scores[i];
  }
  p.sort();
  q.sort();
  let below = 0;
  let j = 0;
  let acc = 0;
  for (let i = 0; i < nPos; i++) {
    while (j < nNeg && q[j] < p[i]) j++;
    below = j;
    let ties = 0;
    while (j + ties < nNeg && q[j + ties] === p[i]) ties++;
    acc += below + ties / 2;
  }
  return acc / (nPos * nNeg);
}

function histAuc(posH: Float64Array, negH: Float64Array): number {
  let negBelow = 0;
  let nPos = 0;
  let nNeg = 0;
  let acc = 0;
  for (let b = 0; b < BINS; b++) {
    acc += posH[b] * (negBelow + negH[b] / 2);
    negBelow += negH[b];
    nPos += posH[b];
    nNeg += negH[b];
  }
  return nPos && nNeg ? acc / (nPos * nNeg) : Number.NaN;
}

/** Per-row facts both the point estimates and the bootstrap use. */
function prepare(labels: Int32Array, inc: Float64Array, cand: Float64Array, k: number) {
  const rows: number[] = [];
  for (let i = 0; i < labels.length; i++) if (labels[i] >= 0) rows.push(i);
  const m = rows.length;
  const y = new Int32Array(m);
  const okInc = new Uint8Array(m);
  const okCand = new Uint8Array(m);
  const llInc = new Float64Array(m);
  const llCand = new Float64Array(m);
  const sInc = new Float64Array(m);
  const sCand = new Float64Array(m);
  const predInc = predictedClasses(inc, labels.length, k);
  const predCand = predictedClasses(cand, labels.length, k);
  rows.forEach((r, i) => {
    const c = labels[r];
    y[i] = c;
    okInc[i] = predInc[r] === c ? 1 : 0;
    okCand[i] = predCand[r] === c ? 1 : 0;
    llInc[i] = -Math.log(Math.max(EPS, inc[r * k + c]));
    llCand[i] = -Math.log(Math.max(EPS, cand[r * k + c]));
    sInc[i] = inc[r * k + k - 1];
    sCand[i] = cand[r * k + k - 1];
  });
  return { m, y, okInc, okCand, llInc, llCand, sInc, sCand };
}

export function evaluatePair(
  labels: Int32Array,
  inc: Float64Array,
  cand: Float64Array,
  classes: string[],
  opts: { replicates?: number; seed?: number; confidence?: number } = {},
): Evaluation {
  const k = classes.length;
  const requested = opts.replicates ?? 500;
  const conf = opts.confidence ?? 0.95;
  const d = prepare(labels, inc, cand, k);
  const { m, y } = d;
  // Bound the work on very large holdouts (about 2e7 draws), never below 200 replicates.
  const B = Math.max(Math.min(requested, 200), Math.min(requested, Math.floor(2e7 / Math.max(1, m))));
  const binary = k === 2;
  const names = ['accuracy', 'log_loss', ...(binary ? ['auc'] : []), ...classes.map((c) => `recall[${c}]`)];
  const higher = names.map((nm) => nm !== 'log_loss');

  // Point estimates.
  const point = (ok: Uint8Array, ll: Float64Array, s: Float64Array): number[] => {
    let acc = 0;
    let loss = 0;
    const cnt = new Float64Array(k);
    const hit = new Float64Array(k);
    for (let i = 0; i < m; i++) {
      acc += ok[i];
      loss += ll[i];
      cnt[y[i]]++;
      hit[y[i]] += ok[i];
    }
    const pos = Uint8Array.from(y, (c) => (c === k - 1 ? 1 : 0));
    return [
      acc / m,
      loss / m,
      ...(binary ? [exactAuc(s, pos)] : []),
      ...Array.from(cnt, (c, j) => (c ? hit[j] / c : Number.NaN)),
    ];
  };
  const pInc = point(d.okInc, d.llInc, d.sInc);
  const pCand = point(d.okCand, d.llCand, d.sCand);

  // Paired bootstrap.
  const nm = names.length;
  const repInc = names.map(() => new Float64Array(B));
  const repCand = names.map(() => new Float64Array(B));
  const repDiff = names.map(() => new Float64Array(B));
  // Per-row facts packed for the hot loop: outcome code (class, incumbent right, candidate right) and the
  // score bins of the positive class (binary), indexed into one flat histogram [model][label][bin].
  const code = new Int32Array(m);
  const posBin = new Int32Array(binary ? 2 * m : 0);
  for (let i = 0; i < m; i++) {
    code[i] = y[i] * 4 + d.okInc[i] * 2 + d.okCand[i];
    if (binary) {
      const lab = y[i] === 1 ? 0 : BINS;
      posBin[2 * i] = lab + Math.min(BINS - 1, Math.floor(d.sInc[i] * BINS));
      posBin[2 * i + 1] = 2 * BINS + lab + Math.min(BINS - 1, Math.floor(d.sCand[i] * BINS));
    }
  }
  const outcomes = new Float64Array(4 * k);
  const hist = new Float64Array(binary ? 4 * BINS : 0);
  const cnt = new Float64Array(k);
  const hitI = new Float64Array(k);
  const hitC = new Float64Array(k);
  // mulberry32, inlined: the loop below draws replicates x rows numbers.
  let state = (opts.seed ?? 1) >>> 0 || 0x9e3779b9;
  for (let b = 0; b < B && m > 0; b++) {
    let llI = 0;
    let llC = 0;
    outcomes.fill(0);
    hist.fill(0);
    for (let t = 0; t < m; t++) {
      state = (state + 0x6d2b79f5) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 15), z | 1);
      z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
      const i = ((((z ^ (z >>> 14)) >>> 0) / 4294967296) * m) | 0;
      outcomes[code[i]]++;
      llI += d.llInc[i];
      llC += d.llCand[i];
      if (binary) {
        hist[posBin[2 * i]]++;
        hist[posBin[2 * i + 1]]++;
      }
    }
    let accI = 0;
    let accC = 0;
    for (let c = 0; c < k; c++) {
      const o = c * 4;
      cnt[c] = outcomes[o] + outcomes[o + 1] + outcomes[o + 2] + outcomes[o + 3];
      hitI[c] = outcomes[o + 2] + outcomes[o + 3];
      hitC[c] = outcomes[o + 1] + outcomes[o + 3];
      accI += hitI[c];
      accC += hitC[c];
    }
    const hists = binary
      ? [
          hist.subarray(0, BINS),
          hist.subarray(2 * BINS, 3 * BINS),
          hist.subarray(BINS, 2 * BINS),
          hist.subarray(3 * BINS),
        ]
      : [];
    const vi = [
      accI / m,
      llI / m,
      ...(binary ? [histAuc(hists[0], hists[2])] : []),
      ...Array.from(cnt, (c, j) => hitI[j] / c),
    ];
    const vc = [
      accC / m,
      llC / m,
      ...(binary ? [histAuc(hists[1], hists[3])] : []),
      ...Array.from(cnt, (c, j) => hitC[j] / c),
    ];
    for (let j = 0; j < nm; j++) {
      repInc[j][b] = vi[j];
      repCand[j][b] = vc[j];
      repDiff[j][b] = vc[j] - vi[j];
    }
  }
  const alpha = (1 - conf) / 2;
  const ci = (a: Float64Array): [number, number] => {
    const s = a.filter((x) => !Number.isNaN(x)).sort();
    return [quantileSorted(s, alpha), quantileSorted(s, 1 - alpha)];
  };
  const metrics: MetricComparison[] = names.map((name, j) => ({
    name,
    higherIsBetter: higher[j],
    incumbent: pInc[j],
    candidate: pCand[j],
    diff: pCand[j] - pInc[j],
    ci: ci(repDiff[j]),
    incumbentCi: ci(repInc[j]),
    candidateCi: ci(repCand[j]),
  }));
  return { rows: m, replicates: B, confidence: conf, metrics };
}
