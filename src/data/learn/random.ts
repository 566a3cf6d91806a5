/** Seeded pseudo-random numbers (mulberry32) so every sample and fold is reproducible. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffleInPlace(a: Int32Array | number[], rand: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

/** k distinct indices from [0, n) (k <= n), seeded. */
export function sampleIndices(n: number, k: number, rand: () => number): Int32Array {
  const out = new Int32Array(Math.min(k, n));
  const seen = new Set<number>();
  let c = 0;
  if (k * 2 > n) {
    const all = new Int32Array(n);
    for (let i = 0; i < n; i++) all[i] = i;
    shuffleInPlace(all, rand);
    return all.slice(0, out.length).sort();
  }
  while (c < out.length) {
    const i = Math.floor(rand() * n);
    if (!seen.has(i)) {
      seen.add(i);
      out[c++] = i;
    }
  }
  return out.sort();
}
