/**
 * The promoted ONNX model run in process with chosen intermediate tensors exposed as extra outputs
 * (./onnx-graph.ts), for the activation check. Loading follows the gate's ONNX loader (bytes read once and
 * hashed, standard operator domains only, no external data, session created from the bytes) and then proves
 * the edit harmless: the edited model's probabilities must equal the original's on the rows given to
 * `verify`, or loading fails. A layer that does not exist, or whose tensor is not batch-major with a last
 * (feature) axis, is a usage error (exit 2).
 *
 * A layer of shape [N, d] is used as it is. A sequence layer [N, ..., d] (per-token embeddings, say, whose middle
 * axes grow with the input) is summarised per instance by the element-wise maximum and minimum of its d-vectors
 * over positions, leaving out all-zero vectors (padding): 2d values whatever the input's length, and the same for
 * an instance whichever batch it arrives in. A trigger token's vector is the extreme one, so the extremes are
 * what keeps it visible (a mean over positions dilutes it by the length). The position vectors themselves are
 * returned too: a trigger token's vector is unlike any position vector of trusted inputs.
 */
import { createHash } from 'node:crypto';
import { AntidoteError, describeFsError, usageError } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';
import { readRegularFile } from '../core/paths.js';
import { inputColumn, loadOrt, tensorFor } from '../gate/models/onnx.js';
import { fixedBatch, ortMessage, runRows } from '../gate/models/onnx-batch.js';
import { onnxDomains, STANDARD_DOMAINS } from '../gate/models/onnx-ops.js';
import { type InputBatch, ModelError, toProbabilities } from '../gate/models/types.js';
import { defaultLayer, layerNames, readGraph, withExtraOutputs } from './onnx-graph.js';

type Ort = typeof import('onnxruntime-node');
type Session = import('onnxruntime-node').InferenceSession;
type Tensor = import('onnxruntime-node').Tensor;

/** A sequence layer's non-zero position vectors: instance i owns vectors offsets[i] .. offsets[i+1]-1. */
export interface Positions {
  d: number;
  offsets: Int32Array;
  vectors: Float32Array;
}

export interface ActivationRun {
  probs: Float64Array;
  /** Per exposed layer, n × dim row-major. */
  layers: Float32Array[];
  dims: number[];
  /** Per exposed layer: its position vectors when it is a sequence layer. */
  positions: Array<Positions | undefined>;
}

export interface ActivationModel {
  digest: string;
  layers: string[];
  run(batch: InputBatch): Promise<ActivationRun>;
  /** Largest absolute difference between the edited and the original model's probabilities on `batch`. */
  verify(batch: InputBatch): Promise<number>;
  close(): Promise<void>;
}

export async function readModelBytes(path: string): Promise<{ bytes: Uint8Array; digest: string }> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readRegularFile(path, LIMITS.gate.maxModelBytes, '--model'));
  } catch (err) {
    if (err instanceof AntidoteError) throw err;
    throw describeFsError(path, err);
  }
  return { bytes, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
}

/** Layer names to expose: the ones asked for (each must exist) or the default one (may be none). */
export function chooseLayers(bytes: Uint8Array, asked: string[] | undefined, what: string): string[] {
  const g = readGraph(bytes);
  const names = layerNames(g);
  if (asked?.length) {
    for (const l of asked)
      if (!names.includes(l)) {
        const some = names.slice(-8).join(', ');
        throw usageError(
          `--layer ${l}: ${what} has no tensor of that name`,
          `its node outputs include: ${some}`,
        );
      }
    return [...new Set(asked)];
  }
  const d = defaultLayer(g);
  return d ? [d] : [];
}

/** The non-zero d-vectors of each instance's positions, in order. */
export function positionVectors(data: Float32Array, n: number, positions: number, d: number): Positions {
  const offsets = new Int32Array(n + 1);
  const keep: number[] = [];
  for (let i = 0; i < n; i++) {
    offsets[i] = keep.length;
    for (let p = 0; p < positions; p++) {
      const base = (i * positions + p) * d;
      for (let j = 0; j < d; j++)
        if (data[base + j] !== 0) {
          keep.push(base);
          break;
        }
    }
  }
  offsets[n] = keep.length;
  const vectors = new Float32Array(keep.length * d);
  keep.forEach((base, r) => {
    vectors.set(data.subarray(base, base + d), r * d);
  });
  return { d, offsets, vectors };
}

/** Per instance: element-wise max then min over the non-zero d-vectors of its positions. */
export function poolPositions(data: Float32Array, n: number, positions: number, d: number): Float32Array {
  const out = new Float32Array(n * 2 * d);
  for (let i = 0; i < n; i++) {
    const o = i * 2 * d;
    let seen = 0;
    for (let p = 0; p < positions; p++) {
      const base = (i * positions + p) * d;
      let zero = true;
      for (let j = 0; j < d && zero; j++) if (data[base + j] !== 0) zero = false;
      if (zero) continue;
      for (let j = 0; j < d; j++) {
        const v = data[base + j];
        if (seen === 0 || v > out[o + j]) out[o + j] = v;
        if (seen === 0 || v < out[o + d + j]) out[o + d + j] = v;
      }
      seen++;
    }
  }
  return out;
}

