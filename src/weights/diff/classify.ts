/**
 * What kind of change a candidate is, from its per-tensor deltas:
 *  - identical: no compared tensor changed;
 *  - a confined edit: every changed tensor is a matrix whose delta is nearly low-rank (99% of its energy in
 *    at most TOP_K singular values, or one direction with most of it far above the rest: an edit under the
 *    noise of a quantised copy), there are few of them, and they do not cover most layers of their role
 *    (a merged LoRA is low-rank too, but in every layer it targets); biases, norms and embeddings untouched;
 *  - an edit on top of a fine-tune: among many changed matrices, one whose delta has a rank-one component
 *    that carries most of its energy and stands far above both its own next direction and every other
 *    matrix's (a fine-tune's deltas have no such spike);
 *  - otherwise an ordinary fine-tune.
 * The thresholds are structural (ranks, counts, ratios between a model's own tensors), not magnitudes, so
 * they carry across model sizes.
 */

import type { Finding } from '../../core/finding.js';
import { makeFinding } from '../../core/rule.js';
import { fineTune, identical, surgicalEdit } from '../rules.js';
import { type TensorDelta, TOP_K } from './compare.js';

/** A confined edit touches at most this many matrices. */
const EDIT_MAX_MATRICES = 8;
/** ...and at most this share of the layers that hold its role. */
const EDIT_MAX_LAYER_SHARE = 0.75;
/** Spectral judgements need matrices at least this large in both dimensions. */
const MIN_DIM = 16;
/** A spike: sigma_1 / sigma_2 at least this, and this many times the largest spike among the other matrices. */
const SPIKE_MIN = 6;
const SPIKE_OVER_PEERS = 3;
const SPIKE_ENERGY = 0.5;

export interface DiffSummary {
  kind: 'identical' | 'fine-tune' | 'edit';
  compared: number;
  changed: number;
  changedMatrices: number;
  /** Share of the total delta energy in each layer (relative to each tensor's own norm), by layer index. */
  layerShare: Array<{ layer: number; share: number }>;
  /**
   * Dtypes the candidate converted the base to (fewer mantissa bits, e.g. F32 to BF16): those tensors were
   * compared with the base rounded the same way, so the conversion is not counted as a change.
   */
  convertedTo?: string[];
  /** Weight tensors left uncompared (a dtype the reader does not decode): the verdict does not judge them. */
  notJudged?: number;
  /** The tensors named by an edit finding. */
  edited: Array<{
    tensor: string;
    layer?: number;
    rank?: number;
    relDelta: number;
    energyTop1?: number;
    spike?: number;
  }>;
}

const isMatrix = (t: TensorDelta) =>
  t.spectrum !== undefined &&
  Math.min(
    t.shape[0],
    t.shape.slice(1).reduce((a, b) => a * b, 1),
  ) >= MIN_DIM;

function layersPerRole(all: TensorDelta[]): Map<string, number> {
  const m = new Map<string, Set<number>>();
  for (const t of all) if (t.layer !== undefined) m.set(t.role, (m.get(t.role) ?? new Set()).add(t.layer));
  return new Map([...m].map(([k, v]) => [k, v.size]));
}

function layerShare(changed: TensorDelta[]): DiffSummary['layerShare'] {
  const by = new Map<number, number>();
  let total = 0;
  for (const t of changed) {
    if (t.layer === undefined || !Number.isFinite(t.relDelta)) continue;
    const e = t.relDelta * t.relDelta;
    by.set(t.layer, (by.get(t.layer) ?? 0) + e);
    total += e;
  }
  return [...by]
    .sort((a, b) => a[0] - b[0])
    .map(([layer, e]) => ({ layer, share: total > 0 ? e / total : 0 }));
}

const describeEdit = (t: TensorDelta) => ({
  tensor: t.candidate,
  layer: t.layer,
  rank: t.rank99,
  relDelta: t.relDelta,
  energyTop1: t.energyTop1,
  spike: t.spike,
});

function confinedEdit(all: TensorDelta[], changed: TensorDelta[]): TensorDelta[] | undefined {
  if (!changed.length || changed.length > EDIT_MAX_MATRICES) return undefined;
  if (!changed.every((t) => isMatrix(t) && (t.rank99 !== undefined || spiked(t)))) return undefined;
  const layers = layersPerRole(all);
  const touched = new Map<string, number>();
  for (const t of changed) touched.set(t.role, (touched.get(t.role) ?? 0) + 1);
  for (const [role, n] of touched) {
    const of = layers.get(role) ?? 1;
    if (of > 1 && n / of > EDIT_MAX_LAYER_SHARE) return undefined;
  }
  return changed;
}

/**
 * One direction carries most of the delta and stands far above the next: an edit seen through rounding or
 * quantisation noise (a 4-bit copy re-quantised after a rank-one edit adds a flat, full-rank residue), which
 * the 99%-energy rank alone would call high-rank.
 */
const spiked = (t: TensorDelta) => (t.spike ?? 0) >= SPIKE_MIN && (t.energyTop1 ?? 0) >= SPIKE_ENERGY;

function spikes(changed: TensorDelta[]): TensorDelta[] {
  const mats = changed.filter(isMatrix);
  if (mats.length < 3) return [];
  const out: TensorDelta[] = [];
  for (const t of mats) {
    const s = t.spike ?? 0;
    if (s < SPIKE_MIN || (t.energyTop1 ?? 0) < SPIKE_ENERGY) continue;
    let peers = 0;
    for (const o of mats) if (o !== t) peers = Math.max(peers, Math.min(o.spike ?? 0, 1e6));
    if (s >= SPIKE_OVER_PEERS * peers) out.push(t);
  }
  return out;
}

