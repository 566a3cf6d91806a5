/**
 * A 100-row trusted set and a real table whose labels mix by how its values combine (continents by year,
 * fertility, population and wealth): the trusted model is additive, fits its single values' label rates and
 * misreads their combinations, so its prediction for a combination must be worth only what it earns on
 * combinations. Before it was measured per form, this clean batch raised three high trigger findings and
 * quarantined 2.6% of its rows (fixture: test/fixtures/gapminder-clean/SOURCE.md).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { runAudit } from '../../../src/data/audit.js';
import { tmpDir } from '../helpers.js';

const FIXTURE = join(__dirname, '../../fixtures/gapminder-clean');

function expand(): string {
  const dir = tmpDir();
  for (const f of ['trusted.csv', 'incoming.csv'])
    writeFileSync(join(dir, f), gunzipSync(readFileSync(join(FIXTURE, `${f}.gz`))));
  return dir;
}

describe('a clean table whose labels mix by combination, against a 100-row trusted set', () => {
  it('raises no trigger and quarantines at most 0.2% of its rows', async () => {
    const dir = expand();
    const run = await runAudit({
      trusted: join(dir, 'trusted.csv'),
      incoming: join(dir, 'incoming.csv'),
      label: 'continent',
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
      const high = run.report.findings.filter((f) => f.severity === 'high' || f.severity === 'critical');
      expect(high.map((f) => f.message)).toEqual([]);
    } finally {
      run.source.close();
    }
  }, 120_000);
});
