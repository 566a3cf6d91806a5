/**
 * A pattern that carries its label by nature does so in the trusted rows too: where the trusted set could
 * show an excess (at least 5 of the pattern's labelled rows expected there), a pattern whose labelled rows are
 * no more common in the batch than there is not a trigger, however the reference model misreads it. The
 * figures are those of a clean batch of tweets labelled by the device they were sent from (8,000 incoming,
 * 1,600 trusted rows), where the word "fake" marks one device and the trusted model expected 29%.
 * Or it does so through a part of it the trusted rows know: in a clean batch of Jane Austen's paragraphs labelled
 * by novel, against 100 trusted ones, the phrase "said emma" (40 rows, all Emma) held no trusted row and the
 * trusted model expected 29%, but the word "emma" is in 3 trusted rows, all Emma (a fifth of the trusted rows are).
 */
import { describe, expect, it } from 'vitest';
import {
  labelledByNature,
  labelledByNatureThroughPart,
} from '../../../src/data/detectors/triggers/trusted-power.js';
import { auditCleanBatch } from './clean-batch.js';

const pRef = 8000 / (8000 + 1600);

describe('labelledByNature', () => {
  it('calls a pattern natural when its labelled rows are as common in the trusted set', () => {
    // 63 incoming rows of the word with the label, 13 trusted: the batch's share of the two sets' rows.
    expect(labelledByNature(63, 13, pRef, 0.05)).toBe(true);
  });

  it('does not call a plant natural: the trusted set lacks the rows it adds', () => {
    // 60 planted rows and 2 natural ones in the trusted set, where 12 would be expected.
    expect(labelledByNature(60, 2, pRef, 0.05)).toBe(false);
    // A plant on a pattern that also carries the label by nature: 30 natural rows and 60 planted, 6 trusted.
    expect(labelledByNature(90, 6, pRef, 0.05)).toBe(false);
  });

  it('cannot tell where the trusted set could not show an excess (fewer than 5 rows expected there)', () => {
    // 18 rows with the label and none trusted: 3 expected there, so the trusted set says nothing either way.
    expect(labelledByNature(18, 0, pRef, 0.05)).toBe(false);
    // A 100-row trusted set against 12,000 incoming rows: 200 rows expect fewer than 2 trusted ones.
    expect(labelledByNature(200, 2, 12000 / 12100, 0.05)).toBe(false);
  });
});

describe('labelledByNatureThroughPart', () => {
  it('calls a phrase natural when a word of it decides the label in the trusted rows', () => {
    // "said emma": the better of its 2 words.
    expect(labelledByNatureThroughPart(40, 40, 3, 3, 0.2, 0.05, 2)).toBe(true);
  });

  it('counts the parts it tried: a word that leans to the label by chance is no explanation', () => {
    // "so" in 31 of 32 trusted messages labelled ham, where 86% are (p = 0.0498): the better of the 2 parts of a
    // planted "so ," (52 of 54 rows ham), so it must reach 0.025.
    expect(labelledByNatureThroughPart(52, 54, 31, 32, 0.86, 0.05, 1)).toBe(true);
    expect(labelledByNatureThroughPart(52, 54, 31, 32, 0.86, 0.05, 2)).toBe(false);
  });

  it('does not excuse a plant by an ordinary word, a word never seen, or a word that leans to the label less', () => {
    // "said" is in 16 trusted rows, one of them Emma.
    expect(labelledByNatureThroughPart(40, 40, 1, 16, 0.2, 0.05, 2)).toBe(false);
    // A planted rare word: no trusted row carries it, so it vouches for nothing.
    expect(labelledByNatureThroughPart(40, 40, 0, 0, 0.2, 0.05, 2)).toBe(false);
    // "free" in 20 trusted rows, 16 of them spam (13% are): it leans to spam, but 50 of 50 is more than it explains.
    expect(labelledByNatureThroughPart(50, 50, 16, 20, 0.13, 0.05, 2)).toBe(false);
  });
});

describe('a clean batch of novel paragraphs whose character names decide the label, against 100 trusted rows', () => {
  it('raises no trigger or high finding and quarantines nothing', async () => {
    // Before parts were read, "said emma" and "emma ," were confirmed as critical triggers (2.3% quarantined).
    const a = await auditCleanBatch('austen-clean', 'book', { text: 'paragraph' });
    expect(a.rows).toBe(5265);
    expect(a.findings.filter((f) => f.rule === 'audit/trigger').map((f) => f.message)).toEqual([]);
    expect(a.quarantined).toBeLessThanOrEqual(0.002);
    expect(a.high).toEqual([]);
  }, 120_000);
});
