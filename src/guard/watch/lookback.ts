/**
 * Earlier requests that carry a trigger learned later. guard/learned-trigger confirms a trigger only after
 * occlusion has blamed it on several requests, so the requests that taught it, and others carrying it that no
 * check flagged, have already been answered. The engine keeps the last `max` checked instances (references to
 * their request batches, nothing copied) with the answer the model gave each, and when a trigger is learned
 * returns those that carry it and were not flagged, each once: their answers cannot be recalled, but a security
 * team needs to know which requests to look at. The memory is the process's own; a restart starts it empty.
 */
import type { InputBatch } from '../../gate/models/types.js';
import { carries, type Learned } from '../checks/learned-trigger.js';

/** Instances kept: at most a few megabytes of references for the request sizes the proxy accepts. */
export const DEFAULT_LOOKBACK = 20_000;

interface Entry<T> {
  batch: InputBatch;
  tag: T;
  predicted: Int32Array;
  /** Already reported: flagged by a check when it was checked, or found here for an earlier trigger. */
  done: Uint8Array;
}

export interface EarlierCarrier<T> {
  tag: T;
  /** The instance's index in its request (0-based). */
  index: number;
  predicted: number;
  learned: Learned;
}

export class LookBack<T> {
  private entries: Entry<T>[] = [];
  private size = 0;

  constructor(private readonly max = DEFAULT_LOOKBACK) {}

  /** Keep one checked request: its instances, the class the model answered each, and which of them were flagged. */
  add(batch: InputBatch, tag: T, predicted: ArrayLike<number>, done: (i: number) => boolean): void {
    if (this.max <= 0 || !batch.n) return;
    const e: Entry<T> = {
      batch,
      tag,
      predicted: Int32Array.from(predicted),
      done: Uint8Array.from({ length: batch.n }, (_, i) => (done(i) ? 1 : 0)),
    };
    this.entries.push(e);
    this.size += batch.n;
    while (this.entries.length > 1 && this.size > this.max)
      this.size -= (this.entries.shift() as Entry<T>).batch.n;
  }

  /** The kept instances that carry one of `learned` and were not reported before. */
  carriers(learned: Learned[]): EarlierCarrier<T>[] {
    const out: EarlierCarrier<T>[] = [];
    if (!learned.length) return out;
    for (const e of this.entries)
      for (let i = 0; i < e.batch.n; i++) {
        if (e.done[i]) continue;
        const tokens = new Map<string, string[]>();
        const l = learned.find((x) => carries(x, e.batch, i, e.predicted[i], tokens));
        if (!l) continue;
        e.done[i] = 1;
        out.push({ tag: e.tag, index: i, predicted: e.predicted[i], learned: l });
      }
    return out;
  }

  /** Instances kept. */
  get instances(): number {
    return this.size;
  }
}
