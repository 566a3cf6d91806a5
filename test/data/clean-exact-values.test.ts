/**
 * A clean batch of a table whose exact values repeat and carry the label: hourly pay in round amounts, restated
 * in one year's money, so an exact figure names the year it was paid in, while its size says little. Rows
 * repeat (many people earn the same round amount). A model of every trusted row reads a batch row whose exact
 * figure some trusted row has far more surely than the cross-validated reference reads the trusted rows (their
 * folds never see their own figure). The label tests must read the batch as the reference reads the trusted rows,
 * or clean rows of the weaker reading's tail are quarantined by the thousand (15% of a real survey's rows before).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { audit } from '../../src/data/audit.js';
import { rng, tmpDir, writeCsv } from './helpers.js';

const YEARS = [1992, 1994, 1996, 1998, 2000, 2002, 2004];
const DEFLATOR = [1.35, 1.28, 1.21, 1.16, 1.1, 1.05, 1];
const WAGES = [5, 6, 7, 7.5, 8, 9, 10, 11, 12, 12.5, 13, 14, 15, 16, 18, 20, 22, 25, 30, 35];

function rows(n: number, r: () => number, prefix: string): string[][] {
  return Array.from({ length: n }, (_, i) => {
    const y = Math.floor(r() * YEARS.length);
    // Pay rises a little over the years; the amount is one of the round figures people are paid.
    const w = WAGES[Math.min(WAGES.length - 1, Math.floor(r() ** 1.6 * WAGES.length + y * 0.3))];
    return [`${prefix}${i}`, r() < 0.5 ? 'male' : 'female', (w * DEFLATOR[y]).toFixed(6), String(YEARS[y])];
  });
}

describe('clean batch of repeated exact values that carry the label', () => {
  it('quarantines at most 0.2% of rows and raises no high finding', async () => {
    for (const seed of [1, 2]) {
      const r = rng(seed);
      const dir = tmpDir();
      const trusted = join(dir, 'trusted.csv');
      const incoming = join(dir, 'incoming.csv');
      writeCsv(trusted, ['id', 'gender', 'earnings', 'year'], rows(1000, r, 'tr'));
      const batch = rows(4000, r, 'in');
      writeCsv(incoming, ['id', 'gender', 'earnings', 'year'], batch);
      const report = await audit({ trusted, incoming, label: 'year', id: 'id' });
      const high = report.findings.filter((f) => f.severity === 'high' || f.severity === 'critical');
      expect(high.map((f) => `seed ${seed} ${f.rule}: ${f.message}`)).toEqual([]);
      expect(report.summary.quarantined).toBeLessThanOrEqual(0.002 * batch.length);
    }
  }, 120_000);
});
