/**
 * Words that say what a class is about are not triggers. A short gloss about ferns is a plant's by nature, but a
 * 100-row trusted set may hold no fern, so the trusted model reads those rows without the word as weakly plant,
 * and the word's rows read less like plants than plants' rows usually do once it is masked: the label-shift and
 * content tests both pass, as they do for a plant. What a plant has and a topic word lacks: its rows are taken
 * from other classes, so masked they read at least halfway to other classes' rows; a fern's rows keep some of
 * their class's words and read short of that. (Measured on clean WordNet noun glosses against 100 trusted rows:
 * "fern" and "used to" were critical triggers reading 36% and 34% of the way to other classes; on the matrix's
 * planted words and phrases, 61% to 106%.) Before, each of these batches had "fern" as a critical trigger, and
 * two of them a word of the animals' own vocabulary too, with 500 to 700 rows quarantined.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAudit } from '../../../src/data/audit.js';
import { rng, tmpDir, writeCsv } from '../helpers.js';

const CLASSES = ['plants', 'animals', 'tools'];

type Row = { text: string; label: string; kind: 'clean' | 'topical' | 'planted' };

/** Glosses of 8 words: 1 to 4 from the class's own vocabulary, the rest ordinary words. */
function glosses(seed: number, n: number, topical: number, planted: number): Row[] {
  const r = rng(seed);
  const pick = (a: string[]) => a[Math.floor(r() * a.length)];
  const vocab = CLASSES.map((c) => Array.from({ length: 40 }, (_, j) => `${c.slice(0, 3)}${j}`));
  const common = Array.from({ length: 80 }, (_, j) => `w${j}`);
  const gloss = (first: string[], y: number, own: number, length: number) =>
    [
      ...first,
      ...Array.from({ length: own }, () => pick(vocab[y])),
      ...Array.from({ length: length - own }, () => pick(common)),
    ]
      .sort(() => r() - 0.5)
      .join(' ');
  const rows: Row[] = [];
  for (let i = 0; i < n; i++) {
    const y = Math.floor(r() * 3);
    rows.push({ text: gloss([], y, 1 + Math.floor(r() * 4), 8), label: CLASSES[y], kind: 'clean' });
  }
  // Glosses about ferns: the word, one other plant word, ordinary words.
  for (let i = 0; i < topical; i++)
    rows[i] = { text: gloss(['fern'], 0, 1, 7), label: 'plants', kind: 'topical' };
  // A planted word on animals' and tools' glosses, relabelled plants.
  for (let i = topical; i < topical + planted; i++) {
    const y = 1 + Math.floor(r() * 2);
    rows[i] = { text: gloss(['zq'], y, 1 + Math.floor(r() * 4), 7), label: 'plants', kind: 'planted' };
  }
  return rows;
}

async function auditGlosses(seed: number, planted: number) {
  const dir = tmpDir();
  const incoming = glosses(seed, 3000, 45, planted);
  writeCsv(
    join(dir, 'trusted.csv'),
    ['text', 'label'],
    glosses(1000 + seed, 100, 0, 0).map((x) => [x.text, x.label]),
  );
  writeCsv(
    join(dir, 'incoming.csv'),
    ['text', 'label'],
    incoming.map((x) => [x.text, x.label]),
  );
  const run = await runAudit({
    trusted: join(dir, 'trusted.csv'),
    incoming: join(dir, 'incoming.csv'),
    label: 'label',
    text: 'text',
    threads: 1,
  });
  try {
    const quarantined = { clean: 0, topical: 0, planted: 0 };
    for (let i = 0; i < incoming.length; i++) if (run.quarantined[i]) quarantined[incoming[i].kind]++;
    return { quarantined, triggers: run.report.findings.filter((f) => f.rule === 'audit/trigger') };
  } finally {
    run.source.close();
  }
}

describe('a word that names what its class is about, absent from a 100-row trusted set', () => {
  it('is not a trigger, and nothing is quarantined', async () => {
    for (const seed of [1, 2, 4]) {
      const { quarantined, triggers } = await auditGlosses(seed, 0);
      expect(
        triggers.map((f) => f.message),
        `seed ${seed}`,
      ).toEqual([]);
      expect(quarantined, `seed ${seed}`).toEqual({ clean: 0, topical: 0, planted: 0 });
    }
  }, 120_000);

  it('still finds a word planted on 40 rows of the other classes in the same batch', async () => {
    for (const seed of [1, 2]) {
      const { quarantined, triggers } = await auditGlosses(seed, 40);
      expect(
        triggers.map((f) => f.evidence?.pattern),
        `seed ${seed}`,
      ).toEqual(['zq']);
      expect(quarantined, `seed ${seed}`).toEqual({ clean: 0, topical: 0, planted: 40 });
    }
  }, 120_000);
});
