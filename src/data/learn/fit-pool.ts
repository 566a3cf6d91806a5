/**
 * Several independent logistic fits (the folds of a cross-validation) on two threads. Each fit depends only
 * on its rows, labels and settings, so which thread runs it does not change the model. The detectors are
 * synchronous, so the pool is too: the fits' inputs go to a worker in shared memory, both threads take fits
 * from one shared counter, and this thread waits (Atomics.wait) for the ones the worker took. A worker that
 * cannot start, fails a fit or stops answering leaves its fits to this thread: the pool only ever saves time.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SparseMatrix } from '../features/sparse.js';
import { type LogRegModel, type LogRegOptions, trainLogReg } from './logreg.js';

export interface FitJob {
  X: SparseMatrix;
  y: Int32Array;
  K: number;
  opts: LogRegOptions;
}

/** Shared-memory form of a job, as the worker receives it. */
export interface SharedJob {
  n: number;
  dim: number;
  K: number;
  indptr: SharedArrayBuffer;
  indices: SharedArrayBuffer;
  values: SharedArrayBuffer;
  y: SharedArrayBuffer;
  weights?: SharedArrayBuffer;
  l2: number;
  maxIter: number;
  maxWork?: number;
  /** dim × M + M weights, then the iteration count, written by the worker. */
  out: SharedArrayBuffer;
}

/** Job states in the control array (after the shared counter at index 0). */
export const PENDING = 0;
export const CLAIMED = 1;
export const DONE = 2;
export const FAILED = 3;

/**
 * Multiply-adds below which a second thread costs more than it saves: a worker starts in about 50 ms, the
 * time of ~5e7 multiply-adds.
 */
const MIN_PARALLEL_WORK = 5e7;

function workOf(j: FitJob): number {
  return j.X.indptr[j.X.n] * (j.K === 2 ? 1 : j.K) * j.opts.maxIter;
}

function shared<T extends Int32Array | Float32Array | Float64Array>(a: T): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(a.byteLength);
  new Uint8Array(sab).set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return sab;
}

function workerUrl(): URL | undefined {
  // Compiled, the worker is fit-worker.js beside this file; from source (tests under tsx/vitest) a worker
  // could not load TypeScript, and the fits run here.
  return import.meta.url.endsWith('.js') ? new URL('./fit-worker.js', import.meta.url) : undefined;
}

/** Fit every job; models in job order. */
export function fitMany(jobs: FitJob[]): LogRegModel[] {
  const fitOne = (j: FitJob) => trainLogReg(j.X, j.y, j.K, j.opts);
  const url = workerUrl();
  const total = jobs.reduce((s, j) => s + workOf(j), 0);
  if (jobs.length < 2 || !url || availableParallelism() < 2 || total < MIN_PARALLEL_WORK)
    return jobs.map(fitOne);
  const ctl = new Int32Array(new SharedArrayBuffer(4 * (1 + jobs.length)));
  const sharedJobs: SharedJob[] = jobs.map((j) => {
    const M = j.K === 2 ? 1 : j.K;
    return {
      n: j.X.n,
      dim: j.X.dim,
      K: j.K,
      indptr: shared(j.X.indptr.subarray(0, j.X.n + 1)),
      indices: shared(j.X.indices.subarray(0, j.X.indptr[j.X.n])),
      values: shared(j.X.values.subarray(0, j.X.indptr[j.X.n])),
      y: shared(j.y),
      weights: j.opts.weights ? shared(j.opts.weights) : undefined,
      l2: j.opts.l2,
      maxIter: j.opts.maxIter,
      maxWork: j.opts.maxWork,
      out: new SharedArrayBuffer(8 * (j.X.dim * M + M + 1)),
    };
  });
  let worker: Worker | undefined;
  try {
    worker = new Worker(url, { workerData: { ctl: ctl.buffer, jobs: sharedJobs } });
    worker.unref();
    worker.on('error', () => {});
  } catch {
    return jobs.map(fitOne);
  }
  const models: Array<LogRegModel | undefined> = new Array(jobs.length);
  let slowest = 0;
  for (;;) {
    const k = Atomics.add(ctl, 0, 1);
    if (k >= jobs.length) break;
    const t0 = performance.now();
    models[k] = fitOne(jobs[k]);
    slowest = Math.max(slowest, performance.now() - t0);
  }
  // Fits the worker took: wait for each, up to a generous deadline, then fit here what is not done.
  const deadline = performance.now() + Math.max(10_000, 4 * slowest * jobs.length);
  for (let k = 0; k < jobs.length; k++) {
    if (models[k]) continue;
    for (;;) {
      const state = Atomics.load(ctl, 1 + k);
      if (state === DONE || state === FAILED) break;
      const left = deadline - performance.now();
      if (left <= 0) break;
      Atomics.wait(ctl, 1 + k, state, Math.min(left, 1000));
    }
    if (Atomics.load(ctl, 1 + k) === DONE) {
      const j = sharedJobs[k];
      const M = j.K === 2 ? 1 : j.K;
      const all = new Float64Array(j.out);
      const size = j.dim * M + M;
      models[k] = { K: j.K, dim: j.dim, M, w: all.slice(0, size), iterations: all[size] };
    } else models[k] = fitOne(jobs[k]);
  }
  void worker.terminate();
  return models as LogRegModel[];
}
