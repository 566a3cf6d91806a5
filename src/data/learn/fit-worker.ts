/**
 * The second thread of fit-pool.ts: receives batches of fits, claims each job still pending (the first thread
 * may have claimed it already), writes the model's weights into the job's shared output and marks it done (or
 * failed: the pool then fits it itself). Batches are taken in the order they arrive.
 */
import { parentPort } from 'node:worker_threads';
import { CLAIMED, DONE, FAILED, PENDING, type SharedBatch } from './fit-pool.js';
import { trainLogReg } from './logreg.js';

parentPort?.on('message', (batch: SharedBatch) => {
  const states = new Int32Array(batch.states);
  batch.jobs.forEach((j, k) => {
    if (Atomics.compareExchange(states, k, PENDING, CLAIMED) !== PENDING) return;
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
    Atomics.store(states, k, state);
    Atomics.notify(states, k);
  });
});
