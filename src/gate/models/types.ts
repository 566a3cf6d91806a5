/**
 * What the gate needs from a model, whatever its kind: class probabilities for a batch of inputs.
 * A model that cannot answer throws a ModelError; the gate turns it into a blocking finding (never a promote).
 */
import { AntidoteError } from '../../core/errors.js';
import type { Column } from '../table.js';

/** Column-oriented inputs; `ids` identify rows for models that look answers up (predictions files). */
export interface InputBatch {
  n: number;
  columns: Map<string, Column>;
  ids: string[];
}

export type ModelKind = 'onnx' | 'http' | 'predictions' | 'in-process';

export interface GateModel {
  kind: ModelKind;
  /** Path or URL as given. */
  source: string;
  /** `sha256:<hex>` of the model file; for an endpoint, of its URL (the bytes behind it are not visible). */
  digest: string;
  /** True when the model can score any input (probes need it); false for a predictions file. */
  runnable: boolean;
  /** Probabilities, row-major n × k, k = number of classes. Throws ModelError when the model cannot answer. */
  score(batch: InputBatch): Promise<Float64Array>;
  close(): Promise<void>;
}

export class ModelError extends AntidoteError {
  constructor(message: string, hint?: string) {
    super('E_MODEL', message, { hint });
  }
}

/**
 * Turn raw model outputs into validated probabilities: one value per row (probability of the last class,
 * binary only) or one value per class. Anything else (wrong count or width, NaN, outside [0,1], rows that do
 * not sum to 1) is a ModelError naming the first bad row.
 */
export function toProbabilities(
  rows: ArrayLike<number> | ReadonlyArray<ArrayLike<number>>,
  n: number,
  k: number,
  width: number,
  what: string,
): Float64Array {
  const out = new Float64Array(n * k);
  const flat = width === 1 || typeof (rows as ArrayLike<number>)[0] === 'number';
  const count = flat && width > 1 ? (rows as ArrayLike<number>).length / width : rows.length;
  if (count !== n) throw new ModelError(`${what} returned ${count} predictions for ${n} inputs`);
  if (width === 1) {
    if (k !== 2)
      throw new ModelError(
        `${what} returned one score per row but the labels have ${k} classes`,
        'return one probability per class',
      );
    for (let i = 0; i < n; i++) {
      const p = Number((rows as ArrayLike<number>)[i]);
      checkProb(p, i, what);
      out[2 * i] = 1 - p;
      out[2 * i + 1] = p;
    }
    return out;
  }
  if (width !== k)
    throw new ModelError(`${what} returned ${width} probabilities per row but the labels have ${k} classes`);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const p = flat
        ? Number((rows as ArrayLike<number>)[i * k + j])
        : Number((rows as ReadonlyArray<ArrayLike<number>>)[i][j]);
      checkProb(p, i, what);
      out[i * k + j] = p;
      sum += p;
    }
    if (Math.abs(sum - 1) > 0.01)
      throw new ModelError(
        `${what}: the probabilities of row ${i + 1} sum to ${sum.toFixed(4)}, not 1`,
        LOGITS_HINT,
      );
  }
  return out;
}

/** What to do about a model that answers with logits (most classifiers export their last layer as it is). */
const LOGITS_HINT =
  'return probabilities, not logits: end the model with a softmax (PyTorch: torch.nn.Sequential(model, torch.nn.Softmax(dim=1)))';

function checkProb(p: number, i: number, what: string): void {
  if (Number.isNaN(p)) throw new ModelError(`${what} returned NaN for row ${i + 1}`);
  if (!(p >= 0 && p <= 1))
    throw new ModelError(`${what} returned ${p} for row ${i + 1}, outside [0, 1]`, LOGITS_HINT);
}

/** Select rows of a batch (probes reuse trusted rows with one column changed). */
export function sliceBatch(batch: InputBatch, rows: ArrayLike<number>): InputBatch {
  const columns = new Map<string, Column>();
  for (const [name, col] of batch.columns) {
    if (col.kind === 'number') {
      const v = new Float64Array(rows.length);
      for (let i = 0; i < rows.length; i++) v[i] = col.values[rows[i]];
      columns.set(name, { kind: 'number', values: v });
    } else {
      columns.set(name, { kind: 'string', values: Array.from(rows, (r) => col.values[r]) });
    }
  }
  return { n: rows.length, columns, ids: Array.from(rows, (r) => batch.ids[r]) };
}
