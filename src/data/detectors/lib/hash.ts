/** Fast non-cryptographic 32-bit hashing of strings (FNV-1a over UTF-16 code units, murmur3 finaliser). */

export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function hashString(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

/** Combine a running hash with another 32-bit value. */
export function hashCombine(h: number, v: number): number {
  return fmix32((h ^ (v + 0x9e3779b9 + (h << 6) + (h >>> 2))) >>> 0);
}
