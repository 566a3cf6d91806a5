/**
 * A 100-row trusted set of seven classes has too few combinations of values to measure what the trusted model's
 * expectation is worth on combinations, so it is measured on the batch's own combinations, robustly (a plant
 * shifts a few of them, nature many). Before, this clean batch of yearly disease reports, whose labels mix by year
 * and count in ways an additive model of 100 rows cannot hold, raised five critical trigger findings and
 * quarantined 5.8% of its rows (fixture: test/fixtures/contagious-clean/SOURCE.md).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { runAudit } from '../../../src/data/audit.js';
import { modelWorth, modelWorthRobust } from '../../../src/data/stats/shift.js';
import { rng, tmpDir } from '../helpers.js';

const FIXTURE = join(__dirname, '../../fixtures/contagious-clean');

describe('stats: what a model prediction is worth, measured robustly', () => {
  it('is not set by a few patterns far off the model, and still falls when most patterns are', () => {
    const r = rng(5);
    const binomial = (n: number, p: number) => {
      let k = 0;
      for (let i = 0; i < n; i++) if (r() < p) k++;
      return k;
    };
    const planted = { k: [] as number[], n: [] as number[], s: [] as number[] };
    const spread = { k: [] as number[], n: [] as number[], s: [] as number[] };
    for (let j = 0; j < 400; j++) {
      const n = 10 + Math.floor(r() * 40);
      const m = 0.2 + 0.6 * r();
      // One pattern in twenty carries the label on every row (a plant and the patterns holding it).
      planted.k.push(j % 20 === 0 ? n : binomial(n, m));
      spread.k.push(binomial(n, r() < 0.5 ? 0.05 : 0.95));
      for (const x of [planted, spread]) {
        x.n.push(n);
        x.s.push(n * m);
      }
    }
    expect(modelWorth(planted.k, planted.n, planted.s, 50)).toBeLessThan(20);
    expect(modelWorthRobust(planted.k, planted.n, planted.s, 50)).toBeGreaterThan(25);
    expect(modelWorthRobust(spread.k, spread.n, spread.s, 50)).toBeLessThan(2);
  });
});

describe('a clean table whose labels mix by combination, seven classes against a 100-row trusted set', () => {
  it('raises no trigger and quarantines at most 0.2% of its rows', async () => {
    const dir = tmpDir();
    for (const f of ['trusted.csv', 'incoming.csv'])
      writeFileSync(join(dir, f), gunzipSync(readFileSync(join(FIXTURE, `${f}.gz`))));
    const run = await runAudit({
      trusted: join(dir, 'trusted.csv'),
      incoming: join(dir, 'incoming.csv'),
      label: 'disease',
      id: 'id',
      source: 'source',
      labeler: 'labeler',
      time: 'time',
      threads: 1,
    });
    try {
      let q = 0;
      for (let i = 0; i < run.incoming.dataset.n; i++) q += run.quarantined[i] ? 1 : 0;
      expect(run.incoming.dataset.n).toBe(6000);
      const triggers = run.report.findings.filter((f) => f.rule === 'audit/trigger');
      expect(triggers.map((f) => f.message)).toEqual([]);
      expect(q / run.incoming.dataset.n).toBeLessThanOrEqual(0.002);
    } finally {
      run.source.close();
    }
  }, 120_000);
});
