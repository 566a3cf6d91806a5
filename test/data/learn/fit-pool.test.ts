/**
 * The folds of a cross-validation are fitted on two threads in the built CLI (a worker cannot load TypeScript,
 * so this test runs the compiled pool from dist/, as `antidote audit` does): the models must be the ones one
 * thread fits, bit for bit, whichever thread fitted each.
 */
import { describe, expect, it } from 'vitest';
import { buildSparse } from '../../../src/data/features/sparse.js';
import { tokenizeColumn } from '../../../src/data/features/text.js';
import { trainLogReg } from '../../../src/data/learn/logreg.js';
import { rng } from '../helpers.js';

describe('fits on two threads', () => {
  it('returns the models one thread fits, in job order', async () => {
    // The compiled module (a variable path, so type-checking does not need dist/ built).
    const built = '../../../dist/data/learn/fit-pool.js';
    const { fitMany } = (await import(built)) as typeof import('../../../src/data/learn/fit-pool.js');
    const jobs = [0, 1, 2, 3].map((s) => {
      const r = rng(100 + s);
      // Large enough for the pool to use its worker (work above its 5e7 multiply-adds threshold).
      const n = 6000;
      const texts: string[] = [];
      const y = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        y[i] = Math.floor(r() * 3);
        const words = Array.from({ length: 12 }, () => `w${Math.floor(r() * 3000)}`);
        texts.push(`c${y[i]} ${words.join(' ')}`);
      }
      const X = buildSparse(n, { hashBits: 16 }, tokenizeColumn(texts));
      return { X, y, K: 3, opts: { l2: 1e-4, maxIter: 40 } };
    });
    const pooled = fitMany(jobs);
    expect(pooled).toHaveLength(4);
    jobs.forEach((j, k) => {
      const one = trainLogReg(j.X, j.y, j.K, j.opts);
      expect(pooled[k].iterations).toBe(one.iterations);
      expect(Buffer.from(pooled[k].w.buffer).equals(Buffer.from(one.w.buffer))).toBe(true);
    });
  }, 120_000);
});
