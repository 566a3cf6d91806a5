/**
 * Baseline: spectral signatures alone (Tran, Li & Madry, NeurIPS 2018), as IBM ART applies it: per class,
 * centre the representations, take the top singular vector, score each row by its squared projection, and
 * remove the top `removeFraction` (the paper uses 1.5 × the expected poison rate) of each class. It sees
 * only the incoming batch.
 */
import { meanOf, project, type Rows, topDirections } from '../detectors/lib/linalg.js';
import type { BaselineResult } from './confident-learning.js';

export function spectralSignaturesBaseline(
  rep: Rows,
  labels: Int32Array,
  K: number,
  removeFraction: number,
  seed = 1,
): BaselineResult {
  const n = labels.length;
  const score = new Float64Array(n);
  const flagged = new Uint8Array(n);
  for (let c = 0; c < K; c++) {
    const rows: number[] = [];
    for (let i = 0; i < n; i++) if (labels[i] === c) rows.push(i);
    if (rows.length < 2) continue;
    const centre = meanOf(rep, rows);
    const [v] = topDirections(rep, rows, centre, 1, { seed });
    for (const r of rows) score[r] = project(rep, r, centre, v) ** 2;
    const remove = Math.ceil(removeFraction * rows.length);
    const sorted = rows.slice().sort((a, b) => score[b] - score[a]);
    for (let t = 0; t < Math.min(remove, sorted.length); t++) flagged[sorted[t]] = 1;
  }
  const ranking = Int32Array.from(
    Array.from({ length: n }, (_, i) => i).sort((a, b) => flagged[b] - flagged[a] || score[b] - score[a]),
  );
  return { flagged, ranking };
}
