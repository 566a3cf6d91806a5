/**
 * Parallel file hashing on worker threads. A plain SHA-256 of one file is inherently sequential, so
 * parallelism comes from hashing several files (or several shards of a file, for the sharded digests
 * of the OpenSSF model-signing format) at once. Small inputs are hashed on the main thread, where starting
 * workers would cost more than it saves.
 *
 * Scheduling: with one worker per core, each taking the next largest file, the run lasts as long as the
 * busiest worker, which whole files rarely balance (files of 1024, 768, 512 and 384 MiB on two cores: 1408
 * MiB on one core against 1344 on average, 5% lost). A hash cannot move between threads, but a thread can
 * move between cores. So the files are dealt (largest first, to the lightest) to one thread more than
 * there are cores (the main thread is one of them), and at most `cores` of them hash at any moment: the ones with the most bytes left, a
 * thread giving up its turn when a waiting one has clearly more left (a shared array of byte counts and
 * Atomics.wait / notify, no round trip through the main thread). Every thread then finishes at about the
 * same time, total / cores, whenever no single file is longer than that.
 *
 * The worker's code is a fixed string below (not a file) so the same pool runs from the compiled
 * dist/ and from the TypeScript sources under the test runner; nothing read from disk is evaluated.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { AntidoteError, describeFsError } from '../core/errors.js';
import type { Progress } from '../core/progress.js';

export interface HashJob {
  path: string;
  algorithm: string;
  /** Byte range [start, end); `end` undefined = to the end of the file (whole-file digest). */
  start?: number;
  end?: number;
  /** Refuse to open through a symbolic link (entries found by a walk). */
  noFollow?: boolean;
  /** Expected byte count (size seen by the walk); a mismatch means the file changed underneath. */
  expectSize?: number;
}

export interface HashResult {
  digest: string;
  bytes: number;
}

/**
 * 256 KiB reads: few system calls, and the buffer still fits a core's L2 cache between the copy and the hash
 * (measured on 1.3 GB, median of 5: 1,690 MB per CPU-second against 1,655 at 128 KiB and 1,696 at 512 KiB,
 * which is a whole L2 on some cores; 4 MiB reads cost ~2x the system time). At this size a worker hashes at
 * `openssl dgst -sha256`'s rate per core.
 */
const CHUNK = 256 * 1024;
/** Below this many bytes in total, hash on the main thread. */
const INLINE_BYTES = 64 * 1024 * 1024;

/** Bytes hashed between two looks at whether another thread should have the core. */
const BATCH = 4 * 1024 * 1024;
/** A running thread gives up its turn to a waiting one with this much more left (fewer, cheaper switches). */
const MARGIN = 32 * 1024 * 1024;
/** Byte counts in the shared array are kept in units of this many bytes (Int32, for Atomics). */
const UNIT = 4096;

