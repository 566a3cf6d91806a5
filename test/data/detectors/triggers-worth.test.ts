/**
 * Clean tables whose labels mix by how their values combine, against a 100-row trusted set: the trusted model is
 * additive, fits its single values' label rates and misreads their combinations, so its prediction for a
 * combination must be worth only what it earns on combinations.
 * - gapminder (continents by year, fertility, population and wealth): measured on the trusted set's
 *   combinations; before it was measured per form, this batch raised three high trigger findings and quarantined
 *   2.6% of its rows (test/fixtures/gapminder-clean/SOURCE.md).
 * - contagious-diseases (seven diseases by state, year and count): seven classes leave too few combinations in
 *   100 trusted rows to measure it there, so it is measured on the batch's own combinations, robustly (a plant
 *   shifts a few of them, nature many); before, this batch raised five critical trigger findings and quarantined
 *   5.8% of its rows (test/fixtures/contagious-clean/SOURCE.md).
 */
import { describe, expect, it } from 'vitest';
import { auditCleanBatch } from './clean-batch.js';

describe('a clean table whose labels mix by combination, against a 100-row trusted set', () => {
  it.each([
    ['gapminder-clean', 'continent'],
    ['contagious-clean', 'disease'],
  ])(
    '%s raises no trigger or high finding and quarantines at most 0.2% of its rows',
    async (fixture, label) => {
      const a = await auditCleanBatch(fixture, label);
      expect(a.rows).toBe(6000);
      expect(a.findings.filter((f) => f.rule === 'audit/trigger').map((f) => f.message)).toEqual([]);
      expect(a.quarantined).toBeLessThanOrEqual(0.002);
      expect(a.high).toEqual([]);
    },
    120_000,
  );
});
