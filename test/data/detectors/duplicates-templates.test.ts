/**
 * Texts made from one template ("type genus of the <family>", "@USER thanks for the <thing>") share most of
 * their words and differ in the one rare word that carries their meaning and their label. They are not copies
 * of each other: a trusted "type genus of the Buxaceae" (a plant) says nothing about the label of "type genus
 * of the Felidae" (an animal). Before shingles were weighted by their information, all 49 template rows of
 * this batch formed one near-copy group with the trusted one, and the 45 labelled otherwise were quarantined
 * as contradicting it (a high finding), on a batch with no poison but the copied trusted rows below.
 */
import { describe, expect, it } from 'vitest';
import { detector } from '../../../src/data/detectors/duplicates.js';
import type { AuditContext, Dataset } from '../../../src/data/detectors/types.js';
import { Rng } from '../../../src/data/generators/rng.js';
import { textSet } from './text-dataset.js';

const WORDS =
  'a movie film plot actor scene great awful boring long short funny sad story ending music score camera light dark city night day friend family love war money time world life death dream road house car'.split(
    ' ',
  );

const sentence = (rng: Rng) => Array.from({ length: 9 + rng.int(6) }, () => rng.pick(WORDS)).join(' ');
/** A made-up rare word (a family name, a product). */
const rare = (rng: Rng) => Array.from({ length: 7 }, () => String.fromCharCode(97 + rng.int(26))).join('');

function ctxOf(trusted: Dataset, incoming: Dataset): AuditContext {
  return {
    trusted,
    incoming,
    roles: { label: 'y', text: 't', features: [] },
    classes: ['animal', 'plant'],
    settings: {},
    shared: {},
    seed: 3,
  };
}

describe('texts of one template are not copies of each other', () => {
  for (const seed of [1, 2, 3]) {
    it(`quarantines copied trusted rows with another label, and no template row (seed ${seed})`, async () => {
      const rng = new Rng(seed);
      const trustedTexts = Array.from({ length: 300 }, () => sentence(rng));
      const trustedLabels = trustedTexts.map(() => rng.int(2));
      // The trusted set holds one row of each template, labelled plant.
      trustedTexts.push(`type genus of the ${rare(rng)}`, `@USER @USER thanks for the ${rare(rng)}`);
      trustedLabels.push(1, 1);
      const inc: string[] = [];
      const labels: number[] = [];
      for (let i = 0; i < 600; i++) {
        inc.push(sentence(rng));
        labels.push(rng.int(2));
      }
      // Ordinary repeats, consistently labelled: how often copies in this batch disagree.
      for (const [i, t] of ['ok see you', 'call me later', 'thanks a lot', 'good night'].entries())
        for (let j = 0; j < 6; j++) {
          inc.push(t);
          labels.push(i % 2);
        }
      const template = new Set<number>();
      for (let i = 0; i < 49; i++) {
        template.add(inc.length);
        inc.push(i % 2 ? `type genus of the ${rare(rng)}` : `@USER @USER thanks for the ${rare(rng)}`);
        labels.push(i < 45 ? 0 : 1);
      }
      // Poison: copies of trusted rows, one word changed in every other one, with the other label.
      const flipped = new Set<number>();
      for (let i = 0; i < 20; i++) {
        const t = rng.int(300);
        const words = trustedTexts[t].split(' ');
        if (i % 2) words[rng.int(words.length)] = rng.pick(WORDS);
        flipped.add(inc.length);
        inc.push(words.join(' '));
        labels.push(1 - trustedLabels[t]);
      }
      const out = await detector.run(ctxOf(textSet(trustedTexts, trustedLabels), textSet(inc, labels)));
      const quarantined = out.rows.filter((r) => r.score >= 0.5).map((r) => r.row);
      expect(quarantined.filter((r) => template.has(r))).toEqual([]);
      for (const r of flipped) expect(quarantined).toContain(r);
      const copies = out.findings.find((f) => /copy a trusted row but carry another label/.test(f.message));
      expect(copies?.severity).toBe('high');
      expect(copies?.location?.rowCount).toBe(flipped.size);
    });
  }
});

describe('a batch made of one template', () => {
  it('judges each row against the trusted rows that could be near it, not every trusted row of its group', async () => {
    // 5,000 trusted and 20,000 incoming rows "order <number> shipped to <city> on monday": plain word overlap
    // chains each city into one group of 12,500 rows; every incoming row against every trusted row of its group
    // is 50 million comparisons (40 s), where the index of each row's rarest words leaves almost none.
    const rng = new Rng(4);
    const cities = ['paris', 'berlin'];
    const make = (n: number) => {
      const texts: string[] = [];
      const labels: number[] = [];
      for (let i = 0; i < n; i++) {
        const c = rng.int(cities.length);
        texts.push(`order ${1_000_000 + rng.int(9_000_000)} shipped to ${cities[c]} on monday`);
        labels.push(c);
      }
      return textSet(texts, labels);
    };
    const trusted = make(5000);
    const incoming = make(20000);
    const t0 = performance.now();
    const out = await detector.run(ctxOf(trusted, incoming));
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(out.rows.filter((r) => r.score >= 0.5)).toEqual([]);
  }, 60_000);
});