/*
 * Shared state (Int32Array): [0] free turns, [1] change counter (waited on), then per thread t:
 * [2 + 3t] units of work left, [3 + 3t] state (0 starting, 1 waiting, 2 running, 3 done).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { openSync, readSync, closeSync, constants } = require('node:fs');
const { createHash } = require('node:crypto');
const { me, shared, jobs, batch, margin, unit } = workerData;
const S = new Int32Array(shared);
const FREE = 0, CHANGE = 1, LEFT = (t) => 2 + 3 * t, STATE = (t) => 3 + 3 * t;
const threads = (S.length - 2) / 3;
const buf = Buffer.allocUnsafe(${CHUNK});
let left = Atomics.load(S, LEFT(me));
const changed = () => { Atomics.add(S, CHANGE, 1); Atomics.notify(S, CHANGE); };
const setLeft = (units) => { left = Math.max(0, units); Atomics.store(S, LEFT(me), left); };
// The waiting thread with the most left (ties: the lowest index), or -1.
function bestWaiting() {
  let best = -1, most = -1;
  for (let t = 0; t < threads; t++) {
    if (Atomics.load(S, STATE(t)) !== 1) continue;
    const l = Atomics.load(S, LEFT(t));
    if (l > most) { best = t; most = l; }
  }
  return best;
}
function takeTurn() {
  Atomics.store(S, STATE(me), 1);
  changed();
  for (;;) {
    const seen = Atomics.load(S, CHANGE);
    const free = Atomics.load(S, FREE);
    if (free > 0 && bestWaiting() === me && Atomics.compareExchange(S, FREE, free, free - 1) === free) {
      Atomics.store(S, STATE(me), 2);
      return;
    }
    Atomics.wait(S, CHANGE, seen, 20);
  }
}
function giveTurnIfOwed() {
  const w = bestWaiting();
  if (w < 0 || Atomics.load(S, LEFT(w)) <= left + margin / unit) return false;
  Atomics.store(S, STATE(me), 1);
  Atomics.add(S, FREE, 1);
  changed();
  return true;
}
function hashOne(job) {
  let fd = -1;
  try {
    fd = openSync(job.path, job.noFollow ? constants.O_RDONLY | constants.O_NOFOLLOW : 'r');
    const h = createHash(job.algorithm);
    let pos = job.start || 0;
    const end = job.end == null ? Infinity : job.end;
    let sinceLook = 0;
    while (pos < end) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, end - pos), pos);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      pos += n;
      sinceLook += n;
      if (sinceLook >= batch) {
        setLeft(left - Math.floor(sinceLook / unit));
        sinceLook %= unit;
        if (giveTurnIfOwed()) takeTurn();
      }
    }
    parentPort.postMessage({ id: job.id, digest: h.digest('hex'), bytes: pos - (job.start || 0) });
  } catch (e) {
    parentPort.postMessage({ id: job.id, error: (e && e.code) || String(e && e.message || e) });
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}
try {
  takeTurn();
  let rest = jobs.reduce((s, j) => s + Math.ceil(j.bytes / unit), 0);
  for (const job of jobs) {
    hashOne(job);
    // What is left is now exactly the jobs not yet hashed (a file longer or shorter than expected is caught
    // by the size check on the main thread).
    rest -= Math.ceil(job.bytes / unit);
    setLeft(rest);
  }
} finally {
  Atomics.store(S, STATE(me), 3);
  Atomics.add(S, FREE, 1);
  changed();
}
`;

export function defaultWorkers(): number {
  const env = Number(process.env.ANTIDOTE_HASH_WORKERS);
  if (Number.isInteger(env) && env > 0) return env;
  return Math.max(1, availableParallelism());
}

function fail(job: HashJob, code: string): AntidoteError {
  if (code === 'ELOOP')
    return new AntidoteError('E_INPUT', `${job.path}: became a symbolic link while hashing`);
  const e = Object.assign(new Error(code), { code });
  return describeFsError(job.path, e);
}

function checkSize(job: HashJob, r: HashResult): HashResult {
  const wanted = job.end !== undefined ? job.end - (job.start ?? 0) : job.expectSize;
  if (wanted !== undefined && r.bytes !== wanted) {
    throw new AntidoteError(
      'E_INPUT',
      `${job.path}: changed while being hashed (read ${r.bytes} bytes, expected ${wanted})`,
      {
        hint: 'hash it again when nothing is writing to it',
      },
    );
  }
  return r;
}

function hashInline(job: HashJob, buf: Buffer): HashResult {
  let fd = -1;
  try {
    fd = openSync(job.path, job.noFollow ? constants.O_RDONLY | constants.O_NOFOLLOW : 'r');
    if (!fstatSync(fd).isFile()) throw Object.assign(new Error('EISDIR'), { code: 'EISDIR' });
    const h = createHash(job.algorithm);
    const start = job.start ?? 0;
    const end = job.end ?? Number.POSITIVE_INFINITY;
    let pos = start;
    while (pos < end) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, end - pos), pos);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      pos += n;
    }
    return { digest: h.digest('hex'), bytes: pos - start };
  } catch (err) {
    throw fail(job, (err as NodeJS.ErrnoException).code ?? (err as Error).message);
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

function jobBytes(j: HashJob): number {
  if (j.end !== undefined) return j.end - (j.start ?? 0);
  return j.expectSize ?? 0;
}

/**
 * Hash every job, results in the order of `jobs`. Workers: `workers` (default: one per core, or
 * ANTIDOTE_HASH_WORKERS), never more than there are jobs.
 */
