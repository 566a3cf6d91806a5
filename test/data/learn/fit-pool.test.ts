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

// The compiled module (a variable path, so type-checking does not need dist/ built).
const built = '../../../dist/data/learn/fit-pool.js';
const pool = async () => (await import(built)) as typeof import('../../../src/data/learn/fit-pool.js');

function jobsOf(seeds: number[], n = 6000) {
  return seeds.map((s) => {
    const r = rng(100 + s);
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
}

function sameModel(a: { iterations: number; w: Float64Array }, b: { iterations: number; w: Float64Array }) {
  expect(a.iterations).toBe(b.iterations);
  expect(Buffer.from(a.w.buffer).equals(Buffer.from(b.w.buffer))).toBe(true);
}

describe('fits on two threads', () => {
  it('batches handed over early are collected in any order, each model the one a single thread fits', async () => {
    const { fitLater, closeFitPool } = await pool();
    const first = jobsOf([10, 11], 15000);
    const second = jobsOf([12, 13, 14], 15000);
    // Both batches go to the worker before either is collected (as the audit's prefetch does); the second is
    // collected first, so this thread fits what the worker has not reached while it works on the first.
    // Each batch is above the pool's threshold (5e7 multiply-adds), so the worker takes part.
    for (const batch of [first, second])
      expect(batch.reduce((t, j) => t + j.X.indptr[j.X.n] * j.K * j.opts.maxIter, 0)).toBeGreaterThan(5e7);
    const a = fitLater(first);
    const b = fitLater(second);
    const mb = b.collect();
    const ma = a.collect();
    expect(a.collect()).toBe(ma);
    closeFitPool();
    second.forEach((j, k) => {
      sameModel(mb[k], trainLogReg(j.X, j.y, j.K, j.opts));
    });
    first.forEach((j, k) => {
      sameModel(ma[k], trainLogReg(j.X, j.y, j.K, j.opts));
    });
  }, 120_000);

  it('returns the models one thread fits, in job order', async () => {
    const { fitMany } = await pool();
    const jobs = jobsOf([0, 1, 2, 3]);
    expect(jobs.reduce((t, j) => t + j.X.indptr[j.X.n] * j.K * j.opts.maxIter, 0)).toBeGreaterThan(5e7);
    const pooled = fitMany(jobs);
    expect(pooled).toHaveLength(4);
    jobs.forEach((j, k) => {
      sameModel(pooled[k], trainLogReg(j.X, j.y, j.K, j.opts));
    });
  }, 120_000);
});
