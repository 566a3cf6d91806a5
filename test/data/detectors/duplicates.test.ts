import { describe, expect, it } from 'vitest';
import { detector } from '../../../src/data/detectors/duplicates.js';
import {
  estimatedJaccard,
  normaliseText,
  permutations,
  shingles,
  signature,
} from '../../../src/data/detectors/lib/minhash.js';
import type { AuditContext, Dataset } from '../../../src/data/detectors/types.js';
import { Rng } from '../../../src/data/generators/rng.js';
import { textSet } from './text-dataset.js';

const WORDS =
  'the a movie film plot actor scene great awful boring long short funny sad story ending music score camera light dark city night day friend family love war money time world life death dream road house car'.split(
    ' ',
  );

function sentence(rng: Rng, len = 9 + rng.int(6)): string {
  return Array.from({ length: len }, () => rng.pick(WORDS)).join(' ');
}

function ctxOf(trusted: Dataset, incoming: Dataset, text = true): AuditContext {
  return {
    trusted,
    incoming,
    roles: text ? { label: 'y', text: 't', features: [] } : { label: 'y', features: ['a', 'b'] },
    classes: ['0', '1'],
    settings: {},
    shared: {},
    seed: 3,
  };
}

/** Change one word of a sentence and its punctuation/case: a near copy. */
function nearCopy(rng: Rng, s: string): string {
  const w = s.split(' ');
  w[rng.int(w.length)] = rng.pick(WORDS);
  return `${w.join(' ').toUpperCase()} !!`;
}

describe('duplicates detector', () => {
  it('MinHash estimates Jaccard similarity of word shingles', () => {
    const perm = permutations(128, 1);
    const sig = new Uint32Array(128 * 3);
    const texts = ['a b c d e f g h i j', 'a b c d e f g h i x', 'k l m n o p q r s t'];
    for (const [i, t] of texts.entries())
      signature(shingles(normaliseText(t), 2), perm, sig.subarray(i * 128, (i + 1) * 128));
    // Unigrams and bigrams: 9 + 8 shared of 11 + 10: Jaccard 17/21.
    expect(estimatedJaccard(sig, 128, 0, 1)).toBeGreaterThan(0.6);
    expect(estimatedJaccard(sig, 128, 0, 1)).toBeLessThan(0.95);
    expect(estimatedJaccard(sig, 128, 0, 2)).toBeLessThan(0.1);
  });

  it('quarantines (near) copies of trusted rows that carry the other label, and floods of near copies', async () => {
    const rng = new Rng(1);
    const trustedTexts = Array.from({ length: 300 }, () => sentence(rng));
    const trustedLabels = trustedTexts.map(() => rng.int(2));
    const inc: string[] = [];
    const labels: number[] = [];
    const flipped = new Set<number>();
    const flood = new Set<number>();
    for (let i = 0; i < 600; i++) {
      inc.push(sentence(rng));
      labels.push(rng.int(2));
    }
    for (let i = 0; i < 20; i++) {
      const t = rng.int(300);
      flipped.add(inc.length);
      inc.push(i % 2 ? trustedTexts[t] : nearCopy(rng, trustedTexts[t]));
      labels.push(1 - trustedLabels[t]);
    }
    const seed = sentence(rng, 14);
    for (let i = 0; i < 40; i++) {
      flood.add(inc.length);
      inc.push(nearCopy(rng, seed));
      labels.push(1);
    }
    const out = await detector.run(ctxOf(textSet(trustedTexts, trustedLabels), textSet(inc, labels)));
    const q = new Set(out.rows.filter((r) => r.score >= 0.5).map((r) => r.row));
    for (const r of flipped) expect(q.has(r)).toBe(true);
    const floodCaught = [...flood].filter((r) => q.has(r)).length;
    expect(floodCaught).toBeGreaterThanOrEqual(36);
    expect([...q].every((r) => flipped.has(r) || flood.has(r))).toBe(true);
    expect(out.findings.some((f) => f.message.startsWith('Flood'))).toBe(true);
    expect(out.findings.some((f) => /copy a trusted row but carry another label/.test(f.message))).toBe(true);
  });

  it('flags exact tabular copies of trusted rows with another label for review', async () => {
    const mk = (a: number[], b: string[], y: number[]): Dataset => ({
      n: a.length,
      ids: a.map((_, i) => `r${i}`),
      labels: Int32Array.from(y),
      numeric: new Map([['a', Float64Array.from(a)]]),
      categorical: new Map([
        ['b', { codes: Int32Array.from(b.map((v) => ['x', 'y', 'z'].indexOf(v))), values: ['x', 'y', 'z'] }],
      ]),
    });
    const trusted = mk([1, 2, 3, 4], ['x', 'y', 'z', 'x'], [0, 1, 0, 1]);
    const incoming = mk([1, 2, 3.5, 4, 4], ['x', 'y', 'z', 'y', 'x'], [1, 1, 1, 0, 0]);
    const out = await detector.run(ctxOf(trusted, incoming, false));
    // Row 0 copies trusted (1, x) labelled 0; row 4 copies (4, x) labelled 1. Rows 1-3 are not contradictions.
    // Identical features with another label happen naturally in tables: flagged for review, not quarantined.
    expect(out.rows.map((r) => r.row).sort()).toEqual([0, 4]);
    expect(out.rows.every((r) => r.score > 0 && r.score < 0.5)).toBe(true);
    expect(out.findings.some((f) => /copy a trusted row but carry another label/.test(f.message))).toBe(true);
  });

  it('does not treat empty texts as copies of each other', async () => {
    const rng = new Rng(9);
    const t = Array.from({ length: 50 }, () => sentence(rng));
    const inc = [...Array.from({ length: 50 }, () => sentence(rng)), ...new Array(30).fill('  ')];
    const out = await detector.run(
      ctxOf(
        textSet(
          t,
          t.map(() => 0),
        ),
        textSet(
          inc,
          inc.map((_, i) => i % 2),
        ),
      ),
    );
    expect(out.rows).toEqual([]);
    expect(out.findings).toEqual([]);
  });

  it('stays quiet on a clean batch with ordinary repeats', async () => {
    for (const s of [2, 3, 4]) {
      const rng = new Rng(s);
      const trustedTexts = Array.from({ length: 400 }, () => sentence(rng));
      // Ordinary repeats on both sides ("ok see you", "call me later") with consistent labels.
      const common = ['ok see you', 'call me later', 'thanks a lot'];
      const t = [...trustedTexts, ...common, ...common];
      const tl = t.map((x) => (common.includes(x) ? 0 : rng.int(2)));
      const inc = Array.from({ length: 800 }, () => sentence(rng));
      for (let i = 0; i < 6; i++) inc.push(...common);
      const il = inc.map((x) => (common.includes(x) ? 0 : rng.int(2)));
      const out = await detector.run(ctxOf(textSet(t, tl), textSet(inc, il)));
      expect(out.rows.filter((r) => r.score >= 0.5)).toEqual([]);
      expect(out.findings.filter((f) => f.severity === 'high' || f.severity === 'critical')).toEqual([]);
    }
  });
});

