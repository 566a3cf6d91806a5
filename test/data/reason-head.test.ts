/** The text summary groups quarantined rows by their main reason without its details. */
import { describe, expect, it } from 'vitest';
import { reasonHead } from '../../src/data/audit.js';

describe('reasonHead', () => {
  it('drops the parenthesised details of a reason', () => {
    expect(
      reasonHead('label spam unlikely under the trusted model (P=0.04), confident learning agrees'),
    ).toBe('label spam unlikely under the trusted model');
  });
  it('keeps a quoted name that holds a parenthesis (the text summary printed `source "` for a cohort)', () => {
    const r =
      'source "(15 new accounts)" labels T-shirt/top rows the reference model reads as Bag 15× as often as its peers, and this row is one';
    expect(reasonHead(r)).toBe(r);
    expect(
      reasonHead(
        'labeler "ann (night shift)" flips labels beyond its flagged cells (about 30% of its other rows)',
      ),
    ).toBe('labeler "ann (night shift)" flips labels beyond its flagged cells');
  });
});
