/**
 * An ONNX model run in process with onnxruntime-node. The file is read once (bytes hashed and checked), the
 * session is created from those bytes (so external-data references cannot pull in other files), only the
 * standard operator domains are accepted and no custom-op library is ever registered.
 *
 * Two input styles:
 *  - one named input per column (as skl2onnx exports pipelines): each graph input takes the table column of
 *    the same name, strings as string tensors, numbers as float/double/int64 tensors, shape [N, 1] (or [N]);
 *  - one 2-D float input fed from `features` in order (shape [N, F]).
 * A model exported for a fixed batch size (shape [1, F]) is run in windows of that size (onnx-batch.ts).
 * The output used is the first float tensor of shape [N, k] or [N] (probabilities); a ZipMap (sequence of maps)
 * output is refused with a hint, since it cannot be read as a tensor.
 */

import { createHash } from 'node:crypto';
import { AntidoteError, describeFsError } from '../../core/errors.js';
import { LIMITS } from '../../core/limits.js';
import { readRegularFile } from '../../core/paths.js';
import type { Column } from '../table.js';
import { fixedBatch, ortMessage, runRows } from './onnx-batch.js';
import { onnxDomains, STANDARD_DOMAINS } from './onnx-ops.js';
import { type GateModel, type InputBatch, ModelError, toProbabilities } from './types.js';

type Ort = typeof import('onnxruntime-node');

/**
 * onnxruntime records telemetry by default (a device id and an event queue under
 * ~/.cache/Microsoft/DeveloperTools/.onnxruntime/). The Node binding has no switch for it; the native library
 * reads ORT_DISABLE_TELEMETRY from the environment when it starts, so it is set before the module is loaded.
 * Antidote writes nothing under HOME and uses no network.
 */
export async function loadOrt(): Promise<Ort> {
  process.env.ORT_DISABLE_TELEMETRY = '1';
  return await import('onnxruntime-node');
}

export interface OnnxOptions {
  classes: number;
  /** Columns feeding a single 2-D float input, in order. */
  features?: string[];
  batchSize?: number;
}

export async function loadOnnxModel(path: string, opts: OnnxOptions): Promise<GateModel> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readRegularFile(path, LIMITS.gate.maxModelBytes));
  } catch (err) {
    if (err instanceof AntidoteError) throw err;
    if ((err as { code?: string }).code) throw describeFsError(path, err);
    throw err;
  }
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  const what = `ONNX model ${path}`;
  const found = onnxDomains(bytes);
  const foreign = [...found.domains].filter((d) => !STANDARD_DOMAINS.has(d));
  if (foreign.length)
    throw new ModelError(
      `${what} uses non-standard operator domains (${foreign.join(', ')})`,
      'only ai.onnx and ai.onnx.ml operators are run',
    );
  if (found.externalData)
    throw new ModelError(
      `${what} keeps tensors in external data files`,
      'embed the weights in the .onnx file',
    );
  const ort = await loadOrt();
  let session: import('onnxruntime-node').InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: 2,
      interOpNumThreads: 1,
      executionMode: 'sequential',
    });
  } catch (err) {
    throw new ModelError(`${what} cannot be loaded by onnxruntime: ${ortMessage(err)}`);
  }
  const inputs = session.inputMetadata;
  const output = session.outputMetadata.find(
    (o) => o.isTensor && (o.type === 'float32' || o.type === 'float64') && o.shape.length <= 2,
  );
  if (!output) {
    const zip = session.outputMetadata.some((o) => !o.isTensor);
    throw new ModelError(
      `${what} has no float tensor output with the class probabilities`,
      zip ? 'export without ZipMap (skl2onnx: options={"zipmap": False})' : undefined,
    );
  }
  const single = opts.features?.length ? (inputs.length === 1 ? inputs[0] : undefined) : undefined;
  if (opts.features?.length && !single)
    throw new ModelError(`${what} has ${inputs.length} inputs; --features feeds a model with one 2-D input`);
  const batchSize = opts.batchSize ?? LIMITS.gate.onnxBatch;
  const fixed = fixedBatch(inputs);

  const feed = (
    batch: InputBatch,
    lo: number,
    hi: number,
  ): Record<string, import('onnxruntime-node').Tensor> => {
    const m = hi - lo;
    const out: Record<string, import('onnxruntime-node').Tensor> = {};
    if (single && opts.features) {
      const f = opts.features.length;
      const data =
        single.isTensor && single.type === 'float64' ? new Float64Array(m * f) : new Float32Array(m * f);
      opts.features.forEach((name, j) => {
        const col = batch.columns.get(name);
        if (!col || col.kind !== 'number')
          throw new ModelError(`--features column "${name}" is not a numeric column of the input`);
        for (let i = 0; i < m; i++) data[i * f + j] = col.values[lo + i];
      });
      out[single.name] = new ort.Tensor(data instanceof Float64Array ? 'float64' : 'float32', data, [m, f]);
      return out;
    }
    for (const meta of inputs) {
      const col = inputColumn(what, meta.name, batch);
      if (!meta.isTensor) throw new ModelError(`${what}: input "${meta.name}" is not a tensor`);
      const shape = meta.shape.length === 1 ? [m] : [m, 1];
      out[meta.name] = tensorFor(ort, meta.type, col, lo, hi, shape, `${what}: input "${meta.name}"`);
    }
    return out;
  };

  return {
    kind: 'onnx',
    source: path,
    digest,
    runnable: true,
    async score(batch: InputBatch): Promise<Float64Array> {
      const result = new Float64Array(batch.n * opts.classes);
      for (let lo = 0; lo < batch.n; lo += batchSize) {
        const hi = Math.min(batch.n, lo + batchSize);
        let res: import('onnxruntime-node').InferenceSession.OnnxValueMapType;
        try {
          res = await runRows(ort, session, feed(batch, lo, hi), [output.name], hi - lo, fixed, what);
        } catch (err) {
          if (err instanceof ModelError) throw err;
          throw new ModelError(`${what} failed to run: ${ortMessage(err)}`);
        }
        const t = res[output.name];
        const dims = t.dims;
        const width = dims.length === 2 ? Number(dims[1]) : 1;
        const probs = toProbabilities(t.data as Float32Array, hi - lo, opts.classes, width, what);
        result.set(probs, lo * opts.classes);
      }
      return result;
    },
    async close() {
      await session.release();
    },
  };
}