describe('natural duplication is not a flood', () => {
  /**
   * A table whose rows are drawn from a small set of value combinations with Zipf-like weights (census-like
   * natural duplicates), labels drawn per row. Trusted and batch are drawn alike; only `flood` adds copies.
   */
  function table(seed: number, trustedRows: number, flood: number) {
    const rng = new Rng(seed);
    const combos = Array.from({ length: 3000 }, () => [rng.int(50), rng.int(40)]);
    const draw = () => combos[Math.floor(combos.length * rng.next() ** 3)];
    const mk = (n: number, extra: number): Dataset => {
      const a: number[] = [];
      const b: number[] = [];
      const y: number[] = [];
      for (let i = 0; i < n; i++) {
        const [u, v] = draw();
        a.push(u);
        b.push(v);
        y.push(rng.next() < 0.3 ? 1 : 0);
      }
      for (let i = 0; i < extra; i++) {
        a.push(7.5);
        b.push(3);
        y.push(1);
      }
      return {
        n: a.length,
        ids: a.map((_, i) => `r${i}`),
        labels: Int32Array.from(y),
        numeric: new Map([['a', Float64Array.from(a)]]),
        categorical: new Map([
          [
            'b',
            {
              codes: Int32Array.from(b),
              values: Array.from({ length: 40 }, (_, i) => `v${i}`),
            },
          ],
        ]),
      };
    };
    return ctxOf(mk(trustedRows, 0), mk(20000, flood), false);
  }

  it('judges the copies a small trusted set lacks by its own sampling, and still finds a real flood', async () => {
    for (const trusted of [100, 4000]) {
      const clean = await detector.run(table(1, trusted, 0));
      expect(clean.findings.filter((f) => f.message.startsWith('Flood'))).toEqual([]);
      expect(clean.rows.filter((r) => r.score >= 0.5)).toEqual([]);
    }
    // 300 copies of one unseen row against 4,000 trusted rows: the trusted set would hold about 60.
    const flooded = await detector.run(table(2, 4000, 300));
    expect(flooded.findings.some((f) => f.message.startsWith('Flood'))).toBe(true);
    expect(flooded.rows.filter((r) => r.score >= 0.5 && r.row >= 20000).length).toBe(300);
  });
});
