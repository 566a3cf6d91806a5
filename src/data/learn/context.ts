/**
 * The trusted model, fit once per audit on the trusted reference and shared by the detectors that need it
 * (disagreement publishes its probabilities; trigger mining re-scores rows with a candidate removed).
 */
import { DISAGREEMENT_DEFAULTS } from '../config.js';
import type { AuditContext } from '../detectors/types.js';
import { modelMatrix, rowHashes } from '../features/context.js';
import type { SparseMatrix } from '../features/sparse.js';
import { type CvResult, groupFold, planCrossValidate } from './cv.js';
import { type Deferred, type FitJob, fitLater, fitMany } from './fit-pool.js';
import { type LogRegModel, logitsOf, predictProba, probaFromLogits, trainLogReg } from './logreg.js';

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
 * A model fit started before a detector asks for it (prefetch): the worker of fit-pool.ts fits it while this
 * thread reads and counts. `sig` is every setting the fit depends on; a later request with other settings
 * fits afresh, so a prefetch can only save time, never change a result.
 */
interface Pending<T> {
  sig: string;
  deferred: Deferred;
  finish(models: LogRegModel[]): T;
}

const pendingKey = (key: string) => `pending:${key}`;

/** The prefetched result of `key` when it was started with these settings (collected once). */
function prefetched<T>(ctx: AuditContext, key: string, sig: string): T | undefined {
  const p = ctx.shared[pendingKey(key)] as Pending<T> | undefined;
  if (!p || p.sig !== sig) return undefined;
  delete ctx.shared[pendingKey(key)];
  return p.finish(p.deferred.collect());
}

/** Start the fits of `key` now, unless it is done or started already. */
export function startFits<T>(
  ctx: AuditContext,
  key: string,
  sig: string,
  plan: () => { jobs: FitJob[]; finish(models: LogRegModel[]): T },
): void {
  if (ctx.shared[key] !== undefined || ctx.shared[pendingKey(key)] !== undefined) return;
  const p = plan();
  const pending: Pending<T> = { sig, deferred: fitLater(p.jobs), finish: p.finish };
  ctx.shared[pendingKey(key)] = pending;
}

/** Cached, prefetched or fitted now: the result of `key`. */
export function fitted<T>(
  ctx: AuditContext,
  key: string,
  sig: string,
  plan: () => { jobs: FitJob[]; finish(models: LogRegModel[]): T },
): T {
  const hit = ctx.shared[key] as T | undefined;
  if (hit !== undefined) return hit;
  let r = prefetched<T>(ctx, key, sig);
  if (r === undefined) {
    const p = plan();
    r = p.finish(fitMany(p.jobs));
  }
  ctx.shared[key] = r;
  return r;
}

interface TrustedCvOptions {
  folds: number;
  maxTrainRows: number;
}

function trustedCvSpec(ctx: AuditContext, s: ModelSettings, opts: TrustedCvOptions) {
  const n = ctx.trusted.n;
  const cap = opts.maxTrainRows >= n ? 0 : opts.maxTrainRows;
  const key = `model:trusted-cv:${s.hashBits}:${s.l2}:${s.maxIter}:${opts.folds}:${cap}`;
  // Copies of one row share a fold (and train once): a duplicated trusted row must not score its own copy,
  // or the clean reference calibrated on these probabilities reads a table of many copies as easier than a
  // batch's distinct rows are.
  const plan = () => {
    const p = planCrossValidate(
      modelMatrix(ctx, 'trusted', s.hashBits),
      ctx.trusted.labels,
      ctx.classes.length,
      {
        l2: s.l2,
        maxIter: s.maxIter,
        folds: opts.folds,
        seed: ctx.seed,
        maxTrainRows: cap || undefined,
        groups: rowHashes(ctx, 'trusted'),
      },
    );
    return p;
  };
  return { key, plan };
}

/**
 * Out-of-fold P(class | trusted row), n × K: each trusted row scored by a model of the other trusted folds.
 * Disagreement's clean reference and trigger mining's table reference ask for the same folds, so it is fit
 * once per settings (a bound on training rows at or above the trusted set's size is no bound).
 */
