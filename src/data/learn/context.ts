/**
 * The trusted model, fit once per audit on the trusted reference and shared by the detectors that need it
 * (disagreement publishes its probabilities; trigger mining re-scores rows with a candidate removed).
 */
import { DISAGREEMENT_DEFAULTS } from '../config.js';
import type { AuditContext } from '../detectors/types.js';
import { modelMatrix, rowHashes } from '../features/context.js';
import type { SparseMatrix } from '../features/sparse.js';
import { crossValidate, crossValProba } from './cv.js';
import { type LogRegModel, predictProba, trainLogReg } from './logreg.js';

export interface TrustedModel {
  model: LogRegModel;
  hashBits: number;
  /** Incoming feature matrix the model scored. */
  X: SparseMatrix;
  /** P(class | incoming row), n × K. */
  proba: Float32Array;
}

export interface ModelSettings {
  hashBits: number;
  l2: number;
  maxIter: number;
}

/**
 * Weights one model may hold (its hashed space times its outputs). A softmax over K classes keeps K weights
 * per feature, so 2^18 features and 5,000 classes would need 10 GB; above this the hashed space shrinks
 * instead (two to eight classes keep 2^18; 50 classes get 2^15, 256 get 2^13), so memory does not grow with
 * the classes.
 */
export const MAX_MODEL_WEIGHTS = 2 ** 21;

/** The model's hashed space for K classes: the configured bits, shrunk until the weights fit the bound. */
export function effectiveHashBits(hashBits: number, K: number): number {
  const M = K <= 2 ? 1 : K;
  let bits = hashBits;
  while (bits > 8 && 2 ** bits * M > MAX_MODEL_WEIGHTS) bits--;
  return bits;
}

export function modelSettings(s: Partial<ModelSettings> = {}, K = 2): ModelSettings {
  return {
    hashBits: effectiveHashBits(s.hashBits ?? DISAGREEMENT_DEFAULTS.hashBits, K),
    l2: s.l2 ?? DISAGREEMENT_DEFAULTS.l2,
    maxIter: s.maxIter ?? DISAGREEMENT_DEFAULTS.maxIter,
  };
}

export function trustedModel(ctx: AuditContext, settings: Partial<ModelSettings> = {}): TrustedModel {
  const key = 'model:trusted';
  const hit = ctx.shared[key] as TrustedModel | undefined;
  if (hit) return hit;
  const K = ctx.classes.length;
  const s = modelSettings({ ...ctx.shared.modelSettings, ...settings }, K);
  const Xt = modelMatrix(ctx, 'trusted', s.hashBits);
  const model = trainLogReg(Xt, ctx.trusted.labels, K, { l2: s.l2, maxIter: s.maxIter });
  const X = modelMatrix(ctx, 'incoming', s.hashBits);
  const proba = predictProba(model, X);
  const tm: TrustedModel = { model, hashBits: s.hashBits, X, proba };
  ctx.shared[key] = tm;
  return tm;
}

/**
 * Out-of-fold P(class | trusted row), n × K: each trusted row scored by a model of the other trusted folds.
 * Disagreement's clean reference and trigger mining's table reference ask for the same folds, so it is fit
 * once per settings (a bound on training rows at or above the trusted set's size is no bound).
 */
export function trustedCv(
  ctx: AuditContext,
  s: ModelSettings,
  opts: { folds: number; maxTrainRows: number },
): Float32Array {
  const n = ctx.trusted.n;
  const cap = opts.maxTrainRows >= n ? 0 : opts.maxTrainRows;
  const key = `model:trusted-cv:${s.hashBits}:${s.l2}:${s.maxIter}:${opts.folds}:${cap}`;
  const hit = ctx.shared[key] as Float32Array | undefined;
  if (hit) return hit;
  // Copies of one row share a fold (and train once): a duplicated trusted row must not score its own copy,
  // or the clean reference calibrated on these probabilities reads a table of many copies as easier than a
  // batch's distinct rows are.
  const cv = crossValProba(modelMatrix(ctx, 'trusted', s.hashBits), ctx.trusted.labels, ctx.classes.length, {
    l2: s.l2,
    maxIter: s.maxIter,
    folds: opts.folds,
    seed: ctx.seed,
    maxTrainRows: cap || undefined,
    groups: rowHashes(ctx, 'trusted'),
  });
  ctx.shared[key] = cv;
  return cv;
}

export interface BatchCv {
  proba: Float32Array;
  foldOf: Int32Array;
  models: LogRegModel[];
}

/**
 * Cross-validated models of the incoming batch itself (each row scored by a model that never saw it),
 * shared by confident learning (disagreement) and trigger mining (re-scoring rows with a pattern removed).
 */
export function batchCv(
  ctx: AuditContext,
  settings: Partial<ModelSettings & { folds: number; maxCvTrainRows: number }> = {},
): BatchCv {
  const key = 'model:batch-cv';
  const hit = ctx.shared[key] as BatchCv | undefined;
  if (hit) return hit;
  const all = { ...ctx.shared.modelSettings, ...settings };
  const s = modelSettings(all, ctx.classes.length);
  const X = modelMatrix(ctx, 'incoming', s.hashBits);
  const r = crossValidate(X, ctx.incoming.labels, ctx.classes.length, {
    l2: s.l2,
    maxIter: s.maxIter,
    folds: all.folds ?? DISAGREEMENT_DEFAULTS.folds,
    maxTrainRows: all.maxCvTrainRows ?? DISAGREEMENT_DEFAULTS.maxCvTrainRows,
    seed: ctx.seed + 1,
    groups: rowHashes(ctx, 'incoming'),
    // The trusted rows join every fold's training: more clean evidence about what content means.
    extra: { X: modelMatrix(ctx, 'trusted', s.hashBits), y: ctx.trusted.labels },
  });
  ctx.shared[key] = r;
  return r;
}
