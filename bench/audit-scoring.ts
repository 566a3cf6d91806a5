/**
 * Scoring shared by the audit benchmarks (audit-detection, audit-matrix): precision, recall and recall at
 * precision >= 0.7 of a set of flagged row ids against the truth, and the two baselines (confident learning,
 * spectral signatures) scored the same way on the same incoming rows.
 */
import { confidentLearningBaseline } from '../src/data/baselines/confident-learning.js';
import { projectFeatures } from '../src/data/baselines/embed.js';
import { spectralSignaturesBaseline } from '../src/data/baselines/spectral-signatures.js';
import { contextOf } from '../src/data/generators/dataset.js';

export interface Scores {
  precision: number;
  recall: number;
  recallAt70: number;
  flagged: number;
}

/**
 * Precision, recall, and the best recall at precision >= 0.7 over a ranking (rows beyond it unranked).
 * `emptyPrecision`: the precision of a run that flags nothing although there was poison (the matrix counts
 * it as 0, the detection bench leaves it undefined).
 */
export function score(
  ranked: string[],
  flagged: Set<string>,
  truth: Set<string>,
  emptyPrecision = Number.NaN,
): Scores {
  let tp = 0;
  for (const id of flagged) if (truth.has(id)) tp++;
  let hits = 0;
  let best = 0;
  ranked.forEach((id, i) => {
    if (truth.has(id)) hits++;
    if (hits / (i + 1) >= 0.7) best = Math.max(best, hits / Math.max(1, truth.size));
  });
  return {
    precision: flagged.size ? tp / flagged.size : truth.size ? emptyPrecision : Number.NaN,
    recall: truth.size ? tp / truth.size : Number.NaN,
    recallAt70: truth.size ? best : Number.NaN,
    flagged: flagged.size,
  };
}

/** Confident learning and spectral signatures (told 1.5 x the true poison rate) on a generated case. */
export function baselineScores(
  c: Parameters<typeof contextOf>[0],
  seed: number,
  truth: Set<string>,
  emptyPrecision = Number.NaN,
): { cl: Scores; ss?: Scores; incomingRows: number } {
  const ctx = contextOf(c, seed);
  const ids = ctx.incoming.ids;
  const asScores = (b: { flagged: Uint8Array; ranking: Int32Array }) =>
    score(
      Array.from(
        b.ranking.filter((i) => b.flagged[i] === 1),
        (i) => ids[i],
      ),
      new Set(ids.filter((_, i) => b.flagged[i])),
      truth,
      emptyPrecision,
    );
  const cl = asScores(confidentLearningBaseline(ctx));
  let ss: Scores | undefined;
  if (truth.size) {
    const dim = 64;
    const rep = { data: projectFeatures(ctx, 'incoming', dim, seed), dim };
    ss = asScores(
      spectralSignaturesBaseline(
        rep,
        ctx.incoming.labels,
        ctx.classes.length,
        (1.5 * truth.size) / ctx.incoming.n,
        seed,
      ),
    );
  }
  return { cl, ss, incomingRows: ctx.incoming.n };
}
