/**
 * The batch is compared with the trusted rows' cross-validated reading, so it must be read the same way: an
 * incoming row that copies a trusted row's content is read by the very model that read that trusted row (the
 * fold that never saw the content), and so gets exactly its probabilities.
 */
import { describe, expect, it } from 'vitest';
import { DISAGREEMENT_DEFAULTS } from '../../../src/data/config.js';
import { rowHashes } from '../../../src/data/features/context.js';
import { CASES } from '../../../src/data/generators/cases.js';
import { contextOf } from '../../../src/data/generators/dataset.js';
import { heldOutProba, modelSettings, trustedFolds, trustedModel } from '../../../src/data/learn/context.js';
import { crossFitReference } from '../../../src/data/learn/reference.js';
import { testData } from '../../helpers/cli.js';

/** Incoming rows that copy a trusted row's content, with the first such trusted row. */
function copies(ctx: ReturnType<typeof contextOf>): Array<[number, number]> {
  const firstTrusted = new Map<number, number>();
  rowHashes(ctx, 'trusted').forEach((h, i) => {
    if (!firstTrusted.has(h)) firstTrusted.set(h, i);
  });
  const out: Array<[number, number]> = [];
  rowHashes(ctx, 'incoming').forEach((h, i) => {
    const t = firstTrusted.get(h);
    if (t !== undefined) out.push([i, t]);
  });
  return out;
}

describe('incoming rows read as held-out trusted rows', () => {
  it('a copy of a trusted row gets the probabilities its trusted original got out of fold', () => {
    const ctx = contextOf(CASES['clean-sms']({ dataDir: testData(), seed: 3 }), 1);
    ctx.settings = { ...DISAGREEMENT_DEFAULTS };
    const K = ctx.classes.length;
    const s = modelSettings({}, K);
    const cv = trustedFolds(ctx, s, { folds: 5, maxTrainRows: DISAGREEMENT_DEFAULTS.maxCvTrainRows });
    const held = heldOutProba(ctx, cv, s.hashBits);
    const whole = trustedModel(ctx, s).proba;
    const pairs = copies(ctx);
    let differs = 0;
    for (const [i, t] of pairs) {
      for (let c = 0; c < K; c++) expect(held[i * K + c]).toBe(cv.proba[t * K + c]);
      if (Math.abs(whole[i * K] - cv.proba[t * K]) > 1e-3) differs++;
    }
    // SMS messages repeat (templates, forwarded texts): many batch rows copy a trusted one, and the model of
    // every trusted row reads them otherwise than their originals were read.
    expect(pairs.length).toBeGreaterThan(20);
    expect(differs).toBeGreaterThan(0);
  }, 60_000);

  it('so does the cross-fit of the trusted rows and a batch folded by content', () => {
    const ctx = contextOf(CASES['clean-sms']({ dataDir: testData(), seed: 3 }), 1);
    ctx.incoming.source = undefined;
    ctx.incoming.labeler = undefined;
    const K = ctx.classes.length;
    const cf = crossFitReference(ctx);
    expect(cf?.foldedBy).toBe('row');
    const pairs = copies(ctx);
    expect(pairs.length).toBeGreaterThan(20);
    for (const [i, t] of pairs)
      for (let c = 0; c < K; c++) expect(cf?.proba[i * K + c]).toBe(cf?.trustedProba[t * K + c]);
  }, 60_000);
});
