/**
 * Tensor comparisons spread over two lanes, this thread and one worker thread (the machines this runs on
 * have two cores): a queue of jobs taken in order by whichever lane is free, results put back by index, so
 * the report is the same as with one lane. Used for safetensors on both sides only (a PyTorch checkpoint
 * would be scanned again by the worker), for models large enough to repay the worker's start, and only
 * while a second pair of read buffers stays within the memory bound (two tensors plus 200 MB).
 */
import { Worker } from 'node:worker_threads';
import type { TensorStore } from '../store.js';
import { compareTensor, type ReadBuffers, type TensorDelta } from './compare.js';

export interface LaneJob {
  index: number;
  base: string;
  cand: string;
  shape: number[];
  dtypes: { base: string; candidate: string };
  seed: number;
  bytes: { base: number; candidate: number };
}

/** Below this many bytes in all the jobs together, one lane is faster than starting a worker. */
const MIN_TWO_LANE_BYTES = 64 << 20;
/** A second lane holds two more tensors: allowed while they fit in part of the 200 MB margin. */
const MAX_TWO_LANE_TENSOR = 48 << 20;

export function lanesFor(base: TensorStore, cand: TensorStore, jobs: LaneJob[]): number {
  const forced = Number(process.env.ANTIDOTE_DIFF_LANES);
  if (forced === 1 || forced === 2) return forced;
  if (base.format !== 'safetensors' || cand.format !== 'safetensors') return 1;
  let total = 0;
  let largest = 0;
  for (const j of jobs) {
    const b = j.bytes.base + j.bytes.candidate;
    total += b;
    largest = Math.max(largest, j.bytes.base, j.bytes.candidate);
  }
  return total >= MIN_TWO_LANE_BYTES && largest <= MAX_TWO_LANE_TENSOR ? 2 : 1;
}

function workerUrl(): URL {
  // Compiled, this module is lanes.js beside worker.js; run from source (tsx), it is lanes.ts.
  return new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);
}

export async function runLanes(
  base: TensorStore,
  cand: TensorStore,
  paths: { base: string; cand: string },
  jobs: LaneJob[],
  lanes: number,
  onDone?: (done: number, total: number) => void,
): Promise<TensorDelta[]> {
  const out = new Array<TensorDelta>(jobs.length);
  let next = 0;
  let done = 0;
  const pool: ReadBuffers = {};
  const finish = (j: LaneJob, d: TensorDelta) => {
    out[j.index] = d;
    onDone?.(++done, jobs.length);
  };
  const local = async () => {
    while (next < jobs.length) {
      const j = jobs[next++];
      finish(j, await compareTensor(base, cand, j.base, j.cand, j.shape, j.dtypes, j.seed, pool, j.bytes));
    }
  };
  if (lanes < 2 || jobs.length < 2) {
    await local();
    return out;
  }
  // A worker that cannot start or stops leaves its jobs to this thread: whatever it did not return is
  // compared here after the queue is empty (an unreadable tensor then fails here, with its own message).
  const worker = new Worker(workerUrl(), { workerData: { basePath: paths.base, candPath: paths.cand } });
  let failure: string | undefined;
  const remote = new Promise<void>((resolve) => {
    let current: LaneJob | undefined;
    const fail = (why: string) => {
      if (current) failure ??= why;
      resolve();
    };
    const send = () => {
      current = next < jobs.length ? jobs[next++] : undefined;
      worker.postMessage(current ?? null);
      if (!current) resolve();
    };
    worker.on('message', (m: { index: number; delta?: TensorDelta; error?: string }) => {
      // A tensor the worker could not compare is compared again here, where its error is the command's.
      if (!m.delta) return resolve();
      if (current) finish(current, m.delta);
      send();
    });
    worker.on('error', (e) => fail(e.message));
    worker.on('exit', (code) => fail(`exit ${code}`));
    send();
  });
  try {
    await Promise.all([local(), remote]);
  } finally {
    await worker.terminate();
  }
  // Said on stderr so that a lost lane is seen (the report itself does not change).
  if (failure)
    process.stderr.write(
      `antidote: the diff worker thread failed (${failure}); its tensors were compared here\n`,
    );
  for (const j of jobs)
    if (!out[j.index])
      finish(j, await compareTensor(base, cand, j.base, j.cand, j.shape, j.dtypes, j.seed, pool, j.bytes));
  return out;
}