export async function hashJobs(
  jobs: readonly HashJob[],
  opts: {
    workers?: number;
    onProgress?: (bytes: number) => void;
    inlineBelow?: number;
    progress?: Progress;
  } = {},
): Promise<HashResult[]> {
  const total = jobs.reduce((s, j) => s + jobBytes(j), 0);
  const bar = opts.progress;
  if (bar) {
    bar.total(Math.ceil(total / 1e6));
    const inner = opts.onProgress;
    let acc = 0;
    opts = {
      ...opts,
      onProgress: (b) => {
        inner?.(b);
        acc += b;
        const whole = Math.floor(acc / 1e6);
        if (whole > 0) {
          bar.tick(whole);
          acc -= whole * 1e6;
        }
      },
    };
  }
  const nWorkers = Math.min(opts.workers ?? defaultWorkers(), jobs.length);
  if (nWorkers <= 1 || total < (opts.inlineBelow ?? INLINE_BYTES)) {
    const buf = Buffer.allocUnsafe(CHUNK);
    return jobs.map((j) => {
      const r = checkSize(j, hashInline(j, buf));
      opts.onProgress?.(r.bytes);
      return r;
    });
  }
  // One thread more than there are turns (cores), this one included, each dealt jobs largest first to the
  // lightest thread.
  const threads = Math.min(jobs.length, nWorkers + 1);
  const order = jobs.map((_, i) => i).sort((a, b) => jobBytes(jobs[b]) - jobBytes(jobs[a]));
  const bins = Array.from({ length: threads }, () => ({ bytes: 0, ids: [] as number[] }));
  for (const id of order) {
    const bin = bins.reduce((a, b) => (b.bytes < a.bytes ? b : a));
    bin.ids.push(id);
    bin.bytes += jobBytes(jobs[id]);
  }
  const shared = new SharedArrayBuffer(4 * (2 + 3 * threads));
  const state = new Int32Array(shared);
  state[0] = nWorkers;
  bins.forEach((b, t) => {
    state[2 + 3 * t] = b.ids.reduce((s, id) => s + Math.ceil(jobBytes(jobs[id]) / UNIT), 0);
  });
  const results = new Array<HashResult>(jobs.length);
  let pending = jobs.length;
  const workers: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let failed = false;
      bins.forEach((bin, me) => {
        if (me === 0) return; // this thread's own share, below
        const w = new Worker(WORKER_SOURCE, {
          eval: true,
          workerData: {
            me,
            shared,
            batch: BATCH,
            margin: MARGIN,
            unit: UNIT,
            jobs: bin.ids.map((id) => {
              const j = jobs[id];
              return {
                id,
                path: j.path,
                algorithm: j.algorithm,
                start: j.start,
                end: j.end,
                noFollow: j.noFollow,
                bytes: jobBytes(j),
              };
            }),
          },
        });
        workers.push(w);
        w.on('message', (m: { id: number; digest?: string; bytes?: number; error?: string }) => {
          if (failed) return;
          try {
            if (m.error !== undefined) throw fail(jobs[m.id], m.error);
            const r = checkSize(jobs[m.id], { digest: m.digest!, bytes: m.bytes! });
            results[m.id] = r;
            opts.onProgress?.(r.bytes);
          } catch (err) {
            failed = true;
            reject(err);
            return;
          }
          if (--pending === 0) resolve();
        });
        w.on('error', (err) => {
          failed = true;
          reject(err);
        });
        // A thread that ends normally has posted every result (some may still be on their way).
        w.on('exit', (code) => {
          if (code === 0 || failed || pending === 0) return;
          failed = true;
          reject(new Error(`a hashing thread stopped (exit code ${code}) before its files were hashed`));
        });
      });
      // The main thread hashes a share too (no thread to start for it), between turns of the event loop.
      hashHere(bins[0].ids, state, jobs, (id, r) => {
        if (failed) return false;
        results[id] = r;
        opts.onProgress?.(r.bytes);
        if (--pending === 0) resolve();
        return true;
      }).catch((err) => {
        failed = true;
        reject(err);
      });
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}

/**
 * The main thread's share: the same turn-taking as WORKER_SOURCE (thread 0 of the shared state), waiting with
 * Atomics.waitAsync and yielding to the event loop after each batch, so that results, progress and signals
 * are handled while it hashes. `done` returns false once the run has failed: stop.
 */
