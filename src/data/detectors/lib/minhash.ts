/**
 * MinHash signatures and banded locality-sensitive hashing for near-duplicate text.
 * Hand-written: it is ~100 lines over typed arrays, and the npm MinHash packages are unmaintained or allocate
 * an object per shingle, which a million-row batch cannot afford. The signature used by the audit is
 * one-permutation hashing with densification (Li, Owen & Zhang 2012; Shrivastava & Li 2014): one hash per
 * shingle instead of one per shingle and permutation, so its cost does not grow with the signature length.
 */
import { fmix32 } from './hash.js';

/** Lower-case, strip punctuation, collapse whitespace: what counts as "the same words". */
export function normaliseText(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/**
 * Shingle hashes of a normalised text: every word n-gram for n = 1..k (unigrams keep one substituted word from
 * costing a short text most of its shingles; longer n-grams keep word order). Empty text: no shingles.
 * Repeated shingles may appear more than once (harmless for MinHash; `jaccard` counts distinct ones).
 */
export function shingles(norm: string, k: number): Uint32Array {
  if (!norm) return new Uint32Array(0);
  // Word hashes (FNV-1a) straight from the string: no split, no intermediate arrays.
  const words: number[] = [];
  let h = 0x811c9dc5;
  let inWord = false;
  for (let i = 0; i < norm.length; i++) {
    const c = norm.charCodeAt(i);
    if (c === 32) {
      if (inWord) words.push(fmix32(h));
      h = 0x811c9dc5;
      inWord = false;
    } else {
      h = Math.imul(h ^ c, 0x01000193);
      inWord = true;
    }
  }
  if (inWord) words.push(fmix32(h));
  const n = Math.max(1, k);
  let total = 0;
  for (let g = 1; g <= n; g++) total += Math.max(0, words.length - g + 1);
  const out = new Uint32Array(total);
  let o = 0;
  for (let g = 1; g <= n; g++) {
    for (let i = 0; i + g <= words.length; i++) {
      let x = 0x9e3779b9 ^ g;
      for (let j = 0; j < g; j++) x = fmix32((x ^ words[i + j]) + j);
      out[o++] = x;
    }
  }
  return out;
}

/** Sorted distinct values of a shingle list (for `jaccard`). */
export function sortedSet(a: Uint32Array): Uint32Array {
  const s = Uint32Array.from(a).sort();
  let k = 0;
  for (let i = 0; i < s.length; i++) if (i === 0 || s[i] !== s[i - 1]) s[k++] = s[i];
  return s.subarray(0, k);
}

/** Exact Jaccard similarity of two sorted distinct shingle lists (a merge, no allocation). */
export function jaccard(a: Uint32Array, b: Uint32Array): number {
  let i = 0;
  let j = 0;
  let inter = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      inter++;
      i++;
      j++;
    } else if (a[i] < b[j]) i++;
    else j++;
  }
  const union = a.length + b.length - inter;
  return union ? inter / union : 1;
}

/** Per-permutation multipliers and offsets derived from a seed (odd multipliers keep the map a bijection). */
export function permutations(count: number, seed: number): { a: Uint32Array; b: Uint32Array } {
  const a = new Uint32Array(count);
  const b = new Uint32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = fmix32(s + 0x9e3779b9);
    a[i] = s | 1;
    s = fmix32(s + 0x9e3779b9);
    b[i] = s;
  }
  return { a, b };
}

/** MinHash signature into `out` (length = permutations). Empty shingle sets give all 0xffffffff. */
export function signature(sh: Uint32Array, perm: { a: Uint32Array; b: Uint32Array }, out: Uint32Array): void {
  out.fill(0xffffffff);
  for (let p = 0; p < out.length; p++) {
    const a = perm.a[p];
    const b = perm.b[p];
    let m = 0xffffffff;
    for (let i = 0; i < sh.length; i++) {
      const v = fmix32((Math.imul(sh[i], a) + b) >>> 0);
      if (v < m) m = v;
    }
    out[p] = m;
  }
}

/** Share of equal positions of two signatures: an unbiased estimate of the Jaccard similarity. */
export function estimatedJaccard(sigs: Uint32Array, perms: number, i: number, j: number): number {
  let eq = 0;
  const oi = i * perms;
  const oj = j * perms;
  for (let p = 0; p < perms; p++) if (sigs[oi + p] === sigs[oj + p]) eq++;
  return eq / perms;
}

/** Hash of one band (rows `r` of the signature starting at band*r) of item i. */
export function bandKey(sigs: Uint32Array, perms: number, i: number, band: number, r: number): number {
  let h = 0x811c9dc5 ^ band;
  const o = i * perms + band * r;
  for (let j = 0; j < r; j++) h = fmix32(h ^ sigs[o + j]);
  return h;
}

/**
 * One-permutation MinHash: each shingle's hash picks a bin and a value; a bin keeps its smallest value.
 * Empty bins (short texts) borrow the value of the next non-empty bin to the right, mixed with the distance
 * (rotation densification), so two texts with the same shingles always get the same signature.
 */
export function onePermutationSignature(sh: Uint32Array, seed: number, out: Uint32Array): void {
  const bins = out.length;
  const EMPTY = 0xffffffff;
  out.fill(EMPTY);
  if (sh.length === 0) return;
  for (let i = 0; i < sh.length; i++) {
    const h = fmix32((sh[i] ^ seed) >>> 0);
    const bin = h % bins;
    const v = fmix32((h + 0x9e3779b9) >>> 0) >>> 1; // 31 bits: never the EMPTY marker
    if (v < out[bin]) out[bin] = v;
  }
  for (let b = 0; b < bins; b++) {
    if (out[b] !== EMPTY) continue;
    let d = 1;
    while (out[(b + d) % bins] === EMPTY || out[(b + d) % bins] >= 0x80000000) d++;
    out[b] = 0x80000000 | (fmix32((out[(b + d) % bins] + Math.imul(d, 0x85ebca6b)) >>> 0) >>> 1);
  }
}

/**
 * Information of every shingle in `flat` (the sorted distinct shingles of `texts` distinct texts, concatenated):
 * ln((texts + 1) / df), df the number of those texts that hold it. A word or phrase every text holds (a
 * template's fixed part, a placeholder) carries almost none; one that a single text holds carries the most.
 */
export function shingleInformation(flat: Uint32Array, texts: number): Float32Array {
  const sorted = Uint32Array.from(flat).sort();
  const values = new Uint32Array(sorted.length);
  const df = new Uint32Array(sorted.length);
  let u = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) values[u++] = sorted[i];
    df[u - 1]++;
  }
  const w = new Float32Array(flat.length);
  for (let i = 0; i < flat.length; i++) {
    const x = flat[i];
    let lo = 0;
    let hi = u - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (values[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    w[i] = Math.log((texts + 1) / df[lo]);
  }
  return w;
}

/**
 * Weighted Jaccard similarity of two sorted distinct shingle lists with their weights and weight totals: the
 * weight the two share over the weight of their union. Two texts that share only frequent words are far apart.
 */
export function weightedJaccard(
  a: Uint32Array,
  wa: Float32Array,
  totalA: number,
  b: Uint32Array,
  totalB: number,
): number {
  let i = 0;
  let j = 0;
  let inter = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      inter += wa[i];
      i++;
      j++;
    } else if (a[i] < b[j]) i++;
    else j++;
  }
  const union = totalA + totalB - inter;
  return union > 0 ? inter / union : 1;
}
