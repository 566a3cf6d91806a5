/**
 * Every tensor of a candidate against its base: names matched across schemes, tied copies recognised,
 * shapes and dtypes checked, then each matched pair compared (compare.ts).
 */
import { inputError } from '../../core/errors.js';
import { DTYPE_BYTES } from '../decode.js';
import { matchNames } from '../names.js';
import type { TensorEntry, TensorStore } from '../store.js';
import type { TensorDelta } from './compare.js';
import { type LaneJob, lanesFor, runLanes } from './lanes.js';

export interface TensorDiff {
  deltas: TensorDelta[];
  /** Only in the base / only in the candidate (tied copies excluded). */
  removed: TensorEntry[];
  added: TensorEntry[];
  reshaped: Array<{ base: string; candidate: string; baseShape: number[]; candidateShape: number[] }>;
  /** Tensors present on one side only because a file format drops a tied copy (e.g. lm_head = embeddings). */
  tied: string[];
}

const sameShape = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** A one-sided tensor that is a byte-identical copy of another tensor on its side is a tied weight. */
async function tiedCopies(store: TensorStore, only: TensorEntry[]): Promise<Set<string>> {
  const out = new Set<string>();
  const others = store.tensors.filter((t) => !only.includes(t));
  for (const t of only) {
    const twin = others.find((o) => o.dtype === t.dtype && sameShape(o.shape, t.shape));
    if (!twin) continue;
    const [a, b] = await Promise.all([store.raw(t.name), store.raw(twin.name)]);
    if (Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length)))
      out.add(t.name);
  }
  return out;
}

export async function diffTensors(
  base: TensorStore,
  cand: TensorStore,
  onTensor?: (i: number, n: number) => void,
  paths?: { base: string; cand: string },
): Promise<TensorDiff> {
  const bIdx = new Map(base.tensors.map((t) => [t.name, t]));
  const cIdx = new Map(cand.tensors.map((t) => [t.name, t]));
  const m = matchNames([...bIdx.keys()], [...cIdx.keys()]);
  const total = Math.max(bIdx.size, cIdx.size);
  const sameShapePairs = m.pairs.filter((p) =>
    sameShape(bIdx.get(p.base)!.shape, cIdx.get(p.candidate)!.shape),
  );
  if (total > 0 && sameShapePairs.length < 0.5 * Math.min(bIdx.size, cIdx.size))
    throw inputError(
      `the models do not share an architecture: ${sameShapePairs.length} of ${total} tensors match by name and shape`,
      (base.format === 'gguf') !== (cand.format === 'gguf')
        ? 'a GGUF file names and lays out tensors its own way (blk.N...): compare it with a GGUF of the base, and a Hugging Face folder with the Hugging Face base'
        : 'compare a model with the base it claims to be derived from',
    );
  const onlyB = m.onlyBase.map((n) => bIdx.get(n)!);
  const onlyC = m.onlyCandidate.map((n) => cIdx.get(n)!);
  const tiedB = await tiedCopies(base, onlyB);
  const tiedC = await tiedCopies(cand, onlyC);
  const out: TensorDiff = {
    deltas: [],
    removed: onlyB.filter((t) => !tiedB.has(t.name)),
    added: onlyC.filter((t) => !tiedC.has(t.name)),
    reshaped: [],
    tied: [...tiedB, ...tiedC].sort(),
  };
  const bytesOf = (t: TensorEntry) => t.numel * (DTYPE_BYTES[t.dtype] ?? 0);
  const jobs: LaneJob[] = [];
  let i = 0;
  for (const p of m.pairs) {
    const b = bIdx.get(p.base)!;
    const c = cIdx.get(p.candidate)!;
    i++;
    if (!sameShape(b.shape, c.shape)) {
      out.reshaped.push({ base: b.name, candidate: c.name, baseShape: b.shape, candidateShape: c.shape });
      continue;
    }
    jobs.push({
      index: jobs.length,
      base: b.name,
      cand: c.name,
      shape: c.shape,
      dtypes: { base: b.dtype, candidate: c.dtype },
      seed: 7 + i,
      bytes: { base: bytesOf(b), candidate: bytesOf(c) },
    });
  }
  const lanes = paths ? lanesFor(base, cand, jobs) : 1;
  out.deltas = await runLanes(base, cand, paths ?? { base: '', cand: '' }, jobs, lanes, onTensor);
  return out;
}