export function trustedCv(ctx: AuditContext, s: ModelSettings, opts: TrustedCvOptions): Float32Array {
  return trustedFolds(ctx, s, opts).proba;
}

/** The trusted cross-validation itself: its out-of-fold probabilities, folds and fold models. */
export function trustedFolds(ctx: AuditContext, s: ModelSettings, opts: TrustedCvOptions): CvResult {
  const { key, plan } = trustedCvSpec(ctx, s, opts);
  return fitted(ctx, key, key, plan);
}

/**
 * P(class | incoming row), n × K, read as the trusted cross-validation reads a held-out trusted row: by the
 * model of the fold the row's content falls in (group folds hash content), which never saw that content. A
 * clean batch row and a trusted row are then exchangeable, which a comparison of the batch with the trusted
 * rows' out-of-fold probabilities needs: the model of all trusted rows has seen the content of the batch rows
 * that copy a trusted row, and in a table of few distinct rows that is most of them.
 */
export function heldOutProba(ctx: AuditContext, cv: CvResult, hashBits: number): Float32Array {
  const K = ctx.classes.length;
  const X = modelMatrix(ctx, 'incoming', hashBits);
  const hashes = rowHashes(ctx, 'incoming');
  const F = cv.models.length;
  const out = new Float32Array(ctx.incoming.n * K);
  const z = new Float64Array(cv.models[0].M);
  for (let i = 0; i < ctx.incoming.n; i++) {
    logitsOf(cv.models[groupFold(hashes[i], ctx.seed, F)], X, i, z);
    probaFromLogits(K, z, out, i * K);
  }
  return out;
}

export function prefetchTrustedCv(ctx: AuditContext, s: ModelSettings, opts: TrustedCvOptions): void {
  const { key, plan } = trustedCvSpec(ctx, s, opts);
  startFits(ctx, key, key, plan);
}

export interface BatchCv {
  proba: Float32Array;
  foldOf: Int32Array;
  models: LogRegModel[];
}

type BatchCvSettings = Partial<ModelSettings & { folds: number; maxCvTrainRows: number }>;

function batchCvSpec(ctx: AuditContext, settings: BatchCvSettings) {
  const all = { ...ctx.shared.modelSettings, ...settings };
  const s = modelSettings(all, ctx.classes.length);
  const folds = all.folds ?? DISAGREEMENT_DEFAULTS.folds;
  const maxTrainRows = all.maxCvTrainRows ?? DISAGREEMENT_DEFAULTS.maxCvTrainRows;
  const sig = JSON.stringify([s.hashBits, s.l2, s.maxIter, folds, maxTrainRows]);
  const plan = () =>
    planCrossValidate(modelMatrix(ctx, 'incoming', s.hashBits), ctx.incoming.labels, ctx.classes.length, {
      l2: s.l2,
      maxIter: s.maxIter,
      folds,
      maxTrainRows,
      seed: ctx.seed + 1,
      groups: rowHashes(ctx, 'incoming'),
      // The trusted rows join every fold's training: more clean evidence about what content means.
      extra: { X: modelMatrix(ctx, 'trusted', s.hashBits), y: ctx.trusted.labels },
    });
  return { sig, plan };
}

/**
 * Cross-validated models of the incoming batch itself (each row scored by a model that never saw it),
 * shared by confident learning (disagreement) and trigger mining (re-scoring rows with a pattern removed).
 * The first request's settings win.
 */
export function batchCv(ctx: AuditContext, settings: BatchCvSettings = {}): BatchCv {
  const { sig, plan } = batchCvSpec(ctx, settings);
  return fitted(ctx, 'model:batch-cv', sig, plan);
}

export function prefetchBatchCv(ctx: AuditContext, settings: BatchCvSettings = {}): void {
  const { sig, plan } = batchCvSpec(ctx, settings);
  startFits(ctx, 'model:batch-cv', sig, plan);
}
