/**
 * Benjamini-Hochberg in which one discovery does not lend its rank to another (trigger mining's final test):
 * a planted phrase confirmed as itself and each of its parts must not loosen the level a chance pattern beside
 * it is held to, while the parts of one plant still vouch for each other as in plain Benjamini-Hochberg, and
 * a discovery is confirmed with every part of it plain Benjamini-Hochberg keeps.
 */
import { describe, expect, it } from 'vitest';
import { benjaminiHochberg, benjaminiHochbergGrouped } from '../../../src/data/stats/tests.js';
import { rng } from '../helpers.js';

// benjaminiHochberg returns a flag per hypothesis of the family (those not listed are never rejected).
const plainOf = (p: number[], q: number, m: number) => benjaminiHochberg(p, q, m).slice(0, p.length);

const q = 0.05;
const m = 1000;

describe('Benjamini-Hochberg over discoveries', () => {
  it('six parts of one plant count once: a chance p-value at rank seven is no longer rejected', () => {
    // Hypotheses 0-5: one planted phrase, its words and 2-grams (tiny p-values, one discovery). 6: a chance
    // pattern at 3 x q / m, which plain Benjamini-Hochberg accepts at rank 7 (7 x q / m).
    const p = [1e-30, 1e-29, 1e-28, 1e-27, 1e-26, 1e-25, (3 * q) / m];
    const group = [0, 0, 0, 0, 0, 0, 1];
    expect(plainOf(p, q, m)).toEqual([true, true, true, true, true, true, true]);
    const { rejected } = benjaminiHochbergGrouped(p, q, m, (h) => group[h]);
    expect(rejected).toEqual([true, true, true, true, true, true, false]);
    // The plant lends it one rank: within 2 x q / m it is rejected, at that level.
    const again = benjaminiHochbergGrouped([...p.slice(0, 6), (2 * q) / m], q, m, (h) => group[h]);
    expect(again.rejected.every(Boolean)).toBe(true);
    expect(again.level[6]).toBeCloseTo((2 * q) / m, 12);
  });

  it("a plant's many parts vouch for each other, as in plain Benjamini-Hochberg", () => {
    // A planted conjunction restated as 200 conjunctions of its values with other columns', none within the
    // level of a lone discovery, and a chance pattern beside them.
    const p = [...Array.from({ length: 200 }, () => (150 * q) / m), (3 * q) / m];
    const group = p.map((_, h) => (h < 200 ? 0 : 1));
    expect(plainOf(p, q, m).every(Boolean)).toBe(true);
    const { rejected, level } = benjaminiHochbergGrouped(p, q, m, (h) => group[h]);
    expect(rejected.slice(0, 200).every(Boolean)).toBe(true);
    // Its rank at its threshold: its own 200 hypotheses and one for the other group.
    expect(level[0]).toBeCloseTo((201 * q) / m, 12);
    expect(rejected[200]).toBe(false);
  });

  it('a discovery is rejected whole: the plant itself rides with a stronger slice of its rows', () => {
    // 0: a slice of a planted conjunction's rows; 1: the plant itself, weaker (8 x q / m); 2-11: a natural region
    // of ten patterns. Plain Benjamini-Hochberg reaches the plant at rank 12 only through the region's patterns;
    // its own discovery is made by the slice, and the plant is part of it.
    const p = [1e-9, (8 * q) / m, ...Array.from({ length: 10 }, () => 1e-8)];
    const group = [0, 0, ...Array.from({ length: 10 }, () => 1)];
    expect(plainOf(p, q, m).every(Boolean)).toBe(true);
    const { rejected } = benjaminiHochbergGrouped(p, q, m, (h) => group[h]);
    expect(rejected.every(Boolean)).toBe(true);
    // A chance pattern of its own at the same p-value is not rejected beside them.
    const chance = benjaminiHochbergGrouped([...p, (8 * q) / m], q, m, (h) => (h === 12 ? 2 : group[h]));
    expect(chance.rejected[12]).toBe(false);
    expect(chance.rejected.slice(0, 12).every(Boolean)).toBe(true);
  });

  it('with every hypothesis its own discovery it is plain Benjamini-Hochberg', () => {
    const r = rng(11);
    for (let t = 0; t < 50; t++) {
      const p = Array.from({ length: 40 }, () => (r() < 0.3 ? r() * 1e-4 : r()));
      const { rejected } = benjaminiHochbergGrouped(p, q, 200, (h) => h);
      expect(rejected).toEqual(plainOf(p, q, 200));
    }
  });

  it('rejects a subset of what plain Benjamini-Hochberg rejects, whatever the grouping', () => {
    const r = rng(12);
    for (let t = 0; t < 50; t++) {
      const p = Array.from({ length: 40 }, () => (r() < 0.4 ? r() * 1e-3 : r()));
      const group = p.map(() => Math.floor(r() * 6));
      const plain = plainOf(p, q, 100);
      const { rejected } = benjaminiHochbergGrouped(p, q, 100, (h) => group[h]);
      rejected.forEach((x, i) => {
        if (x) expect(plain[i]).toBe(true);
      });
    }
  });
});
