/**
 * Antidote's own learner (the data layer's hashed-feature logistic regression) as a gate model, in process.
 * Training fixes everything that scoring needs (category dictionaries, numeric cut points, hash size), so
 * the model can score any batch with the same columns: the demo trains its candidates with it and the gate
 * probes them like any other model. The digest covers the weights and that fixed encoding.
 */
import { createHash } from 'node:crypto';
import type { Categorical, Dataset } from '../../data/detectors/types.js';
import { buildSparse, type SparseMatrix, selectRows } from '../../data/features/sparse.js';
import { encodeTabular, numericEdges } from '../../data/features/tabular.js';
import { tokenizeColumn } from '../../data/features/text.js';
import { type LogRegModel, predictProba, trainLogReg } from '../../data/learn/logreg.js';
import type { GateModel, InputBatch } from './types.js';

export interface LearnerSpec {
  text?: string;
  numeric: string[];
  categorical: string[];
  hashBits?: number;
  l2?: number;
  maxIter?: number;
  bins?: number;
}

export interface LearnerModel extends GateModel {
  model: LogRegModel;
}

function categorical(values: string[], dict: Map<string, number>, grow: boolean): Categorical {
  const codes = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i].trim();
    if (v === '') {
      codes[i] = -1;
      continue;
    }
    let c = dict.get(v);
    if (c === undefined) {
      // Unseen at training: a code of its own (its one-hot item carries no learned weight).
      c = dict.size;
      if (grow) dict.set(v, c);
    }
    codes[i] = c;
  }
  return { codes, values: [...dict.keys()] };
}

function datasetOf(
  batch: InputBatch,
  spec: LearnerSpec,
  dicts: Map<string, Map<string, number>>,
  grow: boolean,
): Dataset {
  const numeric = new Map<string, Float64Array>();
  const cats = new Map<string, Categorical>();
  for (const c of spec.numeric) {
    const col = batch.columns.get(c);
    numeric.set(
      c,
      col?.kind === 'number' ? col.values : Float64Array.from(col?.values ?? [], (v) => Number(v)),
    );
  }
  for (const c of spec.categorical) {
    const col = batch.columns.get(c);
    const strs = col
      ? col.kind === 'string'
        ? col.values
        : Array.from(col.values, (v) => String(v))
      : new Array(batch.n).fill('');
    let d = dicts.get(c);
    if (!d) {
      d = new Map();
      dicts.set(c, d);
    }
    cats.set(c, categorical(strs, d, grow));
  }
  const textCol = spec.text ? batch.columns.get(spec.text) : undefined;
  return {
    n: batch.n,
    ids: batch.ids,
    labels: new Int32Array(batch.n),
    text: textCol?.kind === 'string' ? textCol.values : undefined,
    numeric,
    categorical: cats,
  };
}

export function trainLearnerModel(
  batch: InputBatch,
  labels: Int32Array,
  classes: number,
  spec: LearnerSpec,
  name = 'antidote-logreg',
): LearnerModel {
  const hashBits = spec.hashBits ?? 18;
  const dicts = new Map<string, Map<string, number>>();
  const train = datasetOf(batch, spec, dicts, true);
  const cols = [...spec.numeric, ...spec.categorical];
  const edges = numericEdges(train, spec.numeric, spec.bins ?? 8);
  const matrix = (ds: Dataset): SparseMatrix =>
    buildSparse(
      ds.n,
      { hashBits, maxNgram: 2 },
      ds.text ? tokenizeColumn(ds.text) : undefined,
      cols.length ? encodeTabular(ds, cols, edges) : undefined,
    );
  const keep: number[] = [];
  for (let i = 0; i < labels.length; i++) if (labels[i] >= 0) keep.push(i);
  const X = matrix(train);
  const rows = Int32Array.from(keep);
  const Xk = keep.length === labels.length ? X : selectRows(X, rows);
  const model = trainLogReg(
    Xk,
    Int32Array.from(rows, (r) => labels[r]),
    classes,
    { l2: spec.l2 ?? 1e-4, maxIter: spec.maxIter ?? 200 },
  );
  const h = createHash('sha256');
  h.update(
    JSON.stringify({
      spec,
      hashBits,
      dicts: [...dicts].map(([k, v]) => [k, [...v.keys()]]),
      edges: [...edges].map(([k, v]) => [k, [...v]]),
    }),
  );
  h.update(new Uint8Array(model.w.buffer, model.w.byteOffset, model.w.byteLength));
  const frozen = new Map([...dicts].map(([k, v]) => [k, new Map(v)]));
  return {
    kind: 'in-process',
    source: name,
    digest: `sha256:${h.digest('hex')}`,
    runnable: true,
    model,
    async score(b: InputBatch): Promise<Float64Array> {
      const ds = datasetOf(b, spec, new Map([...frozen].map(([k, v]) => [k, new Map(v)])), false);
      return Float64Array.from(predictProba(model, matrix(ds)));
    },
    async close() {},
  };
}