export async function loadActivationModel(
  path: string,
  opts: { classes: number; layers: string[]; features?: string[]; bytes?: Uint8Array; digest?: string },
): Promise<ActivationModel> {
  const { bytes, digest } =
    opts.bytes && opts.digest ? { bytes: opts.bytes, digest: opts.digest } : await readModelBytes(path);
  const what = `ONNX model ${path}`;
  const found = onnxDomains(bytes);
  const foreign = [...found.domains].filter((d) => !STANDARD_DOMAINS.has(d));
  if (foreign.length)
    throw new ModelError(`${what} uses non-standard operator domains (${foreign.join(', ')})`);
  if (found.externalData) throw new ModelError(`${what} keeps tensors in external data files`);
  const ort = await loadOrt();
  const options = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all' as const,
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential' as const,
  };
  const create = async (b: Uint8Array): Promise<Session> => {
    try {
      return await ort.InferenceSession.create(b, options);
    } catch (err) {
      throw new ModelError(`${what} cannot be loaded by onnxruntime: ${ortMessage(err)}`);
    }
  };
  const edited = await create(opts.layers.length ? withExtraOutputs(bytes, opts.layers) : bytes);
  let original: Session | undefined;
  const output = edited.outputMetadata.find(
    (o) =>
      o.isTensor &&
      (o.type === 'float32' || o.type === 'float64') &&
      o.shape.length <= 2 &&
      !opts.layers.includes(o.name),
  );
  if (!output) throw new ModelError(`${what} has no float tensor output with the class probabilities`);
  const inputs = edited.inputMetadata;

  const feed = (batch: InputBatch): Record<string, Tensor> => {
    const m = batch.n;
    const out: Record<string, Tensor> = {};
    if (opts.features?.length) {
      if (inputs.length !== 1)
        throw new ModelError(`${what} has ${inputs.length} inputs; features feed one 2-D input`);
      const f = opts.features.length;
      const data = new Float32Array(m * f);
      opts.features.forEach((name, j) => {
        const col = batch.columns.get(name);
        if (!col || col.kind !== 'number') throw new ModelError(`feature column "${name}" is not numeric`);
        for (let i = 0; i < m; i++) data[i * f + j] = col.values[i];
      });
      out[inputs[0].name] = new ort.Tensor('float32', data, [m, f]);
      return out;
    }
    for (const meta of inputs) {
      const col = inputColumn(what, meta.name, batch);
      if (!meta.isTensor) throw new ModelError(`${what}: input "${meta.name}" is not a tensor`);
      const shape = meta.shape.length === 1 ? [m] : [m, 1];
      out[meta.name] = tensorFor(ort as Ort, meta.type, col, 0, m, shape, `${what}: input "${meta.name}"`);
    }
    return out;
  };

  const fixed = fixedBatch(inputs);
  const runSession = async (s: Session, batch: InputBatch, names: string[]) => {
    try {
      return await runRows(ort as Ort, s, feed(batch), names, batch.n, fixed, what);
    } catch (err) {
      if (err instanceof AntidoteError) throw err;
      throw new ModelError(`${what} failed to run: ${ortMessage(err)}`);
    }
  };
  const probsOf = (t: Tensor, n: number) => {
    const width = t.dims.length === 2 ? Number(t.dims[1]) : 1;
    return toProbabilities(t.data as Float32Array, n, opts.classes, width, what);
  };

  return {
    digest,
    layers: opts.layers,
    async run(batch) {
      const res = await runSession(edited, batch, [output.name, ...opts.layers]);
      const layers: Float32Array[] = [];
      const dims: number[] = [];
      const seqs: Array<Positions | undefined> = [];
      for (const l of opts.layers) {
        const t = res[l];
        if (t.type !== 'float32' && t.type !== 'float64')
          throw usageError(
            `--layer ${l}: the tensor is ${t.type}, not float`,
            'choose a float activation tensor',
          );
        const d0 = Number(t.dims[0]);
        if (t.dims.length < 2 || d0 !== batch.n)
          throw usageError(
            `--layer ${l}: its shape [${t.dims.join(', ')}] is not one vector per instance (${batch.n} rows in)`,
            'choose a tensor of shape [N, d], e.g. the input of the last Gemm/MatMul',
          );
        const data = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as Float64Array);
        const d = Number(t.dims[t.dims.length - 1]);
        const positions = t.dims.slice(1, -1).reduce((a, b) => a * Number(b), 1);
        if (t.dims.length === 2) {
          layers.push(data);
          dims.push(d);
          seqs.push(undefined);
        } else {
          layers.push(poolPositions(data, batch.n, positions, d));
          dims.push(2 * d);
          seqs.push(positionVectors(data, batch.n, positions, d));
        }
      }
      return { probs: probsOf(res[output.name], batch.n), layers, dims, positions: seqs };
    },
    async verify(batch) {
      original ??= await create(bytes);
      const a = await runSession(original, batch, [output.name]);
      const b = await runSession(edited, batch, [output.name]);
      const pa = a[output.name].data as Float32Array;
      const pb = b[output.name].data as Float32Array;
      if (pa.length !== pb.length) return Number.POSITIVE_INFINITY;
      let max = 0;
      for (let i = 0; i < pa.length; i++) max = Math.max(max, Math.abs(pa[i] - pb[i]));
      return max;
    },
    async close() {
      await edited.release();
      if (original) await original.release();
    },
  };
}
