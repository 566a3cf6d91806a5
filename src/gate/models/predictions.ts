/**
 * A "model" given as a file of its predictions (CSV / Parquet / JSONL): the id column plus either one score
 * column (probability of the last class; named score, probability, prob, p or prediction) or one probability
 * column per class (named after the class, optionally prefixed prob_, proba_ or p_). It can only answer for
 * the ids it holds, so probes cannot run on it; a trusted id it lacks is a ModelError.
 */

import { createHash } from 'node:crypto';
import { describeFsError } from '../../core/errors.js';
import { LIMITS } from '../../core/limits.js';
import { readRegularFile } from '../../core/paths.js';
import { readTable } from '../read.js';
import { labelStrings } from '../table.js';
import { type GateModel, type InputBatch, ModelError, toProbabilities } from './types.js';

const SCORE_NAMES = ['score', 'probability', 'prob', 'p', 'prediction', 'proba'];
const PREFIXES = ['', 'prob_', 'proba_', 'p_', 'probability_'];

export async function loadPredictions(
  path: string,
  opts: { id: string; classes: string[] },
): Promise<GateModel> {
  let digest: string;
  try {
    digest = `sha256:${createHash('sha256')
      .update(await readRegularFile(path, LIMITS.gate.maxPredictionsBytes))
      .digest('hex')}`;
  } catch (err) {
    throw describeFsError(path, err);
  }
  const what = `predictions file ${path}`;
  const raw = await readTable(path, { maxRows: LIMITS.gate.maxRows });
  const idCol = raw.columns.get(opts.id);
  if (!idCol)
    throw new ModelError(`${what} has no id column "${opts.id}"`, `its columns are ${raw.names.join(', ')}`);
  const ids = labelStrings(idCol);
  const k = opts.classes.length;
  const numericCol = (name: string): Float64Array => {
    const c = raw.columns.get(name);
    if (!c || c.kind !== 'number') throw new ModelError(`${what}: column "${name}" is not numeric`);
    return c.values;
  };
  let perClass: Float64Array[] | undefined;
  for (const prefix of PREFIXES) {
    const names = opts.classes.map((c) => `${prefix}${c}`);
    if (names.every((nm) => raw.columns.has(nm))) {
      perClass = names.map(numericCol);
      break;
    }
  }
  let single: Float64Array | undefined;
  if (!perClass) {
    const name = SCORE_NAMES.find((s) => raw.columns.has(s));
    if (!name)
      throw new ModelError(
        `${what} has neither a score column (${SCORE_NAMES.join(', ')}) nor one column per class (${opts.classes.join(', ')})`,
      );
    single = numericCol(name);
  }
  const index = new Map<string, number>();
  ids.forEach((id, i) => {
    if (index.has(id)) throw new ModelError(`${what}: id "${id}" appears twice`);
    index.set(id, i);
  });
  return {
    kind: 'predictions',
    source: path,
    digest,
    runnable: false,
    async score(batch: InputBatch): Promise<Float64Array> {
      const width = perClass ? k : 1;
      const vals = new Float64Array(batch.n * width);
      for (let i = 0; i < batch.n; i++) {
        const row = index.get(batch.ids[i]);
        if (row === undefined)
          throw new ModelError(
            `${what} has no prediction for id "${batch.ids[i]}"`,
            'predict every row of the trusted (and live) set',
          );
        if (perClass) for (let j = 0; j < k; j++) vals[i * k + j] = perClass[j][row];
        else vals[i] = (single as Float64Array)[row];
      }
      return toProbabilities(vals, batch.n, k, width, what);
    },
    async close() {},
  };
}