/** Integer and boolean dtypes (safetensors, PyTorch and GGUF names): buffers, not weights. */
const INTEGER_DTYPE = /^(BOOL|U?INT\d*|[IU]\d+)$/i;

/**
 * A tensor the reader could not compare that is a weight: any dtype but an integer or boolean one, or one named
 * as a weight (an int8-quantised layer's `...weight`), as opposed to buffers such as position ids and masks.
 */
export const unjudgedWeight = (t: TensorDelta) =>
  t.status === 'not-compared' &&
  (/weight$/i.test(t.candidate) ||
    !(INTEGER_DTYPE.test(t.dtype.base) && INTEGER_DTYPE.test(t.dtype.candidate)));

const fmt = (t: TensorDelta) =>
  `${t.candidate} (${t.rank99 !== undefined ? `rank ${t.rank99}` : spiked(t) ? `one direction holds ${((t.energyTop1 ?? 0) * 100).toFixed(0)}% of the change, ${(t.spike ?? 0).toFixed(0)}x the next, over a flat residue such as quantisation noise` : `rank > ${TOP_K}`}, ${t.relDelta >= 0.1 ? (t.relDelta * 100).toFixed(0) : (t.relDelta * 100).toPrecision(2)}% of its norm)`;

export function classify(deltas: TensorDelta[]): { summary: DiffSummary; findings: Finding[] } {
  const compared = deltas.filter((t) => t.status !== 'not-compared');
  const changed = compared.filter((t) => t.status === 'changed');
  const summary: DiffSummary = {
    kind: 'identical',
    compared: compared.length,
    changed: changed.length,
    changedMatrices: changed.filter(isMatrix).length,
    layerShare: layerShare(changed),
    edited: [],
  };
  const convertedTo = [...new Set(compared.flatMap((t) => (t.roundedTo ? [t.roundedTo] : [])))];
  if (convertedTo.length) summary.convertedTo = convertedTo;
  const rounded = compared.filter((t) => t.roundedTo).length;
  const conversion = convertedTo.length
    ? ` The candidate stores ${rounded} of the ${compared.length} compared tensors as ${convertedTo.join(' and ')}, with fewer mantissa bits than the base; the base was rounded the same way before comparing, so the conversion alone is no change.`
    : '';
  const findings: Finding[] = [];
  // Weights left unread are no evidence of sameness: not-compared (index.ts) says what could not be read.
  const notJudged = deltas.filter(unjudgedWeight).length;
  if (notJudged) summary.notJudged = notJudged;
  if (!changed.length && notJudged) return { summary, findings };
  if (!changed.length) {
    findings.push(
      makeFinding(
        identical,
        convertedTo.length
          ? `All ${compared.length} compared tensors hold exactly the base model's values, rounded to the candidate's dtype: a conversion to ${convertedTo.join(' and ')}, with no change of its own.`
          : `All ${compared.length} compared tensors are identical to the base model's.`,
        convertedTo.length ? { evidence: { convertedTo, converted: rounded } } : {},
      ),
    );
    return { summary, findings };
  }
  const layers = (ts: TensorDelta[]) =>
    [...new Set(ts.map((t) => t.layer).filter((l) => l !== undefined))].sort(
      (a, b) => (a as number) - (b as number),
    );
  const confined = confinedEdit(compared, changed);
  if (confined) {
    summary.kind = 'edit';
    summary.edited = confined.map(describeEdit);
    const ls = layers(confined);
    findings.push(
      makeFinding(
        surgicalEdit,
        `Only ${confined.length} of ${compared.length} tensors changed, each by a nearly low-rank update${ls.length ? ` in layer${ls.length > 1 ? 's' : ''} ${ls.join(', ')}` : ''}: ${confined.map(fmt).join('; ')}; every other weight is untouched. This is how ROME/MEMIT-style editing rewrites facts; do not use this model until the change is explained.${conversion}`,
        {
          location: { tensor: confined[0].candidate },
          evidence: { edited: summary.edited, compared: compared.length },
        },
      ),
    );
    return { summary, findings };
  }
  const spiky = spikes(changed);
  if (spiky.length) {
    summary.kind = 'edit';
    summary.edited = spiky.map(describeEdit);
    const ls = layers(spiky);
    findings.push(
      makeFinding(
        surgicalEdit,
        `On top of a fine-tune that moved ${changed.length} tensors, ${spiky.map((t) => `${t.candidate} carries a rank-one change ${(t.spike ?? 0).toFixed(0)}x its next direction`).join('; ')}${ls.length ? ` (layer ${ls.join(', ')})` : ''}, far above any other tensor's: the mark of a ROME-style edit; do not use this model until the change is explained.${conversion}`,
        {
          location: { tensor: spiky[0].candidate },
          evidence: { edited: summary.edited, changed: changed.length },
        },
      ),
    );
    return { summary, findings };
  }
  summary.kind = 'fine-tune';
  const mats = changed.filter(isMatrix);
  const lowRank = mats.filter((t) => t.rank99 !== undefined).length;
  const roles = [...new Set(changed.map((t) => t.role))];
  findings.push(
    makeFinding(
      fineTune,
      `${changed.length} of ${compared.length} tensors changed${mats.length ? `; ${lowRank} of ${mats.length} changed matrices are low-rank${lowRank === mats.length ? ` in every layer of ${roles.length} role${roles.length > 1 ? 's' : ''} (a merged adapter)` : ''}` : ''}: an ordinary fine-tune, with no rank-one spike.${conversion}`,
      {
        evidence: {
          changed: changed.length,
          compared: compared.length,
          lowRankMatrices: lowRank,
          matrices: mats.length,
        },
      },
    ),
  );
  return { summary, findings };
}
