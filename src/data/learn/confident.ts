/**
 * Confident learning (Northcutt, Jiang & Chuang, JAIR 2021): with out-of-sample probabilities, a class's
 * threshold is the mean probability the model gives that class on rows labelled with it; a row whose
 * probability for another class reaches that class's threshold is "confidently" that class. Rows whose
 * confident class differs from their label are the off-diagonal of the confident joint: likely label errors.
 */
export interface ConfidentLearningResult {
  /** Per row: the confident class, or -1 when no class reaches its threshold. */
  confident: Int32Array;
  /** Per row: 1 when the confident class differs from the label. */
  issue: Uint8Array;
  thresholds: Float64Array;
  /** K × K confident joint counts, [given][confident]. */
  joint: Int32Array;
  issues: number;
}

export function confidentLearning(
  proba: Float32Array,
  labels: Int32Array,
  K: number,
): ConfidentLearningResult {
  const n = labels.length;
  const sums = new Float64Array(K);
  const counts = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    sums[labels[i]] += proba[i * K + labels[i]];
    counts[labels[i]]++;
  }
  const thresholds = new Float64Array(K);
  for (let c = 0; c < K; c++) thresholds[c] = counts[c] > 0 ? sums[c] / counts[c] : 1;
  const confident = new Int32Array(n).fill(-1);
  const issue = new Uint8Array(n);
  const joint = new Int32Array(K * K);
  let issues = 0;
  for (let i = 0; i < n; i++) {
    let best = -1;
    let bestP = -1;
    for (let c = 0; c < K; c++) {
      const p = proba[i * K + c];
      if (p >= thresholds[c] && p > bestP) {
        best = c;
        bestP = p;
      }
    }
    confident[i] = best;
    if (best >= 0) {
      joint[labels[i] * K + best]++;
      if (best !== labels[i]) {
        issue[i] = 1;
        issues++;
      }
    }
  }
  return { confident, issue, thresholds, joint, issues };
}
