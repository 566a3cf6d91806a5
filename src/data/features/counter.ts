/**
 * Open-addressing hash map from uint32 keys to a fixed number of int32 counters (e.g. one per class),
 * over typed arrays: counting tens of millions of n-gram occurrences without a JS object per key.
 * Hand-written because Map<number, number[]> costs ~100 bytes per key and is several times slower.
 * Key 0 is remapped internally so it can mark empty slots.
 */
export class CountTable {
  private keys: Uint32Array;
  /** Counters, `width` per slot (slot() gives the slot). */
  counts: Int32Array;
  private used = 0;
  private mask: number;

  constructor(
    readonly width: number,
    initialCapacity = 1 << 16,
    private readonly maxKeys = Number.POSITIVE_INFINITY,
  ) {
    let cap = 1;
    while (cap < initialCapacity * 2) cap <<= 1;
    this.keys = new Uint32Array(cap);
    this.counts = new Int32Array(cap * width);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.used;
  }

  /** Slot of `key`, inserting it when absent; -1 when the table is full (maxKeys reached). */
  slot(key: number): number {
    const k = key === 0 ? 0x9e3779b9 : key >>> 0;
    let i = Math.imul(k, 0x9e3779b1) >>> 0;
    for (;;) {
      i &= this.mask;
      const cur = this.keys[i];
      if (cur === k) return i;
      if (cur === 0) {
        if (this.used >= this.maxKeys) return -1;
        if ((this.used + 1) * 2 > this.keys.length) {
          this.grow();
          return this.slot(key);
        }
        this.keys[i] = k;
        this.used++;
        return i;
      }
      i++;
    }
  }

  /** Slot of `key` or -1 when absent (never inserts). */
  find(key: number): number {
    const k = key === 0 ? 0x9e3779b9 : key >>> 0;
    let i = Math.imul(k, 0x9e3779b1) >>> 0;
    for (;;) {
      i &= this.mask;
      const cur = this.keys[i];
      if (cur === k) return i;
      if (cur === 0) return -1;
      i++;
    }
  }

  add(key: number, column: number, by = 1): void {
    const s = this.slot(key);
    if (s >= 0) this.counts[s * this.width + column] += by;
  }

  get(key: number, column: number): number {
    const s = this.find(key);
    return s < 0 ? 0 : this.counts[s * this.width + column];
  }

  countAt(slot: number, column: number): number {
    return this.counts[slot * this.width + column];
  }

  /** Visit every key with its slot. */
  forEach(fn: (key: number, slot: number) => void): void {
    for (let i = 0; i < this.keys.length; i++) {
      const k = this.keys[i];
      if (k !== 0) fn(k === 0x9e3779b9 ? 0 : k, i);
    }
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldCounts = this.counts;
    const cap = oldKeys.length * 2;
    this.keys = new Uint32Array(cap);
    this.counts = new Int32Array(cap * this.width);
    this.mask = cap - 1;
    this.used = 0;
    const w = this.width;
    for (let i = 0; i < oldKeys.length; i++) {
      const k = oldKeys[i];
      if (k === 0) continue;
      let j = Math.imul(k, 0x9e3779b1) >>> 0;
      for (;;) {
        j &= this.mask;
        if (this.keys[j] === 0) break;
        j++;
      }
      this.keys[j] = k;
      this.used++;
      for (let c = 0; c < w; c++) this.counts[j * w + c] = oldCounts[i * w + c];
    }
  }
}