async function hashHere(
  ids: readonly number[],
  S: Int32Array,
  jobs: readonly HashJob[],
  done: (id: number, r: HashResult) => boolean,
): Promise<void> {
  const me = 0;
  const threads = (S.length - 2) / 3;
  const LEFT = (t: number) => 2 + 3 * t;
  const STATE = (t: number) => 3 + 3 * t;
  const changed = () => {
    Atomics.add(S, 1, 1);
    Atomics.notify(S, 1);
  };
  let left = Atomics.load(S, LEFT(me));
  const setLeft = (units: number) => {
    left = Math.max(0, units);
    Atomics.store(S, LEFT(me), left);
  };
  const bestWaiting = () => {
    let best = -1;
    let most = -1;
    for (let t = 0; t < threads; t++) {
      if (Atomics.load(S, STATE(t)) !== 1) continue;
      const l = Atomics.load(S, LEFT(t));
      if (l > most) {
        best = t;
        most = l;
      }
    }
    return best;
  };
  const waitAsync = (
    Atomics as unknown as {
      waitAsync(
        a: Int32Array,
        i: number,
        v: number,
        ms: number,
      ): { async: boolean; value: Promise<string> | string };
    }
  ).waitAsync;
  const takeTurn = async () => {
    Atomics.store(S, STATE(me), 1);
    changed();
    for (;;) {
      const seen = Atomics.load(S, 1);
      const free = Atomics.load(S, 0);
      if (free > 0 && bestWaiting() === me && Atomics.compareExchange(S, 0, free, free - 1) === free) {
        Atomics.store(S, STATE(me), 2);
        return;
      }
      const w = waitAsync(S, 1, seen, 20);
      if (w.async) await w.value;
    }
  };
  const giveTurnIfOwed = () => {
    const w = bestWaiting();
    if (w < 0 || Atomics.load(S, LEFT(w)) <= left + MARGIN / UNIT) return false;
    Atomics.store(S, STATE(me), 1);
    Atomics.add(S, 0, 1);
    changed();
    return true;
  };
  // Workers keep the process alive; this keeps it alive while only this thread waits.
  const alive = setInterval(() => {}, 1000);
  const buf = Buffer.allocUnsafe(CHUNK);
  try {
    await takeTurn();
    let rest = ids.reduce((n, id) => n + Math.ceil(jobBytes(jobs[id]) / UNIT), 0);
    for (const id of ids) {
      const job = jobs[id];
      let fd = -1;
      let r: HashResult;
      try {
        fd = openSync(job.path, job.noFollow ? constants.O_RDONLY | constants.O_NOFOLLOW : 'r');
        const h = createHash(job.algorithm);
        const start = job.start ?? 0;
        const end = job.end ?? Number.POSITIVE_INFINITY;
        let pos = start;
        let sinceLook = 0;
        while (pos < end) {
          const n = readSync(fd, buf, 0, Math.min(buf.length, end - pos), pos);
          if (n === 0) break;
          h.update(buf.subarray(0, n));
          pos += n;
          sinceLook += n;
          if (sinceLook >= BATCH) {
            setLeft(left - Math.floor(sinceLook / UNIT));
            sinceLook %= UNIT;
            if (giveTurnIfOwed()) await takeTurn();
            else await new Promise((res) => setImmediate(res));
          }
        }
        r = { digest: h.digest('hex'), bytes: pos - start };
      } catch (err) {
        throw fail(job, (err as NodeJS.ErrnoException).code ?? (err as Error).message);
      } finally {
        if (fd >= 0) closeSync(fd);
      }
      if (!done(id, checkSize(job, r))) return;
      rest -= Math.ceil(jobBytes(job) / UNIT);
      setLeft(rest);
    }
  } finally {
    clearInterval(alive);
    Atomics.store(S, STATE(me), 3);
    Atomics.add(S, 0, 1);
    changed();
  }
}

/** Shard boundaries as the OpenSSF model-signing format cuts them: [0,s), [s,2s), ..., last ends at size. */
export function shardRanges(size: number, shardSize: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  if (size <= 0) return out;
  let start = 0;
  for (let end = shardSize; end < size; end += shardSize) {
    out.push([start, end]);
    start = end;
  }
  out.push([start, size]);
  return out;
}