/** A value written as a list of numbers (`[0.1, -2, 3e-4]`, as DuckDB and JSON write lists). */
function isVectorText(v: string | undefined): boolean {
  return v !== undefined && /^\s*\[\s*-?[\d.]/.test(v) && /\]\s*$/.test(v);
}

/**
 * The column feeding a model input of that name; when there is none, or it holds a list of numbers per row
 * (a vector input the data keeps as a list column), an error that says how to feed it.
 */
export function inputColumn(what: string, name: string, batch: InputBatch): Column {
  const col = batch.columns.get(name);
  const lists = [...batch.columns].filter(([, c]) => c.kind === 'string' && isVectorText(c.values[0]));
  if (lists.length && (!col || lists.some(([n]) => n === name)))
    throw new ModelError(
      `${what} expects an input "${name}", and the data holds ${lists.length === 1 ? `a list of numbers per row in "${lists[0][0]}"` : `lists of numbers in ${lists.map(([n]) => `"${n}"`).join(', ')}`}; one number per column is fed`,
      "write the vector's numbers as columns (x_0, x_1, ...) and name them in order with --features",
    );
  if (!col)
    throw new ModelError(
      `${what} expects an input "${name}", which is not a column of the data`,
      'name the columns as the model does, or use --features for a single 2-D input',
    );
  return col;
}

export function tensorFor(
  ort: Ort,
  type: string,
  col: Column,
  lo: number,
  hi: number,
  shape: number[],
  what: string,
): import('onnxruntime-node').Tensor {
  const m = hi - lo;
  if (type === 'string') {
    const v =
      col.kind === 'string'
        ? col.values.slice(lo, hi)
        : Array.from(col.values.subarray(lo, hi), (x) => String(x));
    return new ort.Tensor('string', v, shape);
  }
  if (col.kind !== 'number') throw new ModelError(`${what} is numeric but the column holds text`);
  const src = col.values.subarray(lo, hi);
  switch (type) {
    case 'float32':
      return new ort.Tensor('float32', Float32Array.from(src), shape);
    case 'float64':
      return new ort.Tensor('float64', Float64Array.from(src), shape);
    case 'int64': {
      const a = new BigInt64Array(m);
      for (let i = 0; i < m; i++) {
        if (!Number.isFinite(src[i]))
          throw new ModelError(`${what} is an integer input but row ${lo + i + 1} is missing`);
        a[i] = BigInt(Math.round(src[i]));
      }
      return new ort.Tensor('int64', a, shape);
    }
    case 'int32':
      return new ort.Tensor(
        'int32',
        Int32Array.from(src, (x) => Math.round(x)),
        shape,
      );
    default:
      throw new ModelError(`${what} has type ${type}, which the gate cannot feed`);
  }
}
