/**
 * The second thread of fit-pool.ts: takes fits from the shared counter until none is left, writes each
 * model's weights into its shared output and marks it done (or failed: the pool then fits it itself).
 */
import { workerData } from 'node:worker_threads';
import { CLAIMED, DONE, FAILED, type SharedJob } from './fit-pool.js';
import { trainLogReg } from './logreg.js';

const { ctl: ctlBuffer, jobs } = workerData as { ctl: SharedArrayBuffer; jobs: SharedJob[] };
const ctl = new Int32Array(ctlBuffer);
for (;;) {
  const k = Atomics.add(ctl, 0, 1);
  if (k >= jobs.length) break;
  Atomics.store(ctl, 1 + k, CLAIMED);
  const j = jobs[k];
  let state = DONE;
  try {
    const X = {
      n: j.n,
      dim: j.dim,
      indptr: new Int32Array(j.indptr),
      indices: new Int32Array(j.indices),
      values: new Float32Array(j.values),
    };
    const m = trainLogReg(X, new Int32Array(j.y), j.K, {
      l2: j.l2,
      maxIter: j.maxIter,
      maxWork: j.maxWork,
      weights: j.weights ? new Float32Array(j.weights) : undefined,
    });
    const out = new Float64Array(j.out);
    out.set(m.w);
    out[m.w.length] = m.iterations;
  } catch {
    state = FAILED;
  }
  Atomics.store(ctl, 1 + k, state);
  Atomics.notify(ctl, 1 + k);
}
