/**
 * One window of live traffic, in counts: per scope (overall and each profile slice) the predicted-class counts
 * and, per class, the histogram of its probability in the profile's bins. An instance becomes one small
 * record (its class, its bin per class, the slices it falls in), which is what the state journal stores, so a
 * window rebuilt from its journal after a restart is the window that was being counted.
 */
import type { SliceRule, WatchProfile } from './types.js';

export interface ScopeCounts {
  n: number;
  classes: number[];
  /** k × bins, row-major. */
  hist: number[];
}

export interface WindowCounts {
  index: number;
  /** Epoch ms of the window's first instant (its opening) and of the last instance counted. */
  start: number;
  last: number;
  requests: number;
  overall: ScopeCounts;
  slices: ScopeCounts[];
  /** Instances flagged per instance check. */
  flagged: Record<string, number>;
}

/** One instance: [predicted class, bin of each class's probability..., then the indices of its slices]. */
export type InstanceRecord = [number, number[], number[]];

export function emptyScope(k: number, bins: number): ScopeCounts {
  return { n: 0, classes: new Array(k).fill(0), hist: new Array(k * bins).fill(0) };
}

export function emptyWindow(profile: WatchProfile, index: number, start: number): WindowCounts {
  const k = profile.classes.length;
  const bins = profile.outputs.bins;
  return {
    index,
    start,
    last: start,
    requests: 0,
    overall: emptyScope(k, bins),
    slices: profile.outputs.slices.map(() => emptyScope(k, bins)),
    flagged: {},
  };
}

/** The record of instance i of a probability matrix (row-major n × k). */
export function recordOf(
  probs: Float64Array,
  i: number,
  k: number,
  bins: number,
  slices: number[],
): InstanceRecord {
  let best = 0;
  const b = new Array<number>(k);
  for (let j = 0; j < k; j++) {
    const p = probs[i * k + j];
    if (p > probs[i * k + best]) best = j;
    b[j] = Math.min(bins - 1, Math.max(0, Math.floor(p * bins)));
  }
  return [best, b, slices];
}

function addTo(s: ScopeCounts, r: InstanceRecord, bins: number): void {
  s.n++;
  s.classes[r[0]]++;
  for (let j = 0; j < r[1].length; j++) s.hist[j * bins + r[1][j]]++;
}

/** Count records into a window; a record that does not fit the profile (a corrupt journal) is refused. */
export function addRecords(w: WindowCounts, recs: InstanceRecord[], bins: number): void {
  const k = w.overall.classes.length;
  for (const r of recs) {
    if (!validRecord(r, k, bins, w.slices.length))
      throw new Error('instance record does not fit the profile');
    addTo(w.overall, r, bins);
    for (const s of r[2]) addTo(w.slices[s], r, bins);
  }
}

export function validRecord(r: unknown, k: number, bins: number, slices: number): r is InstanceRecord {
  if (!Array.isArray(r) || r.length !== 3) return false;
  const [c, b, s] = r as [unknown, unknown, unknown];
  if (!Number.isInteger(c) || (c as number) < 0 || (c as number) >= k) return false;
  if (!Array.isArray(b) || b.length !== k || b.some((x) => !Number.isInteger(x) || x < 0 || x >= bins))
    return false;
  return Array.isArray(s) && s.every((x) => Number.isInteger(x) && x >= 0 && x < slices);
}

/**
 * Slice membership compiled once: text columns are tokenised once per instance, not once per slice. Same
 * semantics as the profile's slices (src/guard/slices.ts): a missing column never matches, `eq` compares the
 * trimmed text or the number's decimal form, `range` is [lo, hi), `contains` is a lower-case whitespace token.
 */
export type Row = (column: string) => string | number | null | undefined;

export function compileSlices(rules: SliceRule[]): (row: Row) => number[] {
  const tokenCols = [...new Set(rules.filter((r) => r.op === 'contains').map((r) => r.column))];
  return (row) => {
    const tokens = new Map<string, Set<string>>();
    for (const c of tokenCols) {
      const v = row(c);
      if (typeof v === 'string') tokens.set(c, new Set(v.toLowerCase().split(/\s+/).filter(Boolean)));
    }
    const out: number[] = [];
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i];
      const v = row(r.column);
      if (v === undefined) continue;
      let hit = false;
      switch (r.op) {
        case 'missing':
          hit = v === null || (typeof v === 'number' ? Number.isNaN(v) : v.trim() === '');
          break;
        case 'eq':
          hit =
            typeof v === 'number'
              ? !Number.isNaN(v) && String(v) === r.value
              : typeof v === 'string' && v.trim() === r.value;
          break;
        case 'range':
          hit =
            typeof v === 'number' &&
            !Number.isNaN(v) &&
            (r.lo === null || v >= r.lo) &&
            (r.hi === null || v < r.hi);
          break;
        case 'contains':
          hit = tokens.get(r.column)?.has(r.token) ?? false;
          break;
      }
      if (hit) out.push(i);
    }
    return out;
  };
}
