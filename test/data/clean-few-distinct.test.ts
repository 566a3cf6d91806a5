/**
 * A clean batch of a table of few distinct rows (one yes/no feature, as a screening test against a diagnosis):
 * every row is a copy of a trusted row's content. The batch-level label test compares the batch with the
 * trusted rows' cross-validated reading; it must read both sides with the same models, or the reading of the
 * commonest content differs by a hair between the two and every row of it falls on one side of the clean
 * quartile (a false high "label noise" finding on a third of such splits before).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { audit } from '../../src/data/audit.js';
import { rng, tmpDir, writeCsv } from './helpers.js';

function rows(n: number, r: () => number, prefix: string): string[][] {
  return Array.from({ length: n }, (_, i) => {
    const scan = r() < 0.67 ? 'abnorm' : 'normal';
    const sick = r() < (scan === 'abnorm' ? 0.87 : 0.24);
    return [`${prefix}${i}`, scan, sick ? 'abnorm' : 'normal'];
  });
}

describe('clean batch of a one-feature table against 100 trusted rows', () => {
  it('raises no label-noise finding and no high finding', async () => {
    const alarms: string[] = [];
    for (let seed = 1; seed <= 8; seed++) {
      const r = rng(seed);
      const dir = tmpDir();
      const trusted = join(dir, 'trusted.csv');
      const incoming = join(dir, 'incoming.csv');
      writeCsv(trusted, ['id', 'scan', 'pathology'], rows(100, r, 'tr'));
      writeCsv(incoming, ['id', 'scan', 'pathology'], rows(244, r, 'in'));
      const report = await audit({ trusted, incoming, label: 'pathology', id: 'id' });
      for (const f of report.findings)
        if (f.rule === 'audit/label-noise' || f.severity === 'high' || f.severity === 'critical')
          alarms.push(`seed ${seed} ${f.rule}: ${f.message}`);
    }
    expect(alarms).toEqual([]);
  }, 120_000);
});
