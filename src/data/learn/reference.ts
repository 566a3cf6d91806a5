/**
 * The cross-fitted reference: a model of the trusted rows AND the batch, by which every label-side detector
 * judges a label when it predicts the trusted labels better than a model of the trusted rows alone.
 *
 * Why: a model fitted on 100 trusted rows of ten classes is near chance, so a flipped label looks like one of
 * its own mistakes and nothing can be seen. The batch holds far more evidence about what its content means;
 * the danger is that a row (or an account) vouches for its own label. Cross-fitting removes that: the batch is
 * split into folds BY ACCOUNT (the labeler column, else the source; rows without one by content), and each
 * fold is scored by a model fitted on the trusted rows plus the OTHER folds, so no row and no account ever
 * supports its own labels; a minority of poisoned rows in the other folds is outvoted by the clean majority,
 * and the trusted rows are weighted up so that they still count beside thousands of batch rows.
 *
 * The trusted rows take part in the folds too: each is scored by a model that never saw it, which gives (1)
 * the reference's accuracy on labels the attacker cannot touch, the honest basis for choosing it over the
 * trusted-only model, and (2) the clean calibration of P(label) under this very reference (disagreement's F0).
 */
import type { AuditContext, Categorical } from '../detectors/types.js';
import { modelMatrix, rowHashes } from '../features/context.js';
import { type SparseMatrix, selectRows, stackRows } from '../features/sparse.js';
import { fitted, type ModelSettings, modelSettings, startFits } from './context.js';
import { groupFold } from './cv.js';
import { type FitJob, fitMany } from './fit-pool.js';
import { type LogRegModel, logitsOf, probaFromLogits } from './logreg.js';
import { mulberry32, shuffleInPlace } from './random.js';

export interface CrossFit {
  /** Out-of-fold P(class | incoming row), n × K. */
  proba: Float32Array;
  /** Out-of-fold P(class | trusted row), trusted.n × K: the clean calibration of this reference. */
  trustedProba: Float32Array;
  /** Share of trusted rows whose label is the out-of-fold argmax. */
  accuracy: number;
  /** What the batch was folded by. */
  foldedBy: 'labeler' | 'source' | 'row';
  folds: number;
  /** Weight of one trusted row (a batch row weighs 1). */
  trustedWeight: number;
  /** Fold of each incoming and each trusted row (the model of fold f never saw the rows of fold f). */
  foldOf: Int32Array;
  trustedFold: Int32Array;
  /** Batch rows a fold trained on at most. */
  maxTrainRows: number;
}

export const CROSS_FIT_DEFAULTS = {
  folds: 4,
  /** Batch rows each fold trains on at most (an evenly spaced sample; scoring covers every row). */
  maxTrainRows: 20_000,
  /** The trusted rows together weigh at least this share of the batch rows trained on... */
  trustedShare: 0.25,
  /** ...with one trusted row weighing between 1 and this many batch rows. */
  maxTrustedWeight: 10,
};

/**
 * Fold of each incoming row: accounts (labeler, else source) dealt to the lightest fold, largest first, so
 * folds are balanced and an account sits in one fold; rows without an account, or a batch with fewer
 * accounts than folds, fall back to a hash of the row's content (copies share a fold).
 */
function batchFolds(ctx: AuditContext, folds: number): { foldOf: Int32Array; by: CrossFit['foldedBy'] } {
  const inc = ctx.incoming;
  const hashes = rowHashes(ctx, 'incoming');
  const byHash = (i: number) => groupFold(hashes[i], ctx.seed, folds);
  const foldOf = new Int32Array(inc.n);
  const col: Categorical | undefined = inc.labeler ?? inc.source;
  const rowsOf = new Map<number, number>();
  if (col) for (const a of col.codes) if (a >= 0) rowsOf.set(a, (rowsOf.get(a) ?? 0) + 1);
  if (!col || rowsOf.size < folds) {
    for (let i = 0; i < inc.n; i++) foldOf[i] = byHash(i);
    return { foldOf, by: 'row' };
  }
  const load = new Float64Array(folds);
  const foldOfAccount = new Map<number, number>();
  const accounts = [...rowsOf.entries()].sort(
    (a, b) => b[1] - a[1] || (col.values[a[0]] < col.values[b[0]] ? -1 : 1),
  );
  for (const [a, rows] of accounts) {
    let f = 0;
    for (let g = 1; g < folds; g++) if (load[g] < load[f]) f = g;
    foldOfAccount.set(a, f);
    load[f] += rows;
  }
  for (let i = 0; i < inc.n; i++) {
    const a = col.codes[i];
    foldOf[i] = a >= 0 ? foldOfAccount.get(a)! : byHash(i);
  }
  return { foldOf, by: inc.labeler ? 'labeler' : 'source' };
}

