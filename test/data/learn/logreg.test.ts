import { describe, expect, it } from 'vitest';
import { buildSparse } from '../../../src/data/features/sparse.js';
import { tokenizeColumn } from '../../../src/data/features/text.js';
import { confidentLearning } from '../../../src/data/learn/confident.js';
import { crossValidate } from '../../../src/data/learn/cv.js';
import { lbfgs } from '../../../src/data/learn/lbfgs.js';
import { predictProba, trainLogReg } from '../../../src/data/learn/logreg.js';
import { rng, textRows } from '../helpers.js';

const accuracy = (p: Float32Array, y: Int32Array, K: number) => {
  let ok = 0;
  for (let i = 0; i < y.length; i++) {
    let best = 0;
    for (let c = 1; c < K; c++) if (p[i * K + c] > p[i * K + best]) best = c;
    if (best === y[i]) ok++;
  }
  return ok / y.length;
};

function textProblem(n: number, seed: number) {
  const rows = textRows(n, seed);
  const X = buildSparse(n, { hashBits: 16 }, tokenizeColumn(rows.map((r) => r.text)));
  const y = Int32Array.from(rows, (r) => (r.label === 'pos' ? 1 : 0));
  return { X, y };
}

describe('L-BFGS', () => {
  it('finds the minimum of a badly scaled quadratic', () => {
    const scale = [1, 10, 100, 1000];
    const target = [3, -2, 0.5, 7];
    const res = lbfgs(
      (x, g) => {
        let f = 0;
        for (let i = 0; i < 4; i++) {
          const d = x[i] - target[i];
          f += 0.5 * scale[i] * d * d;
          g[i] = scale[i] * d;
        }
        return f;
      },
      new Float64Array(4),
      { maxIter: 200, tol: 1e-14 },
    );
    for (let i = 0; i < 4; i++) expect(res.x[i]).toBeCloseTo(target[i], 4);
  });
});

describe('logistic regression on hashed words', () => {
  it('learns held-out sentiment (binary)', () => {
    const train = textProblem(600, 1);
    const test = textProblem(300, 2);
    const m = trainLogReg(train.X, train.y, 2, { l2: 1e-4, maxIter: 60 });
    expect(accuracy(predictProba(m, test.X), test.y, 2)).toBeGreaterThan(0.85);
  });

  it('handles more than two classes (softmax) and gives probabilities that sum to one', () => {
    const r = rng(3);
    const words = ['red', 'green', 'blue'];
    const texts: string[] = [];
    const y = new Int32Array(600);
    for (let i = 0; i < 600; i++) {
      y[i] = Math.floor(r() * 3);
      texts.push(`the ${words[y[i]]} one and ${['a', 'b', 'c', 'd'][Math.floor(r() * 4)]}`);
    }
    const X = buildSparse(600, { hashBits: 12 }, tokenizeColumn(texts));
    const m = trainLogReg(X, y, 3, { l2: 1e-4, maxIter: 80 });
    const p = predictProba(m, X);
    expect(accuracy(p, y, 3)).toBe(1);
    for (let i = 0; i < 600; i++) expect(p[i * 3] + p[i * 3 + 1] + p[i * 3 + 2]).toBeCloseTo(1, 5);
  });

  // The fit runs on a reduced design (a word repeated in a row merged, the words only one row uses folded into
  // one parameter per row); the weights it returns must still solve the problem as posed on every column.
  it.each([
    2, 3,
  ])('returns weights at which the full problem is stationary, the words seen once included (%i classes)', (K) => {
    const r = rng(11 + K);
    const n = 300;
    const texts: string[] = [];
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = Math.floor(r() * K);
      // A class word, a common word repeated, and two words no other row has.
      texts.push(`w${y[i]} common common u${i}a u${i}b ${['x', 'y', 'z'][Math.floor(r() * 3)]}`);
    }
    const X = buildSparse(n, { hashBits: 14 }, tokenizeColumn(texts));
    const l2 = 0.1;
    const m = trainLogReg(X, y, K, { l2, maxIter: 400 });
    const M = m.M;
    // Gradient of the mean log-loss + (l2/2)|w|^2 at the returned weights, over every column.
    const g = new Float64Array(X.dim * M);
    const z = new Float64Array(M);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < M; k++) z[k] = m.w[X.dim * M + k];
      for (let j = X.indptr[i]; j < X.indptr[i + 1]; j++)
        for (let k = 0; k < M; k++) z[k] += m.w[X.indices[j] * M + k] * X.values[j];
      const res = new Float64Array(M);
      if (M === 1) res[0] = 1 / (1 + Math.exp(-z[0])) - (y[i] === 1 ? 1 : 0);
      else {
        const mx = Math.max(...z);
        let se = 0;
        for (let k = 0; k < M; k++) se += Math.exp(z[k] - mx);
        for (let k = 0; k < M; k++) res[k] = Math.exp(z[k] - mx) / se - (k === y[i] ? 1 : 0);
      }
      for (let j = X.indptr[i]; j < X.indptr[i + 1]; j++)
        for (let k = 0; k < M; k++) g[X.indices[j] * M + k] += (res[k] * X.values[j]) / n;
    }
    let worst = 0;
    let hapaxWeight = 0;
    for (let c = 0; c < X.dim * M; c++) {
      worst = Math.max(worst, Math.abs(g[c] + l2 * m.w[c]));
      hapaxWeight = Math.max(hapaxWeight, Math.abs(m.w[c]));
    }
    expect(hapaxWeight).toBeGreaterThan(0.01);
    // L-BFGS stops on a relative decrease of 1e-7: close to, not at, the optimum (a misplaced weight would
    // leave l2 × w ≈ 0.03 here).
    expect(worst).toBeLessThan(5e-5);
    // The words seen once carry weight (they were fitted, not dropped): each row's two have equal weights.
    const tokens = tokenizeColumn(['u7a u7b']);
    const Xu = buildSparse(1, { hashBits: 14, maxNgram: 1 }, tokens);
    const [a, b] = [Xu.indices[0], Xu.indices[1]];
    expect(Math.abs(m.w[a * M])).toBeGreaterThan(1e-3);
    expect(m.w[a * M]).toBeCloseTo(m.w[b * M], 10);
  });
});

describe('cross-validation and confident learning', () => {
  it('scores each row with a model that never saw it, and duplicates never leak across folds', () => {
    const { X, y } = textProblem(400, 4);
    // Flip 20 labels: in-sample models would memorise them, out-of-fold ones must not.
    const noisy = Int32Array.from(y);
    for (let i = 0; i < 20; i++) noisy[i * 20] = 1 - noisy[i * 20];
    const groups = new Uint32Array(400).map((_, i) => i);
    const cv = crossValidate(X, noisy, 2, { l2: 1e-4, maxIter: 50, folds: 4, seed: 1, groups });
    const cl = confidentLearning(cv.proba, noisy, 2);
    let found = 0;
    for (let i = 0; i < 20; i++) found += cl.issue[i * 20];
    expect(found).toBeGreaterThanOrEqual(14);
    expect(cl.issues).toBeLessThan(60);
    // Same group -> same fold.
    const g2 = new Uint32Array(400).map((_, i) => i % 50);
    const cv2 = crossValidate(X, noisy, 2, { l2: 1e-4, maxIter: 10, folds: 4, seed: 1, groups: g2 });
    for (let i = 50; i < 400; i++) expect(cv2.foldOf[i]).toBe(cv2.foldOf[i % 50]);
  });
});
