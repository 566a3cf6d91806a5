/**
 * Baseline: confident learning alone (cleanlab's `find_label_issues` with `filter_by="prune_by_noise_rate"`),
 * run on the incoming batch with the audit's own learner (logistic regression on hashed n-grams / one-hot
 * tabular items, k-fold out-of-fold probabilities). For each off-diagonal cell (given i, confident j) of the
 * confident joint, the rows labelled i with the largest margin p_j − p_i are pruned, as many as the cell
 * counts. It sees only the incoming batch, not the trusted reference: that is the comparison.
 */
import type { AuditContext } from '../detectors/types.js';
import { modelMatrix } from '../features/context.js';
import { confidentLearning } from '../learn/confident.js';
import { crossValProba } from '../learn/cv.js';

export interface BaselineResult {
  /** 1 = flagged as poison / label issue. */
  flagged: Uint8Array;
  /** Rows in decreasing order of suspicion (flagged first). */
  ranking: Int32Array;
}

export function confidentLearningBaseline(
  ctx: AuditContext,
  opts: { folds?: number; hashBits?: number; l2?: number; maxIter?: number } = {},
): BaselineResult {
  const inc = ctx.incoming;
  const K = ctx.classes.length;
  const X = modelMatrix(ctx, 'incoming', opts.hashBits ?? 18);
  const proba = crossValProba(X, inc.labels, K, {
    folds: opts.folds ?? 4,
    seed: ctx.seed,
    l2: opts.l2 ?? 1e-4,
    maxIter: opts.maxIter ?? 60,
  });
  const cl = confidentLearning(proba, inc.labels, K);
  const flagged = new Uint8Array(inc.n);
  for (let i = 0; i < K; i++) {
    const given: number[] = [];
    for (let r = 0; r < inc.n; r++) if (inc.labels[r] === i) given.push(r);
    for (let j = 0; j < K; j++) {
      if (j === i) continue;
      const count = cl.joint[i * K + j];
      if (!count) continue;
      const margin = (r: number) => proba[r * K + j] - proba[r * K + i];
      given.sort((a, b) => margin(b) - margin(a));
      for (let t = 0; t < Math.min(count, given.length); t++) flagged[given[t]] = 1;
    }
  }
  // Ranking: by self-confidence (probability of the given label), lowest first.
  const order = Array.from({ length: inc.n }, (_, r) => r).sort(
    (a, b) => flagged[b] - flagged[a] || proba[a * K + inc.labels[a]] - proba[b * K + inc.labels[b]],
  );
  return { flagged, ranking: Int32Array.from(order) };
}
