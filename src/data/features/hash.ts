/**
 * 32-bit hashing for the feature-hashing trick (Weinberger et al. 2009). Hand-written because it is a few
 * lines, runs in the innermost loops over millions of tokens, and must give the same value in every
 * module (trigger mining, models, reports) without allocating.
 */

/** FNV-1a over UTF-16 code units of s[start, end), lower-casing ASCII letters on the fly. */
export function hashRange(s: string, start: number, end: number, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = start; i < end; i++) {
    let c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    h ^= c & 0xff;
    h = Math.imul(h, 0x01000193);
    if (c > 0xff) {
      h ^= c >>> 8;
      h = Math.imul(h, 0x01000193);
    }
  }
  return fmix(h);
}

export function hashString(s: string, seed?: number): number {
  return hashRange(s, 0, s.length, seed);
}

/** MurmurHash3's finaliser: spreads the bits so low bits can be used as a bucket. */
export function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Order-sensitive combination of two hashes (n-grams, feature=value pairs). */
export function combine(a: number, b: number): number {
  return fmix((Math.imul(a, 0x9e3779b1) ^ (b + 0x7f4a7c15 + (a << 6) + (a >>> 2))) >>> 0);
}

/** Hash of an ordered sequence of hashes, tagged with its length so "a b" and "a" never meet. */
export function combineMany(hs: ArrayLike<number>, start: number, len: number): number {
  let h = fmix(0x2545f491 + len);
  for (let i = 0; i < len; i++) h = combine(h, hs[start + i]);
  return h;
}
