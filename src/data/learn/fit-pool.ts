/**
 * Independent logistic fits (the folds of a cross-validation) on two threads. Each fit depends only on its
 * rows, labels and settings, so which thread runs it does not change the model. The detectors are
 * synchronous, so the pool is too: a batch of fits is handed to one worker in shared memory (fitLater), and
 * collect() then fits on this thread every job the worker has not claimed, and waits (Atomics.wait) for those
 * it has. A batch handed over early (a detector's prefetch, before the audit reads and counts) is fitted while
 * this thread does other work. A worker that cannot start, fails a fit or stops answering leaves its fits to
 * this thread: the pool only ever saves time.
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

/** A batch of jobs as posted to the worker: one state per job (below), then the jobs. */
export interface SharedBatch {
  states: SharedArrayBuffer;
  jobs: SharedJob[];
}

/** Job states: each job is claimed once, by whichever thread swaps PENDING for CLAIMED first. */
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

/** One worker per process, started on first use; unref'd, so it never keeps the process alive. */
let worker: Worker | undefined;
let workerFailed = false;

function theWorker(url: URL): Worker | undefined {
  if (worker || workerFailed) return worker;
  try {
    worker = new Worker(url);
    worker.unref();
    worker.on('error', () => {
      workerFailed = true;
      worker = undefined;
    });
    worker.on('exit', () => {
      worker = undefined;
    });
  } catch {
    workerFailed = true;
  }
  return worker;
}

/** Stop the worker (the audit is over); a later fit starts another. */
export function closeFitPool(): void {
  const w = worker;
  worker = undefined;
  if (w) void w.terminate();
}

export interface Deferred {
  /** The models in job order (fits here what the worker has not claimed; waits for what it has). */
  collect(): LogRegModel[];
}

/** Fit every job; models in job order. */
export function fitMany(jobs: FitJob[]): LogRegModel[] {
  return fitLater(jobs).collect();
}

/** Hand the jobs to the worker now, collect the models later. */
export function fitLater(jobs: FitJob[]): Deferred {
  const fitOne = (j: FitJob) => trainLogReg(j.X, j.y, j.K, j.opts);
  const url = workerUrl();
  const total = jobs.reduce((s, j) => s + workOf(j), 0);
  const w = url && availableParallelism() >= 2 && total >= MIN_PARALLEL_WORK ? theWorker(url) : undefined;
  let models: LogRegModel[] | undefined;
  if (!w) return { collect: () => (models ??= jobs.map(fitOne)) };
  const states = new Int32Array(new SharedArrayBuffer(4 * jobs.length));
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
  try {
    w.postMessage({ states: states.buffer, jobs: sharedJobs } satisfies SharedBatch);
  } catch {
    return { collect: () => (models ??= jobs.map(fitOne)) };
  }
  return {
    collect() {
      if (models) return models;
      const out: Array<LogRegModel | undefined> = new Array(jobs.length);
      let slowest = 0;
      for (let k = 0; k < jobs.length; k++) {
        if (Atomics.compareExchange(states, k, PENDING, CLAIMED) !== PENDING) continue;
        const t0 = performance.now();
        out[k] = fitOne(jobs[k]);
        slowest = Math.max(slowest, performance.now() - t0);
      }
      // Fits the worker took: wait for each, up to a generous deadline, then fit here what is not done.
      const deadline = performance.now() + Math.max(10_000, 4 * slowest * jobs.length);
      for (let k = 0; k < jobs.length; k++) {
        if (out[k]) continue;
        for (;;) {
          const state = Atomics.load(states, k);
          if (state === DONE || state === FAILED) break;
          const left = deadline - performance.now();
          if (left <= 0) break;
          Atomics.wait(states, k, state, Math.min(left, 1000));
        }
        if (Atomics.load(states, k) === DONE) {
          const j = sharedJobs[k];
          const M = j.K === 2 ? 1 : j.K;
          const all = new Float64Array(j.out);
          const size = j.dim * M + M;
          out[k] = { K: j.K, dim: j.dim, M, w: all.slice(0, size), iterations: all[size] };
        } else out[k] = fitOne(jobs[k]);
      }
      models = out as LogRegModel[];
      return models;
    },
  };
}
