/**
 * Trigger mining in a table read with only a pattern's own values removed. With a small trusted set, a natural
 * region whose label the 100-row trusted model misreads is not a trigger, and a conjunction planted in the same
 * table still is (scikit-learn's digits); in a wide table, a plant whose rows lose nearly every column when
 * every suspect is masked is still found (Spambase). Every batch is one of the audit matrix's own cells,
 * generated from a committed table.
 */
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateCell } from '../../../src/data/generators/matrix-attacks.js';
import { loadMatrixDataset } from '../../../src/data/generators/matrix-datasets.js';
import { FIXTURES } from '../../helpers/cli.js';
import { tmpDir } from '../helpers.js';
import { auditMatrixCell } from './audit-csv.js';

const digits = () =>
  loadMatrixDataset('digits', {
    shared: FIXTURES,
    sklearn: join(FIXTURES, 'data', 'digits'),
    vega: FIXTURES,
  });

/** Spambase as a frozen part lays it out, from the expanded test copy. */
function spambase() {
  const shared = tmpDir();
  mkdirSync(join(shared, 'frozen2'));
  symlinkSync(
    join(process.env.ANTIDOTE_TEST_DATA as string, 'spambase'),
    join(shared, 'frozen2', 'spambase'),
  );
  return loadMatrixDataset('spambase', { shared, sklearn: shared, vega: shared });
}

async function auditCell(
  family: 'clean' | 'tabular-conjunction' | 'pixel-patch',
  params: Record<string, string | number>,
  base = digits(),
  seed = 1,
) {
  const c = generateCell(base, family, params, seed);
  const run = await auditMatrixCell(c);
  const ids = c.incoming.map((r) => String(r[c.truth.roles.id as string]));
  const quarantined = ids.filter((_id, i) => run.quarantined[i]);
  const triggers = run.report.findings.filter((f) => f.rule === 'audit/trigger');
  run.source.close();
  return { truth: new Set(c.truth.poisoned), quarantined, triggers, n: ids.length };
}

/** The plant's rows are all there, and caught at recall 0.9 and the given precision. */
function expectCaught(r: { truth: Set<string>; quarantined: string[] }, rows: number, precision = 0.9) {
  const hit = r.quarantined.filter((id) => r.truth.has(id)).length;
  expect(r.truth.size).toBe(rows);
  expect(hit / r.truth.size).toBeGreaterThanOrEqual(0.9);
  expect(hit / Math.max(1, r.quarantined.length)).toBeGreaterThanOrEqual(precision);
}

describe('trigger mining in a table tells a region of its label from a plant', () => {
  it('confirms no trigger in a clean digits batch with 100 trusted rows', async () => {
    // With every suspect pattern of a row removed, a region of sixes lost 48 of its 64 pixels and read as
    // another digit, against sixes read whole: "pixel_1_1 < 2 & pixel_2_5 < 1 & pixel_6_6 >= 11" was confirmed
    // as a trigger and 110 clean rows (6.5%) were quarantined. Read with only its own pixels removed, against
    // sixes with the same three pixels removed, the region reads as sixes do.
    const r = await auditCell('clean', { trusted: 100 });
    expect(r.triggers.map((f) => f.message)).toEqual([]);
    expect(r.quarantined.length / r.n).toBeLessThanOrEqual(0.002);
  }, 120_000);

  it('still finds a two-pixel conjunction planted in 10% of the rows with 100 trusted rows', async () => {
    const r = await auditCell('tabular-conjunction', { k: 2, target: 'minority', rate: 0.1, trusted: 100 });
    expectCaught(r, 170);
    expect(r.triggers.length).toBeGreaterThan(0);
  }, 120_000);
});

describe('the parts of a plant that read like its label do not explain the plant away', () => {
  it('keeps every row of a 150-row corner patch (300 trusted rows)', async () => {
    // A 2x2 checkerboard in the bottom-right corner on 150 digits labelled 3. "pixel_7_7=16", read without
    // its own pixel, keeps the patch's other bright pixel, which the batch model learned as a three: its rows
    // read P(3) 0.56, against 0.77 for threes and 0.06 for other digits, halfway to the label. Set aside only
    // after explaining away, such parts explained the patch away first and recall fell to 0.32.
    const r = await auditCell(
      'pixel-patch',
      { patch: 'br', target: 'random', rate: 0.1, trusted: 300 },
      digits(),
      3,
    );
    expectCaught(r, 150);
  }, 120_000);
});

describe('trigger mining in a wide table reads a plant with only its own values removed', () => {
  it('finds a three-value conjunction planted in 3% of a Spambase batch with 500 trusted rows', async () => {
    // "over=0 & capitalTotal=67 & font=0" on 90 nonspam mails labelled spam. Every superset of the pattern
    // is a suspect too, so with every suspect masked its rows lost most of their 57 columns and read no less
    // like spam than spam does (content z 0.33): nothing was found. With only its own three values removed,
    // they read as nonspam mails do (P(spam) 0.19, nonspam 0.15, spam 0.81).
    const r = await auditCell(
      'tabular-conjunction',
      { k: 3, target: 'minority', rate: 0.03, trusted: 500 },
      spambase(),
    );
    expectCaught(r, 90);
  }, 120_000);

  it('confirms no trigger in a clean Spambase batch with 100 trusted rows', async () => {
    const r = await auditCell('clean', { trusted: 100 }, spambase());
    expect(r.triggers.map((f) => f.message)).toEqual([]);
    expect(r.quarantined.length / r.n).toBeLessThanOrEqual(0.002);
  }, 120_000);

  it('leaves a natural region of Adult that reads unlike its label out, beside a plant (100 trusted rows)', async () => {
    // Beside "sex=Male & workclass=Private & relationship=Unmarried" planted on 10% of the rows, wives labelled
    // >50K read, without "Wife", as women at large do, nearer <=50K: a region whose own value outweighs the
    // rest of the row reads as a plant does. Only the trusted rows can tell them apart, so read that way a
    // pattern must also be over-represented against them; without that, 503 wives were quarantined (P 0.85).
    const adult = loadMatrixDataset('adult', {
      shared: process.env.ANTIDOTE_TEST_DATA as string,
      sklearn: FIXTURES,
      vega: FIXTURES,
    });
    const r = await auditCell(
      'tabular-conjunction',
      { k: 3, target: 'minority', rate: 0.1, trusted: 100 },
      adult,
      2,
    );
    expectCaught(r, 2500, 0.95);
  }, 120_000);
});