/** One fold's fit: the batch rows `incRows` (weight 1) and the trusted rows `trRows` (weight `w`). */
function foldJob(
  ctx: AuditContext,
  s: ModelSettings,
  Xi: SparseMatrix,
  Xt: SparseMatrix,
  incRows: number[],
  trRows: number[],
  w: number,
): FitJob {
  const a = Int32Array.from(incRows);
  const b = Int32Array.from(trRows);
  const y = new Int32Array(a.length + b.length);
  const weights = new Float32Array(a.length + b.length).fill(1);
  a.forEach((i, k) => {
    y[k] = ctx.incoming.labels[i];
  });
  b.forEach((i, k) => {
    y[a.length + k] = ctx.trusted.labels[i];
    weights[a.length + k] = w;
  });
  const X = stackRows(selectRows(Xi, a), selectRows(Xt, b));
  return { X, y, K: ctx.classes.length, opts: { l2: s.l2, maxIter: s.maxIter, weights } };
}

/** Evenly spaced subset of `rows` of at most `max` rows. */
function spaced(rows: number[], max: number): number[] {
  if (rows.length <= max) return rows;
  const out: number[] = [];
  for (let k = 0; k < max; k++) out.push(rows[Math.floor((k * rows.length) / max)]);
  return out;
}

/**
 * The cross-fitted reference, or undefined when the trusted set alone holds at least as many rows as a fold
 * would take from the batch (`maxTrainRows`): the batch could at most double the evidence, and refitting on
 * tens of thousands of trusted rows four more times cost a 70,000-row trusted set a minute.
 */
function crossFitSpec(
  ctx: AuditContext,
  settings: Partial<ModelSettings>,
  opts: Partial<typeof CROSS_FIT_DEFAULTS>,
) {
  const o = { ...CROSS_FIT_DEFAULTS, ...opts };
  const K = ctx.classes.length;
  const s = modelSettings({ ...ctx.shared.modelSettings, ...settings }, K);
  const sig = JSON.stringify([s.hashBits, s.l2, s.maxIter, o]);
  const plan = () => {
    const tr = ctx.trusted;
    const inc = ctx.incoming;
    const Xt = modelMatrix(ctx, 'trusted', s.hashBits);
    const Xi = modelMatrix(ctx, 'incoming', s.hashBits);
    const F = Math.max(2, Math.min(o.folds, inc.n, tr.n));
    const { foldOf, by } = batchFolds(ctx, F);
    const trFold = new Int32Array(tr.n);
    if (by === 'row') {
      // The batch is folded by content, so the trusted rows are too: a trusted row and a batch row of one
      // content are read by the same model, one that saw neither. Folded at random, a trusted row would be read
      // by models that saw its content's batch copies while those copies were read by one that never saw it, and
      // a table of few distinct rows would read its clean labels one way on each side.
      const th = rowHashes(ctx, 'trusted');
      for (let i = 0; i < tr.n; i++) trFold[i] = groupFold(th[i], ctx.seed, F);
    } else {
      const order = Array.from({ length: tr.n }, (_, i) => i);
      shuffleInPlace(order, mulberry32(ctx.seed + 7));
      order.forEach((i, r) => {
        trFold[i] = r % F;
      });
    }
    const batchTrain = Math.min(o.maxTrainRows, Math.ceil((inc.n * (F - 1)) / F));
    const w = Math.min(o.maxTrustedWeight, Math.max(1, (o.trustedShare * batchTrain) / Math.max(1, tr.n)));
    // The folds' fits are independent: built first, then fitted on both threads (fit-pool.ts).
    const jobs: FitJob[] = [];
    for (let f = 0; f < F; f++) {
      const incRows: number[] = [];
      for (let i = 0; i < inc.n; i++) if (foldOf[i] !== f) incRows.push(i);
      const trRows: number[] = [];
      for (let i = 0; i < tr.n; i++) if (trFold[i] !== f) trRows.push(i);
      jobs.push(foldJob(ctx, s, Xi, Xt, spaced(incRows, o.maxTrainRows), trRows, w));
    }
    const finish = (models: LogRegModel[]): CrossFit => {
      const proba = new Float32Array(inc.n * K);
      const trustedProba = new Float32Array(tr.n * K);
      const z = new Float64Array(K === 2 ? 1 : K);
      models.forEach((model, f) => {
        for (let i = 0; i < inc.n; i++) {
          if (foldOf[i] !== f) continue;
          logitsOf(model, Xi, i, z);
          probaFromLogits(K, z, proba, i * K);
        }
        for (let i = 0; i < tr.n; i++) {
          if (trFold[i] !== f) continue;
          logitsOf(model, Xt, i, z);
          probaFromLogits(K, z, trustedProba, i * K);
        }
      });
      let correct = 0;
      for (let i = 0; i < tr.n; i++) {
        let best = 0;
        for (let c = 1; c < K; c++) if (trustedProba[i * K + c] > trustedProba[i * K + best]) best = c;
        if (best === tr.labels[i]) correct++;
      }
      const out: CrossFit = {
        proba,
        trustedProba,
        accuracy: correct / Math.max(1, tr.n),
        foldedBy: by,
        folds: F,
        trustedWeight: w,
        foldOf,
        trustedFold: trFold,
        maxTrainRows: o.maxTrainRows,
      };
      return out;
    };
    return { jobs, finish };
  };
  return { o, sig, plan };
}

