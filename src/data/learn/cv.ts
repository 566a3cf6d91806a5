/**
 * k-fold cross-validated probabilities: each row is scored by a model that never saw it (the input to
 * confident learning). Folds are a seeded shuffle; on very large inputs each fold trains on a seeded sample
 * of at most `maxTrainRows` rows (scoring still covers every row).
 */
import { type SparseMatrix, selectRows, stackRows } from '../features/sparse.js';
import { type FitJob, fitMany } from './fit-pool.js';
import { type LogRegModel, type LogRegOptions, logitsOf, probaFromLogits } from './logreg.js';
import { mulberry32, shuffleInPlace } from './random.js';

export interface CvOptions extends LogRegOptions {
  folds: number;
  seed: number;
  maxTrainRows?: number;
  /**
   * Group of each row (e.g. a hash of its content): rows of one group share a fold, so a duplicate never
   * scores its own copy; only the first row of each (group, label) trains.
   */
  groups?: Uint32Array;
  /** Rows added to every fold's training set (e.g. the trusted reference); never scored. */
  extra?: { X: SparseMatrix; y: Int32Array };
  onFold?: (fold: number) => void;
}

export interface CvResult {
  /** Out-of-fold P(class | row), n × K. */
  proba: Float32Array;
  /** Fold of each row; models[f] never saw the rows of fold f. */
  foldOf: Int32Array;
  models: LogRegModel[];
}

export function crossValProba(X: SparseMatrix, y: Int32Array, K: number, opts: CvOptions): Float32Array {
  return crossValidate(X, y, K, opts).proba;
}

export function crossValidate(X: SparseMatrix, y: Int32Array, K: number, opts: CvOptions): CvResult {
  const plan = planCrossValidate(X, y, K, opts);
  return plan.finish(fitMany(plan.jobs));
}

/** A cross-validation's fits, to be run anywhere, and what turns their models into its result. */
export interface CvPlan {
  jobs: FitJob[];
  finish(models: LogRegModel[]): CvResult;
}

/**
 * Fold of a row of group `g` in a group k-fold of `folds` folds: a seeded hash, so a row outside the
 * cross-validation (an incoming row) with the same content lands in the fold that never saw that content.
 */
export function groupFold(g: number, seed: number, folds: number): number {
  return (Math.imul(g ^ seed, 0x9e3779b1) >>> 0) % folds;
}

export function planCrossValidate(X: SparseMatrix, y: Int32Array, K: number, opts: CvOptions): CvPlan {
  const n = X.n;
  const folds = Math.max(2, Math.min(opts.folds, n));
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const rand = mulberry32(opts.seed);
  shuffleInPlace(order, rand);
  const foldOf = new Int32Array(n);
  const trains = new Uint8Array(n).fill(1);
  if (opts.groups) {
    // Group k-fold: the fold is a seeded hash of the group; duplicates (same group and label) train once.
    const seen = new Set<number>();
    for (let i = 0; i < n; i++) {
      const g = opts.groups[i];
      foldOf[i] = groupFold(g, opts.seed, folds);
      const key = (Math.imul(g, 31) + y[i]) >>> 0;
      if (seen.has(key)) trains[i] = 0;
      else seen.add(key);
    }
  } else {
    for (let r = 0; r < n; r++) foldOf[order[r]] = r % folds;
  }
  // Every fold's training set first, then the fits (on two threads when they are large), then the scoring.
  const jobs: FitJob[] = [];
  for (let f = 0; f < folds; f++) {
    const trainIdx: number[] = [];
    for (let r = 0; r < n; r++) {
      const i = order[r];
      if (foldOf[i] === f) continue;
      if (trains[i] && (!opts.maxTrainRows || trainIdx.length < opts.maxTrainRows)) trainIdx.push(i);
    }
    trainIdx.sort((a, b) => a - b);
    const tr = Int32Array.from(trainIdx);
    const ytr = new Int32Array(tr.length);
    for (let k = 0; k < tr.length; k++) ytr[k] = y[tr[k]];
    let Xtr = selectRows(X, tr);
    let yAll = ytr;
    if (opts.extra && opts.extra.X.n > 0) {
      Xtr = stackRows(Xtr, opts.extra.X);
      yAll = new Int32Array(ytr.length + opts.extra.y.length);
      yAll.set(ytr);
      yAll.set(opts.extra.y, ytr.length);
    }
    jobs.push({
      X: Xtr,
      y: yAll,
      K,
      opts: {
        l2: opts.l2,
        maxIter: opts.maxIter,
        weights: opts.weights && !opts.extra ? Float32Array.from(tr, (i) => opts.weights![i]) : undefined,
      },
    });
  }
  const finish = (models: LogRegModel[]): CvResult => {
    const out = new Float32Array(n * K);
    for (let f = 0; f < folds; f++) {
      const model = models[f];
      // Score the held-out fold in place (no copy of its rows).
      const z = new Float64Array(model.M);
      for (let i = 0; i < n; i++) {
        if (foldOf[i] !== f) continue;
        logitsOf(model, X, i, z);
        probaFromLogits(K, z, out, i * K);
      }
      opts.onFold?.(f);
    }
    return { proba: out, foldOf, models };
  };
  return { jobs, finish };
}
