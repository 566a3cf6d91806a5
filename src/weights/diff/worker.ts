/**
 * A second lane for `diff` on a worker thread: it opens the same two safetensors models and compares the
 * tensors it is sent, one at a time, with its own reusable read buffers. Each tensor's result depends only
 * on the tensor and its seed, so which lane computes it does not change the report.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openModel } from '../store.js';
import { compareTensor, type ReadBuffers } from './compare.js';
import type { LaneJob } from './lanes.js';

const port = parentPort;
if (!port) throw new Error('diff worker started outside a worker thread');
const { basePath, candPath } = workerData as { basePath: string; candPath: string };
const stores = Promise.all([openModel(basePath), openModel(candPath)]);
const pool: ReadBuffers = {};
port.on('message', async (job: LaneJob | null) => {
  const [base, cand] = await stores;
  if (job === null) {
    await base.close();
    await cand.close();
    port.close();
    return;
  }
  try {
    const d = await compareTensor(
      base,
      cand,
      job.base,
      job.cand,
      job.shape,
      job.dtypes,
      job.seed,
      pool,
      job.bytes,
    );
    port.postMessage({ index: job.index, delta: d });
  } catch (err) {
    port.postMessage({ index: job.index, error: (err as Error).message });
  }
});