const CROSS_FIT_KEY = 'model:cross-fit';

export function crossFitReference(
  ctx: AuditContext,
  settings: Partial<ModelSettings> = {},
  opts: Partial<typeof CROSS_FIT_DEFAULTS> = {},
): CrossFit | undefined {
  const { o, sig, plan } = crossFitSpec(ctx, settings, opts);
  if (ctx.trusted.n >= o.maxTrainRows || ctx.incoming.n < 2) return undefined;
  return fitted(ctx, CROSS_FIT_KEY, sig, plan);
}

export function prefetchCrossFit(
  ctx: AuditContext,
  settings: Partial<ModelSettings> = {},
  opts: Partial<typeof CROSS_FIT_DEFAULTS> = {},
): void {
  const { o, sig, plan } = crossFitSpec(ctx, settings, opts);
  if (ctx.trusted.n >= o.maxTrainRows || ctx.incoming.n < 2) return;
  startFits(ctx, CROSS_FIT_KEY, sig, plan);
}

/**
 * The cross-fit re-read for suspects: rows of accounts found flipping are scored again by their fold's model
 * refitted without any suspect's rows. Folding by account keeps an account from vouching for itself, but not a
 * campaign of several accounts dealt to different folds: each fold's model learns the campaign's trigger (or
 * relabelled region) from the other campaign accounts and reads that account's poisoned rows as its label.
 * Each suspect row is read by the model that read it before minus its co-suspects' rows, so its reading still
 * compares with its peers' (a wholly new model would read rows of a class the reference confuses otherwise,
 * for reasons that have nothing to do with the suspects). Rows not suspect keep `proba`'s values.
 */
export function reReadSuspects(
  ctx: AuditContext,
  cf: CrossFit,
  proba: Float32Array,
  suspect: Uint8Array,
  settings: Partial<ModelSettings> = {},
): Float32Array {
  const K = ctx.classes.length;
  const s = modelSettings({ ...ctx.shared.modelSettings, ...settings }, K);
  const tr = ctx.trusted;
  const inc = ctx.incoming;
  const Xt = modelMatrix(ctx, 'trusted', s.hashBits);
  const Xi = modelMatrix(ctx, 'incoming', s.hashBits);
  const folds: number[] = [];
  const jobs: FitJob[] = [];
  for (let f = 0; f < cf.folds; f++) {
    let any = false;
    for (let i = 0; i < inc.n && !any; i++) any = suspect[i] === 1 && cf.foldOf[i] === f;
    if (!any) continue;
    const incRows: number[] = [];
    for (let i = 0; i < inc.n; i++) if (cf.foldOf[i] !== f && !suspect[i]) incRows.push(i);
    const trRows: number[] = [];
    for (let i = 0; i < tr.n; i++) if (cf.trustedFold[i] !== f) trRows.push(i);
    folds.push(f);
    jobs.push(foldJob(ctx, s, Xi, Xt, spaced(incRows, cf.maxTrainRows), trRows, cf.trustedWeight));
  }
  const models = fitMany(jobs);
  const out = Float32Array.from(proba);
  const z = new Float64Array(K === 2 ? 1 : K);
  models.forEach((model, k) => {
    for (let i = 0; i < inc.n; i++) {
      if (!suspect[i] || cf.foldOf[i] !== folds[k]) continue;
      logitsOf(model, Xi, i, z);
      probaFromLogits(K, z, out, i * K);
    }
  });
  return out;
}
