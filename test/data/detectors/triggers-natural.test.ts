/**
 * A pattern that carries its label by nature does so in the trusted rows too: where the trusted set could
 * show an excess (at least 5 of the pattern's labelled rows expected there), a pattern whose labelled rows are
 * no more common in the batch than there is not a trigger, however the reference model misreads it. The
 * figures are those of a clean batch of tweets labelled by the device they were sent from (8,000 incoming,
 * 1,600 trusted rows), where the word "fake" marks one device and the trusted model expected 29%.
 */
import { describe, expect, it } from 'vitest';
import { labelledByNature } from '../../../src/data/detectors/triggers/trusted-power.js';

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
